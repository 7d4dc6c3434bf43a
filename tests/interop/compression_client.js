'use strict';
// The compression interop suite with socket.io-client 4.x: permessage-deflate
// over WebSocket (Node's `ws`, which offers it since the client's
// perMessageDeflate option is on by default, threshold 1024), and gzip/deflate
// of polling answers over the Fetch transport (Node's fetch sends
// Accept-Encoding and inflates; the default XHR transport never asks).
// Prints one JSON line per check: {"check": name, "ok": bool, "detail": ...}.
//
//   node compression_client.js --client 4 --transport websocket|polling --url http://127.0.0.1:PORT

const assert = require('node:assert');
const { ARGS, io, ask, next, check, run } = require('./suite');
// The engine.io-client socket.io-client 4.x uses (not sioc2's, at the top level).
const { Fetch } = require(require.resolve('engine.io-client', { paths: [require.resolve('sioc4')] }));

// What the server's polling answers said about their coding.
const codings = [];
const plainFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const res = await plainFetch(...args);
  codings.push(res.headers.get('content-encoding') || 'identity');
  return res;
};

// Text that compresses, but not to nothing.
function sample(size) {
  let text = '';
  for (let i = 0; text.length < size; i++) text += ((i * 7919) % 10007) + ',';
  return text.slice(0, size);
}

const ctx = {};

check('connect', async () => {
  const transports = ARGS.transport === 'polling' ? [Fetch] : ['websocket'];
  ctx.socket = io(ARGS.url, { forceNew: true, transports, upgrade: false, reconnection: false });
  await new Promise((resolve, reject) => {
    ctx.socket.once('connect', resolve);
    ctx.socket.once('connect_error', reject);
  });
});

check('big_echo', async () => {
  const text = sample(20000);
  assert.strictEqual(await ask(ctx.socket, 'cz_echo', text), text);
});

check('small_echo', async () => {
  assert.strictEqual(await ask(ctx.socket, 'cz_echo', 'hi'), 'hi');
});

check('big_from_server', async () => {
  const got = next(ctx.socket, 'cz_big');
  ctx.socket.emit('cz_send', 50000);
  const [text] = await got;
  assert.strictEqual(text, sample(50000));
});

check('binary_echo', async () => {
  const bytes = Buffer.from(sample(5000));
  const back = await ask(ctx.socket, 'cz_echo', bytes);
  assert.ok(Buffer.from(back).equals(bytes), 'binary payload changed');
});

// Last: what the transport agreed on or was answered with.
check('coding', async () => {
  if (ARGS.transport === 'polling') return [...new Set(codings)].sort();
  return ctx.socket.io.engine.transport.ws.extensions;
});

run(() => {
  if (ctx.socket) ctx.socket.close();
});
