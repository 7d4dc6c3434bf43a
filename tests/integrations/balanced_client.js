'use strict';
// One official socket.io-client 4.x through a balancer: ten acknowledged
// events, then one JSON line with the nodes that answered and the transport
// it ended on.
//
//   node balanced_client.js --url http://127.0.0.1:PORT --transports polling[,websocket]

const path = require('node:path');
const { io } = require(path.join(__dirname, '..', 'interop', 'node_modules', 'sioc4'));

const ARGS = {};
for (let i = 2; i < process.argv.length; i += 2) ARGS[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const transports = ARGS.transports.split(',');
const socket = io(ARGS.url, { transports, reconnection: false });
const fail = (why) => {
  process.stdout.write(JSON.stringify({ error: String(why) }) + '\n');
  process.exit(1);
};
setTimeout(() => fail('no answer within 20 s'), 20000);
socket.on('connect_error', fail);
socket.on('connect', async () => {
  const nodes = [];
  for (let i = 0; i < 10; i++) {
    nodes.push(await socket.timeout(5000).emitWithAck('echo', i).then((reply) => reply.node));
    if (i === 4 && transports.length > 1) {
      // let the upgrade finish before the second half
      while (socket.io.engine.transport.name !== 'websocket') await new Promise((r) => setTimeout(r, 20));
    }
  }
  process.stdout.write(JSON.stringify({ nodes, transport: socket.io.engine.transport.name }) + '\n');
  socket.close();
  process.exit(0);
});
