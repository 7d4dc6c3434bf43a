'use strict';
// One official socket.io-client 4.x: asks the server to emit from a plain
// thread of its own and prints what arrives, one JSON line each, then exits.
//
//   node thread_client.js --url http://127.0.0.1:PORT --transport websocket|polling

const path = require('node:path');
const { io } = require(path.join(__dirname, '..', 'interop', 'node_modules', 'sioc4'));

const ARGS = {};
for (let i = 2; i < process.argv.length; i += 2) ARGS[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const say = (line) => process.stdout.write(JSON.stringify(line) + '\n');

const socket = io(ARGS.url, { transports: [ARGS.transport], upgrade: false, reconnection: false });
socket.on('connect', () => socket.emit('start'));
socket.on('from-thread', (via) => say({ via }));
socket.on('question', (text, ack) => ack(text === '2+2' ? 4 : 'what?'));
socket.on('answer', (reply) => say({ answer: reply }));
socket.on('disconnect', (reason) => {
  say({ disconnect: reason });
  process.exit(0);
});
socket.on('connect_error', (err) => say({ error: String(err) }));
// Only a client that hangs ends here: the server's heartbeat (60 s in the
// test) is far away, so a stalled loop cannot deliver the thread's emits.
setTimeout(() => {
  say({ error: 'gave up' });
  process.exit(1);
}, 20000);
