'use strict';
// The refusals interop suite with one official Socket.IO client: a handshake
// refused by allow_request or by its Origin (403), a payload nested past
// max_depth, and the server-wide bound on dynamic namespaces. Prints one JSON
// line per check: {"check": name, "ok": bool, "detail": ...}.
//
//   node refusals_client.js --client 4|2 --transport polling|websocket --url http://127.0.0.1:PORT

const assert = require('node:assert');
const { ARGS, V2, STEP_MS, io, bounded, ask, check, run } = require('./suite');

const RUN = ARGS.client + ARGS.transport;
const MAX_DEPTH = 64; // the server's default
const opened = new Set();
const outcomes = new Map();

function open(nsp, { token = 'good', origin } = {}) {
  const opts = {
    forceNew: true,
    transports: [ARGS.transport],
    upgrade: false,
    reconnection: false,
    query: { token },
  };
  if (origin) opts.extraHeaders = { origin };
  const socket = io(ARGS.url + nsp, opts);
  opened.add(socket);
  // Listened for at once: a socket opened beside another may connect while
  // the scenario still awaits the first one's outcome.
  outcomes.set(socket, new Promise((resolve) => {
    socket.once('connect', () => resolve({ connected: true }));
    socket.once('connect_error', (err) => resolve(refusal(err)));
    if (V2) socket.once('error', (err) => resolve(refusal(err)));
  }));
  return socket;
}

// The socket once connected, or what refused it: {status} for an HTTP
// refusal, {message} for a CONNECT_ERROR (an ERROR packet in 2.x).
function outcome(socket) {
  return bounded(outcomes.get(socket), 'connect or refusal');
}

function refusal(err) {
  if (typeof err === 'string') return { message: err };
  const description = err && err.description;
  if (typeof description === 'number') return { status: description };
  // The WebSocket transport: ws says "Unexpected server response: 403".
  const text = String((description && (description.message || description.error)) || (err && err.message));
  const status = /\b(\d{3})\b/.exec(text);
  return status ? { status: Number(status[1]) } : { message: err.message };
}

function close(socket) {
  socket.close();
  opened.delete(socket);
}

function nested(depth, leaf) {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

// Ask until `predicate(reply)` holds (the server removes a namespace when it
// has heard the socket go, which takes a round trip of its own).
async function until(socket, event, predicate) {
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    const reply = await ask(socket, event);
    if (predicate(reply)) return reply;
    if (Date.now() > deadline) throw new Error(event + ' never answered as expected: ' + JSON.stringify(reply));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const ctx = {};

check('allow_request_refuses', async () => {
  const socket = open('/', { token: 'bad' });
  const result = await outcome(socket);
  close(socket);
  assert.deepStrictEqual(result, { status: 403 });
});

check('origin_refused', async () => {
  const socket = open('/', { origin: 'http://evil.example' });
  const result = await outcome(socket);
  close(socket);
  assert.deepStrictEqual(result, { status: 403 });
});

check('allow_request_admits', async () => {
  ctx.main = open('/', { origin: 'http://app.example' });
  assert.deepStrictEqual(await outcome(ctx.main), { connected: true });
});

check('nesting_within_max_depth_echoes', async () => {
  // ["rf_echo", payload]: the event's array is the first level.
  const payload = nested(MAX_DEPTH - 2, 'leaf');
  assert.deepStrictEqual(await ask(ctx.main, 'rf_echo', payload), payload);
});

check('nesting_past_max_depth_closes_only_that_connection', async () => {
  const parseErrors = (reasons) => reasons.filter((reason) => reason === 'parse error').length;
  const before = parseErrors(await ask(ctx.main, 'rf_closes'));
  const victim = open('/');
  assert.deepStrictEqual(await outcome(victim), { connected: true });
  const gone = bounded(new Promise((resolve) => victim.once('disconnect', resolve)), 'disconnect');
  victim.emit('rf_echo', nested(MAX_DEPTH, 'leaf'));
  await gone;
  close(victim);
  await until(ctx.main, 'rf_closes', (reasons) => parseErrors(reasons) === before + 1);
  assert.deepStrictEqual(await ask(ctx.main, 'rf_echo', 'still here'), 'still here');
});

check('dynamic_namespaces_are_bounded', async () => {
  await until(ctx.main, 'rf_children', (names) => names.length === 0);
  const names = ['a', 'b', 'c'].map((x) => '/rf-' + RUN + '-' + x);
  const [a, b] = [open(names[0]), open(names[1])];
  assert.deepStrictEqual(await outcome(a), { connected: true });
  assert.deepStrictEqual(await outcome(b), { connected: true });
  const c = open(names[2]);
  assert.deepStrictEqual(await outcome(c), { message: 'Too many namespaces' });
  close(c);
  ctx.held = [a, b];
});

check('dynamic_namespace_goes_with_its_last_socket', async () => {
  const [a, b] = ctx.held;
  const names = ['a', 'b', 'c'].map((x) => '/rf-' + RUN + '-' + x);
  close(a);
  await until(ctx.main, 'rf_children', (held) => held.length === 1 && held[0] === names[1]);
  const c = open(names[2]);
  assert.deepStrictEqual(await outcome(c), { connected: true });
  close(b);
  close(c);
  return await until(ctx.main, 'rf_children', (held) => held.length === 0);
});

run(() => {
  for (const socket of opened) socket.close();
});
