'use strict';
// Runs the whole interop scenario list with one official Socket.IO client
// against a server that runs the interop test app, and prints one JSON line
// per check: {"check": name, "ok": bool, "detail": ...}.
//
//   node client.js --client 1|2|3|4 --transport polling|websocket|upgrade --url http://127.0.0.1:PORT
//
// "4" and "3" are socket.io-client 4.x and 3.x (Engine.IO 4, Socket.IO 5); "2"
// and "1" are socket.io-client 2.x and 1.7 (Engine.IO 3, Socket.IO 4), which
// have no `auth`, so their credentials travel in the query string.

const assert = require('node:assert');

const STEP_MS = 5000; // liveness bound for one awaited reply, not a speed check
const CHECK_MS = 15000; // liveness bound for one whole check

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    out[argv[i].replace(/^--/, '')] = argv[i + 1];
  }
  for (const key of ['client', 'transport', 'url']) {
    if (!out[key]) throw new Error('missing --' + key);
  }
  return out;
}

const ARGS = parseArgs(process.argv.slice(2));
// 1.x and 2.x speak Engine.IO 3 / Socket.IO 4; 3.x and 4.x Engine.IO 4 / Socket.IO 5.
const V2 = ARGS.client === '1' || ARGS.client === '2';
const io = require({ 1: 'sioc1', 2: 'sioc2', 3: 'sioc3', 4: 'sioc4' }[ARGS.client]);
const EXPECTED_TRANSPORT = ARGS.transport === 'polling' ? 'polling' : 'websocket';
const TRANSPORTS = {
  polling: ['polling'],
  websocket: ['websocket'],
  upgrade: ['polling', 'websocket'],
}[ARGS.transport];
if (!TRANSPORTS) throw new Error('unknown transport mode ' + ARGS.transport);

const GOOD = { token: 'secret', user: 'alice' };
const BAD = { token: 'bad', user: 'mallory' };
const opened = new Set();

function report(check, ok, detail) {
  process.stdout.write(JSON.stringify({ check, ok, detail: detail === undefined ? null : detail }) + '\n');
}

function options(creds, reconnection) {
  const opts = {
    forceNew: true, // one Engine.IO connection per socket, never a cached Manager
    transports: TRANSPORTS,
    upgrade: ARGS.transport === 'upgrade',
    reconnection: Boolean(reconnection),
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
    randomizationFactor: 0,
    timeout: STEP_MS,
  };
  if (creds) {
    if (V2) opts.query = { token: creds.token, user: creds.user };
    else opts.auth = { token: creds.token, user: creds.user };
  }
  return opts;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('no ' + what + ' within ' + ms + ' ms')), ms);
  });
  const raced = Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  // A failed check may leave a pending wait behind; its rejection is then
  // nobody's business, and must not take the whole run down.
  raced.catch(() => {});
  return raced;
}

function once(socket, event, ms) {
  return withTimeout(
    new Promise((resolve) => socket.once(event, (...args) => resolve(args))),
    ms || STEP_MS,
    "'" + event + "' event",
  );
}

function ack(socket, event, ...args) {
  return withTimeout(
    new Promise((resolve) => socket.emit(event, ...args, (...reply) => resolve(reply))),
    STEP_MS,
    "ack of '" + event + "'",
  );
}

// Resolves with the connected socket; rejects with the refusal the client
// surfaced (connect_error in 4.x, an 'error' event in 2.x).
function connect(nsp, creds, reconnection) {
  const socket = io(ARGS.url + nsp, options(creds, reconnection));
  opened.add(socket);
  const result = new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(refusal(err)));
    if (V2) socket.once('error', (err) => reject(refusal(err)));
  });
  return withTimeout(result, STEP_MS, 'connect to ' + nsp);
}

function refusal(err) {
  const out = new Error('refused');
  out.refusal = err instanceof Error ? { message: err.message, data: err.data } : err;
  return out;
}

function close(socket) {
  socket.close();
  opened.delete(socket);
}

// 2.x may hand binary over as ArrayBuffer or a typed array; compare as Buffer.
function normalize(value) {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalize(v);
    return out;
  }
  return value;
}

function bytes(...values) {
  return Buffer.from(values);
}

// Shared state: the main socket and what it was told about itself.
const ctx = { main: null, who: null };

const checks = [];
function check(name, fn) {
  checks.push({ name, fn });
}

check('connect', async () => {
  ctx.main = await connect('/', GOOD);
  [ctx.who] = await ack(ctx.main, 'whoami');
  assert.strictEqual(typeof ctx.main.id, 'string');
  assert.ok(ctx.main.id.length > 0);
  return { id: ctx.main.id };
});

check('socket_id', async () => {
  assert.strictEqual(ctx.who.id, ctx.main.id, 'server and client disagree on the socket id');
  return ctx.who.id;
});

check('protocol', async () => {
  assert.strictEqual(ctx.who.protocol, V2 ? 3 : 4);
  return ctx.who.protocol;
});

check('auth_accepted', async () => {
  assert.strictEqual(ctx.who.user, GOOD.user);
  return ctx.who.user;
});

// socket.io-client 1.x over polling wraps text in a UTF-8 layer of its own
// that Engine.IO 3 servers since engine.io 3.x do not undo (docs/protocol-notes.md):
// non-ASCII round-trips only while both ways use the same transport, which an
// upgrade does not promise. WebSocket alone carries it intact.
const ECHO_TEXT = ARGS.client === '1' && ARGS.transport !== 'websocket'
  ? 'hello, plain ASCII'
  : 'h\u00e9llo \u2713 \ud83c\udf89';

check('event_echo', async () => {
  const sent = ['hello', { n: 1, list: [1, 'two', null, true, 2.5] }, ECHO_TEXT];
  const got = once(ctx.main, 'echo');
  ctx.main.emit('echo', ...sent);
  assert.deepStrictEqual(await got, sent);
});

check('ack_return_value', async () => {
  const reply = await ack(ctx.main, 'sum', [1, 2, 3, 4]);
  assert.deepStrictEqual(reply, [10]);
});

check('ack_multiple_args', async () => {
  const reply = await ack(ctx.main, 'multi');
  assert.deepStrictEqual(reply, ['a', 2, { k: 'v' }]);
});

check('ack_server_to_client', async () => {
  const asked = [];
  const handler = (data, answer) => {
    asked.push(data);
    answer({ answer: data.n * 2 });
  };
  ctx.main.on('question', handler);
  try {
    const reply = await ack(ctx.main, 'ask_me');
    assert.deepStrictEqual(asked, [{ n: 21 }]);
    assert.deepStrictEqual(reply, [{ reply: { answer: 42 } }]);
  } finally {
    ctx.main.off('question', handler);
  }
});

const CLIENT_BLOB = bytes(0, 1, 2, 253, 254, 255);
const SERVER_BLOB = bytes(0, 255, 1, 254);
const SERVER_PUSH = bytes(222, 173, 190, 239);

check('binary_to_server', async () => {
  const sent = { a: { b: [1, CLIENT_BLOB, { c: CLIENT_BLOB }] }, s: 'text' };
  const push = once(ctx.main, 'binary_push');
  const [reply] = await ack(ctx.main, 'binary', sent);
  ctx.binaryReply = normalize(reply);
  ctx.binaryPush = push;
  assert.deepStrictEqual(ctx.binaryReply.types, { a: { b: ['int', 'bytes', { c: 'bytes' }] }, s: 'str' });
  assert.deepStrictEqual(ctx.binaryReply.echo, sent);
});

check('binary_from_server_ack', async () => {
  assert.deepStrictEqual(ctx.binaryReply.server, { deep: [{ blob: SERVER_BLOB }], n: 7 });
});

check('binary_from_server_event', async () => {
  const args = normalize(await ctx.binaryPush);
  assert.deepStrictEqual(args, [{ nested: { list: [1, SERVER_PUSH] } }, SERVER_BLOB]);
});

check('namespace_admin', async () => {
  const admin = await connect('/admin', GOOD);
  try {
    const [who] = await ack(admin, 'whoami');
    assert.strictEqual(who.nsp, '/admin');
    assert.strictEqual(who.user, GOOD.user);
    const [root] = await ack(ctx.main, 'whoami');
    assert.strictEqual(root.nsp, '/');
    return who.nsp;
  } finally {
    close(admin);
  }
});

check('namespace_unknown', async () => {
  const err = await connect('/nope', GOOD).then(
    (socket) => {
      close(socket);
      throw new Error('connected to a namespace the server does not have');
    },
    (e) => e,
  );
  assert.ok(err.refusal !== undefined, err.message);
  const message = typeof err.refusal === 'string' ? err.refusal : err.refusal.message;
  assert.strictEqual(message, 'Invalid namespace');
  return err.refusal;
});

check('auth_refused', async () => {
  const err = await connect('/', BAD).then(
    (socket) => {
      close(socket);
      throw new Error('connected with a bad token');
    },
    (e) => e,
  );
  assert.ok(err.refusal !== undefined, err.message);
  const refusal = err.refusal;
  if (V2) {
    // Socket.IO v4 has no CONNECT_ERROR: the refusal is an ERROR packet that
    // carries either the bare message or {message, data}.
    if (typeof refusal === 'string') {
      assert.strictEqual(refusal, 'not authorized');
    } else {
      assert.strictEqual(refusal.message, 'not authorized');
      assert.deepStrictEqual(refusal.data, { reason: 'bad token' });
    }
  } else {
    assert.strictEqual(refusal.message, 'not authorized');
    assert.deepStrictEqual(refusal.data, { reason: 'bad token' });
  }
  return refusal;
});

// Rooms: A and B join, C stays out; B later leaves. Every broadcast is acked
// to A before the next one, and a final round trip on each socket ("fence")
// flushes anything still queued, so the received lists are final.
const rooms = {};

async function runRooms() {
  const sockets = {};
  const got = { A: [], B: [], C: [] };
  try {
    for (const name of ['A', 'B', 'C']) {
      sockets[name] = await connect('/', GOOD);
      sockets[name].on('room_msg', (msg) => got[name].push(msg));
    }
    assert.deepStrictEqual(await ack(sockets.A, 'join', 'r1'), [true]);
    assert.deepStrictEqual(await ack(sockets.B, 'join', 'r1'), [true]);
    await ack(sockets.A, 'to_room', { room: 'r1', msg: 'one' });
    await ack(sockets.A, 'to_room_others', { room: 'r1', msg: 'two' });
    assert.deepStrictEqual(await ack(sockets.B, 'leave', 'r1'), [true]);
    await ack(sockets.A, 'to_room', { room: 'r1', msg: 'three' });
    for (const name of ['A', 'B', 'C']) await ack(sockets[name], 'fence');
    return got;
  } finally {
    for (const socket of Object.values(sockets)) close(socket);
  }
}

check('rooms', async () => {
  rooms.got = await runRooms();
  assert.deepStrictEqual(rooms.got.C, [], 'a socket outside the room got a room message');
  assert.ok(rooms.got.A.includes('one') && rooms.got.B.includes('one'), 'a member missed a room message');
  return rooms.got;
});

check('rooms_skip_sender', async () => {
  assert.ok(rooms.got, 'rooms scenario did not run');
  assert.ok(!rooms.got.A.includes('two'), 'the skipped sender got the message');
  assert.ok(rooms.got.B.includes('two'), 'the other member missed the message');
});

check('rooms_leave', async () => {
  assert.ok(rooms.got, 'rooms scenario did not run');
  assert.deepStrictEqual(rooms.got.A, ['one', 'three']);
  assert.deepStrictEqual(rooms.got.B, ['one', 'two']);
});

check('server_disconnect', async () => {
  const socket = await connect('/', GOOD, true);
  try {
    const gone = once(socket, 'disconnect');
    socket.emit('kick_me');
    const [reason] = await gone;
    assert.strictEqual(reason, 'io server disconnect');
    return reason;
  } finally {
    close(socket);
  }
});

// The server records why each socket left; its disconnect handler runs on
// its own schedule, so ask until the answer is there (bounded).
check('client_disconnect', async () => {
  const socket = await connect('/', GOOD);
  const id = socket.id;
  close(socket);
  // "Not yet" is null, or no ack argument at all when the server's handler
  // returns None.
  let reason = null;
  for (let i = 0; i < 100 && reason == null; i++) {
    [reason] = await ack(ctx.main, 'disconnect_reason', id);
    if (reason == null) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.strictEqual(reason, 'client namespace disconnect');
  return reason;
});

check('reconnect', async () => {
  const socket = await connect('/', GOOD, true);
  try {
    const firstId = socket.id;
    const gone = once(socket, 'disconnect');
    socket.emit('drop_me');
    const [reason] = await gone;
    // Listen for the new connect right away: the reconnection may already be
    // under way when the disconnect is reported.
    const back = once(socket, 'connect', CHECK_MS - 2 * STEP_MS);
    assert.ok(reason === 'transport close' || reason === 'transport error', 'reason: ' + reason);
    await back;
    assert.notStrictEqual(socket.id, firstId, 'the reconnected socket kept its old id');
    const [who] = await ack(socket, 'whoami');
    assert.strictEqual(who.id, socket.id);
    return { reason, first: firstId, second: socket.id };
  } finally {
    close(socket);
  }
});

// The order checks use sockets of their own, so that in "upgrade" mode the
// burst crosses the upgrade, and a client that gives up on a long payload
// does not take the main socket with it.
check('order_to_server', async () => {
  const socket = await connect('/', GOOD);
  try {
    for (let i = 0; i < 100; i++) socket.emit('seq', i);
    const [seen] = await ack(socket, 'seq_report');
    assert.deepStrictEqual(seen, Array.from({ length: 100 }, (_, i) => i));
  } finally {
    close(socket);
  }
});

check('order_to_client', async () => {
  const socket = await connect('/', GOOD);
  try {
    const items = [];
    socket.on('burst_item', (i) => items.push(i));
    const end = once(socket, 'burst_end');
    socket.emit('burst', 100);
    assert.deepStrictEqual(await end, [100]);
    assert.deepStrictEqual(items, Array.from({ length: 100 }, (_, i) => i));
  } finally {
    close(socket);
  }
});

// Last, so that in "upgrade" mode the checks above ran while the upgrade was
// under way; here we wait for it to finish.
check('transport', async () => {
  const engine = ctx.main.io.engine;
  if (engine.transport.name !== EXPECTED_TRANSPORT) {
    await withTimeout(new Promise((resolve) => engine.once('upgrade', resolve)), STEP_MS, 'upgrade');
  }
  assert.strictEqual(engine.transport.name, EXPECTED_TRANSPORT);
  const [who] = await ack(ctx.main, 'whoami');
  assert.strictEqual(who.transport, EXPECTED_TRANSPORT, 'the server sees another transport');
  return who.transport;
});

function failure(err) {
  if (err instanceof assert.AssertionError) {
    return { error: err.message.split('\n')[0], actual: err.actual, expected: err.expected };
  }
  if (err && err.refusal !== undefined) return { error: 'connection failed', refusal: err.refusal };
  return err && err.message ? err.message : String(err);
}

async function main() {
  let firstFailed = false;
  for (const { name, fn } of checks) {
    if (firstFailed) {
      // Without a first connection every later check would only wait out
      // its own timeout.
      report(name, false, 'not run: the first connection failed');
      continue;
    }
    try {
      const detail = await withTimeout(Promise.resolve().then(fn), CHECK_MS, 'end of check');
      report(name, true, detail);
    } catch (err) {
      report(name, false, failure(err));
      firstFailed = name === 'connect';
    }
  }
  for (const socket of opened) socket.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(String(err && err.stack) + '\n');
    process.exit(1);
  },
);
