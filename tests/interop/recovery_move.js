'use strict';
// Connection state recovery across nodes with socket.io-client 4.x: a socket
// on node A loses its transport, both nodes broadcast, and its manager comes
// back to node B: same id, rooms and data, and what it missed, in order.
// Prints one JSON line per check: {"check": name, "ok": bool, "detail": ...}.
//
//   node recovery_move.js --client 4 --a http://127.0.0.1:PORT_A --b http://127.0.0.1:PORT_B

const assert = require('node:assert');
const { ARGS, io, ask, check, run } = require('./suite');
const { connected, collect, until, lose, comesBack } = require('./recovery_steps');

const opened = [];

function open(url) {
  const socket = io(url, { forceNew: true, transports: ['websocket'], reconnection: false });
  opened.push(socket);
  return socket;
}

check('moved_from_a_to_b_with_missed_events', async () => {
  // A watcher in the room on each node: a broadcast it got is in Redis's
  // stream, written before it was published.
  const onA = await connected(open(ARGS.a));
  const onB = await connected(open(ARGS.b));
  const heardA = collect(onA);
  const heardB = collect(onB);
  await ask(onA, 'rec_join', 'crew', 'watcher');
  await ask(onB, 'rec_join', 'crew', 'watcher');

  const victim = await connected(open(ARGS.a));
  assert.strictEqual(victim.recovered, false);
  const got = collect(victim);
  await ask(victim, 'rec_join', 'crew', 'vee');
  await ask(onA, 'rec_send', 'crew', 'before');
  await until(() => got.length === 1 && heardB.length === 1, 'the first broadcast');
  const id = victim.id;
  await lose(victim, onA);

  await ask(onA, 'rec_send', 'crew', 1);
  await until(() => heardB.length === 2, 'node B heard 1');
  await ask(onB, 'rec_send', 'crew', 2);
  await until(() => heardA.length === 3, 'node A heard 2');
  await ask(onA, 'rec_send', 'elsewhere', 'not for it');
  await ask(onB, 'rec_send', null, 3); // to the whole namespace
  await until(() => heardA.length === 4, 'node A heard 3');

  victim.io.uri = ARGS.b; // the same manager, now to node B
  await comesBack(victim, id, got, ['before', 1, 2, 3]);
  // Every node stamps a broadcast with the offset its publisher gave it.
  assert.deepStrictEqual(heardB.map((args) => args[1]), heardA.map((args) => args[1]));

  const me = await ask(victim, 'rec_whoami');
  assert.deepStrictEqual(me.rooms, [id, 'crew'].sort());
  assert.deepStrictEqual(me.data, { name: 'vee' });
  assert.strictEqual(me.recovered, true);
  await ask(onA, 'rec_send', 'crew', 'live');
  await until(() => got.length === 5, 'a live broadcast from node A after the move');

  // A session is restored once: its pid again gets a fresh socket.
  const again = open(ARGS.b);
  again.auth = { pid: victim._pid, offset: got[got.length - 1][1] };
  await connected(again);
  assert.strictEqual(again.recovered, false, 'a used-up session was restored');
  return got;
});

run(() => {
  for (const socket of opened) socket.close();
});
