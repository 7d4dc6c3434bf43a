'use strict';
// The operations interop suite with one official Socket.IO client: fetching
// sockets, room operations through the server, broadcasts that collect acks,
// a socket emit's timeout, disconnecting, volatile and local emits. Prints one
// JSON line per check: {"check": name, "ok": bool, "detail": ...}.
//
//   node ops_client.js --client 4|2 --transport polling|websocket --url http://127.0.0.1:PORT

const assert = require('node:assert');
const { ARGS, V2, io, bounded, ask, next, check, run } = require('./suite');

const opened = [];
// Runs share one server: each names its rooms apart.
const TAG = '-' + ARGS.client + ARGS.transport;
const CREW = 'crew' + TAG;
const DECK = 'deck' + TAG;
const FENCE = 'fence' + TAG;

// A connected socket named `name` (the server keeps the name in socket.data).
function join(name) {
  const opts = { forceNew: true, transports: [ARGS.transport], upgrade: false, reconnection: false };
  if (V2) opts.query = { name };
  else opts.auth = { name };
  const socket = io(ARGS.url, opts);
  opened.push(socket);
  socket.on('ops_vote', (room, answer) => answer(name)); // every socket answers broadcasts
  return bounded(new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  }), 'connect of ' + name);
}

const ctx = {};

check('fetch_sockets', async () => {
  ctx.a = await join('ann');
  ctx.b = await join('bob');
  ctx.c = await join('cy');
  await ask(ctx.a, 'ops_join', CREW);
  await ask(ctx.b, 'ops_join', CREW);
  const found = await ask(ctx.c, 'ops_fetch', CREW);
  assert.deepStrictEqual(found.map((s) => [s.id, s.name]), [[ctx.a.id, 'ann'], [ctx.b.id, 'bob']]);
  assert.deepStrictEqual(found[0].rooms, [ctx.a.id, CREW].sort());
  assert.ok(found.every((s) => s.has_headers), 'a fetched socket has no handshake headers');
  return found;
});

check('remote_socket_emit', async () => {
  const got = [next(ctx.a, 'ops_direct'), next(ctx.b, 'ops_direct')];
  assert.strictEqual(await ask(ctx.c, 'ops_remote_emit', CREW, { hi: 1 }), 2);
  assert.deepStrictEqual(await Promise.all(got), [[{ hi: 1 }], [{ hi: 1 }]]);
});

check('operator_join_leave', async () => {
  const seen = { a: [], b: [], c: [] };
  for (const k of ['a', 'b', 'c']) ctx[k].on('ops_msg', (m) => seen[k].push(m));
  await ask(ctx.c, 'ops_rooms_join', CREW, DECK); // everyone in crew joins deck
  await ask(ctx.c, 'ops_to', DECK, 'one');
  await ask(ctx.c, 'ops_rooms_leave', ctx.b.id, DECK); // bob alone leaves it
  await ask(ctx.c, 'ops_to', DECK, 'two');
  await ask(ctx.c, 'ops_close_room', DECK);
  await ask(ctx.c, 'ops_to', DECK, 'three');
  for (const k of ['a', 'b']) await ask(ctx[k], 'ops_join', FENCE); // a round trip flushes
  assert.deepStrictEqual(seen, { a: ['one', 'two'], b: ['one'], c: [] });
  return seen;
});

check('broadcast_call', async () => {
  const result = await ask(ctx.c, 'ops_call', CREW, 5);
  assert.deepStrictEqual(result, { timeout: false, replies: ['ann', 'bob'] });
});

check('broadcast_callback', async () => {
  const result = await ask(ctx.c, 'ops_emit_callback', CREW);
  assert.deepStrictEqual(result, { err: false, replies: ['ann', 'bob'] });
});

check('broadcast_call_timeout', async () => {
  const mute = await join('mute');
  mute.off('ops_vote'); // never answers
  await ask(mute, 'ops_join', CREW);
  const result = await ask(ctx.c, 'ops_call', CREW, 0.5);
  assert.deepStrictEqual(result, { timeout: true, replies: ['ann', 'bob'] });
  ctx.mute = mute;
});

check('socket_emit_timeout', async () => {
  const result = await ask(ctx.mute, 'ops_socket_timeout', 0.3);
  assert.deepStrictEqual(result, ['AckTimeout']);
});

check('server_side_emit', async () => {
  assert.deepStrictEqual(await ask(ctx.c, 'ops_server_side'), []);
});

check('volatile_and_local', async () => {
  const flags = [];
  ctx.c.on('ops_flag', (f) => flags.push(f));
  await ask(ctx.c, 'ops_volatile_local');
  await ask(ctx.c, 'ops_join', FENCE);
  if (ARGS.transport === 'websocket') {
    // An idle WebSocket is writable: nothing volatile is dropped.
    assert.deepStrictEqual(flags, ['socket volatile', 'operator volatile', 'local']);
  } else {
    // Over polling a volatile packet goes only to a parked GET: each arrives
    // at most once, in order; the local one always does.
    assert.ok(flags[flags.length - 1] === 'local' && new Set(flags).size === flags.length, String(flags));
  }
  return flags;
});

check('disconnect_sockets_and_disconnecting', async () => {
  const id = ctx.b.id;
  const gone = next(ctx.b, 'disconnect');
  await ask(ctx.c, 'ops_kick', ctx.b.id);
  const [reason] = await gone;
  assert.strictEqual(reason, 'io server disconnect');
  let left = null;
  for (let i = 0; i < 100 && left == null; i++) {
    left = await ask(ctx.c, 'ops_left', id);
    if (left == null) await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepStrictEqual(left, { rooms: [id, CREW, FENCE].sort(), reason: 'server namespace disconnect' });
  return left;
});

check('client_disconnect_reason', async () => {
  const id = ctx.a.id;
  ctx.a.disconnect();
  let left = null;
  for (let i = 0; i < 100 && left == null; i++) {
    left = await ask(ctx.c, 'ops_left', id);
    if (left == null) await new Promise((r) => setTimeout(r, 20));
  }
  assert.strictEqual(left.reason, 'client namespace disconnect');
  assert.ok(left.rooms.includes(CREW), 'the disconnecting handler saw no rooms');
  return left;
});

run(() => {
  for (const socket of opened) socket.close();
});
