'use strict';
// The steps the recovery scenarios share (recovery_client.js: one server;
// recovery_move.js: a client moving between two nodes), against the events
// of recovery_app.py.

const assert = require('node:assert');
const { STEP_MS, bounded, ask } = require('./suite');

function connected(socket) {
  return bounded(new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  }), 'connect');
}

// Collects every rec_msg a socket gets: [value, ...the rest of its arguments].
function collect(socket) {
  const got = [];
  socket.on('rec_msg', (...args) => got.push(args));
  return got;
}

async function until(check, what) {
  for (let i = 0; i < STEP_MS / 10 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

// Closes the victim's transport (not the socket) and waits until the server
// has let the socket go, so that what follows is missed for sure.
async function lose(victim, watcher) {
  const gone = bounded(new Promise((resolve) => victim.once('disconnect', resolve)), 'disconnect');
  const id = victim.id;
  victim.io.engine.close();
  await gone;
  assert.strictEqual(await ask(watcher, 'rec_gone', id), true, 'the server kept the socket');
}

// Reconnects the victim and checks it got its socket back (id ``id``) and,
// in ``got``, exactly the values ``expected``, each ending with its own offset.
async function comesBack(victim, id, got, expected) {
  victim.connect();
  await connected(victim);
  assert.strictEqual(victim.recovered, true, 'socket.recovered');
  assert.strictEqual(victim.id, id, 'the socket id changed');
  await until(() => got.length === expected.length, 'missed events: ' + JSON.stringify(got));
  assert.deepStrictEqual(got.map((args) => args[0]), expected);
  assert.ok(got.every((args) => args.length === 2 && typeof args[1] === 'string'), JSON.stringify(got));
  assert.strictEqual(new Set(got.map((args) => args[1])).size, expected.length);
}

module.exports = { connected, collect, until, lose, comesBack };
