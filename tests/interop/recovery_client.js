'use strict';
// Connection state recovery with one official Socket.IO client: a socket
// whose transport is closed while the server broadcasts comes back with the
// same id, rooms and data and gets what it missed, in order (4.x); a
// session over its cap gets a fresh socket; 2.x clients have no recovery.
// Prints one JSON line per check: {"check": name, "ok": bool, "detail": ...}.
//
//   node recovery_client.js --client 4|2 --transport polling|websocket --url http://127.0.0.1:PORT

const assert = require('node:assert');
const { ARGS, V2, io, ask, check, run } = require('./suite');
const { connected, collect, until, lose, comesBack } = require('./recovery_steps');

const opened = [];
const TAG = '-' + ARGS.client + ARGS.transport; // runs share the servers: rooms apart

function open(path) {
  const opts = { forceNew: true, transports: [ARGS.transport], upgrade: false, reconnection: false, path };
  const socket = io(ARGS.url, opts);
  opened.push(socket);
  return socket;
}

const ctx = {};

if (!V2) {
  check('recovered_with_missed_events', async () => {
    const room = 'crew' + TAG;
    const watcher = await connected(open('/socket.io'));
    const victim = await connected(open('/socket.io'));
    assert.strictEqual(victim.recovered, false);
    const got = collect(victim);
    await ask(victim, 'rec_join', room, 'vee');
    await ask(watcher, 'rec_send', room, 'before');
    await until(() => got.length === 1, 'the first broadcast did not arrive');
    const id = victim.id;
    await lose(victim, watcher);
    await ask(watcher, 'rec_send', room, 1);
    await ask(watcher, 'rec_send', 'elsewhere' + TAG, 'not for it');
    await ask(watcher, 'rec_send', room, 2);
    await ask(watcher, 'rec_send', null, 3); // to the whole namespace
    await comesBack(victim, id, got, ['before', 1, 2, 3]);
    ctx.victim = victim;
    ctx.watcher = watcher;
    ctx.room = room;
    return got;
  });

  check('rooms_and_data_restored', async () => {
    const me = await ask(ctx.victim, 'rec_whoami');
    assert.deepStrictEqual(me.rooms, [ctx.victim.id, ctx.room].sort());
    assert.deepStrictEqual(me.data, { name: 'vee' });
    assert.strictEqual(me.recovered, true);
    // The connect handler ran again, as Node's "connection" event does.
    assert.deepStrictEqual(me.connects, [false, true]);
    const got = collect(ctx.victim);
    await ask(ctx.watcher, 'rec_send', ctx.room, 'live');
    await until(() => got.length === 1, 'a broadcast to the restored room did not arrive');
    return me;
  });

  check('recovered_twice', async () => {
    const got = collect(ctx.victim);
    await lose(ctx.victim, ctx.watcher);
    await ask(ctx.watcher, 'rec_send', ctx.room, 'again');
    ctx.victim.connect();
    await connected(ctx.victim);
    assert.strictEqual(ctx.victim.recovered, true);
    await until(() => got.length === 1, 'missed: ' + JSON.stringify(got));
    assert.strictEqual(got[0][0], 'again');
  });

  check('over_the_cap_gets_a_fresh_socket', async () => {
    const room = 'capped' + TAG;
    const watcher = await connected(open('/capped'));
    const victim = await connected(open('/capped'));
    const got = collect(victim);
    await ask(victim, 'rec_join', room, 'cap');
    const id = victim.id;
    await lose(victim, watcher);
    for (const n of [1, 2, 3]) await ask(watcher, 'rec_send', room, n); // the session keeps 2
    victim.connect();
    await connected(victim);
    assert.strictEqual(victim.recovered, false, 'recovered over the cap');
    assert.notStrictEqual(victim.id, id);
    const me = await ask(victim, 'rec_whoami');
    assert.deepStrictEqual(me.rooms, [victim.id]);
    assert.deepStrictEqual(got, []);
    return me;
  });
} else {
  check('no_recovery_on_socket_io_4', async () => {
    const watcher = await connected(open('/socket.io'));
    const victim = await connected(open('/socket.io'));
    const before = await ask(victim, 'rec_whoami');
    assert.strictEqual(before.has_pid, false);
    await ask(victim, 'rec_join', 'old' + TAG, 'two');
    await lose(victim, watcher);
    victim.connect();
    await connected(victim);
    const after = await ask(victim, 'rec_whoami');
    assert.strictEqual(after.recovered, false);
    assert.deepStrictEqual(after.rooms, [after.id]);
    assert.deepStrictEqual(after.data, {});
    return after;
  });
}

run(() => {
  for (const socket of opened) socket.close();
});
