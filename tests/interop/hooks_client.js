'use strict';
// The hooks interop suite with one official Socket.IO client: the server's
// catch-all listeners both ways, @sio.event and a socket.use middleware that
// refuses one event. Prints one JSON line per check:
// {"check": name, "ok": bool, "detail": ...}.
//
//   node hooks_client.js --client 4|2 --transport polling|websocket --url http://127.0.0.1:PORT

const assert = require('node:assert');
const { ARGS, io, bounded, next, check, run } = require('./suite');

const ROOM = 'hooks-' + ARGS.client + ARGS.transport;

// Every ack argument of `event`.
function ask(socket, event, ...args) {
  return bounded(new Promise((resolve) => socket.emit(event, ...args, (...reply) => resolve(reply))), "ack of '" + event + "'");
}

const ctx = {};

check('event_by_name', async () => {
  const opts = { forceNew: true, transports: [ARGS.transport], upgrade: false, reconnection: false };
  ctx.socket = io(ARGS.url, opts);
  await bounded(new Promise((resolve, reject) => {
    ctx.socket.once('connect', resolve);
    ctx.socket.once('connect_error', reject);
  }), 'connect');
  assert.deepStrictEqual(await ask(ctx.socket, 'hk_named', 21), [42]);
});

check('on_any_incoming', async () => {
  ctx.socket.emit('hk_unhandled', 'a', { b: 1 });
  const seen = await ask(ctx.socket, 'hk_seen_incoming');
  assert.deepStrictEqual(seen, [[['hk_named', 21], ['hk_unhandled', 'a', { b: 1 }]]]);
});

check('on_any_outgoing', async () => {
  const got = [next(ctx.socket, 'hk_direct'), next(ctx.socket, 'hk_room')];
  assert.deepStrictEqual(await ask(ctx.socket, 'hk_send', ROOM), [true]);
  await Promise.all(got);
  const seen = await ask(ctx.socket, 'hk_seen_outgoing');
  assert.deepStrictEqual(seen, [[['hk_direct', 1], ['hk_room', { to: ROOM }, '0102']]]);
});

check('middleware_changes_arguments', async () => {
  assert.deepStrictEqual(await ask(ctx.socket, 'hk_checked', 'x'), [['x', 'checked']]);
});

check('middleware_refuses', async () => {
  const refused = next(ctx.socket, 'hk_refused');
  let answered = false;
  ctx.socket.emit('hk_forbidden', () => { answered = true; });
  assert.deepStrictEqual(await refused, ['not allowed', { event: 'hk_forbidden' }]);
  // The refused event's ack never comes: a later event's ack arrives first.
  assert.deepStrictEqual(await ask(ctx.socket, 'hk_named', 1), [2]);
  assert.strictEqual(answered, false, 'the refused event was answered');
  const seen = await ask(ctx.socket, 'hk_seen_incoming');
  assert.ok(seen[0].some((e) => e[0] === 'hk_forbidden'), 'on_any did not see the refused event');
});

run(() => {
  if (ctx.socket) ctx.socket.close();
});
