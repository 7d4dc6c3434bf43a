'use strict';
// One official socket.io-client 4.x behind a balancer that sends each new
// connection to the first node up: it reports which node answers, every
// disconnect reason, and the node it reconnects to. One JSON line each.
//
//   node drain_client.js --url http://127.0.0.1:PORT --transport websocket|polling

const path = require('node:path');
const { io } = require(path.join(__dirname, '..', 'interop', 'node_modules', 'sioc4'));

const ARGS = {};
for (let i = 2; i < process.argv.length; i += 2) ARGS[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const say = (line) => process.stdout.write(JSON.stringify(line) + '\n');

const socket = io(ARGS.url, {
  transports: [ARGS.transport],
  upgrade: false,
  reconnectionDelay: 100,
  reconnectionDelayMax: 200,
  randomizationFactor: 0,
});
let connects = 0;
socket.on('connect', () => {
  connects += 1;
  socket.emit('whoami', (node) => {
    say({ node, connects });
    if (connects === 1) socket.emit('slow');
    else {
      socket.close();
      process.exit(0);
    }
  });
});
socket.on('disconnect', (reason) => say({ disconnect: reason }));
setTimeout(() => {
  say({ error: 'gave up' });
  process.exit(1);
}, 30000);
