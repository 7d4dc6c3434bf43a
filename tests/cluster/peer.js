'use strict';
// The Node side of the cluster tests, driven over stdin/stdout in JSON lines.
//
// In:  {"seq": N, "op": ..., ...}   one command per line
// Out: {"seq": N, "ok": true, "result": ...} or {"seq": N, "ok": false, "error": "..."}
//      {"event": "received", "client": id, "name": ..., "args": [...]}   (a client got an event)
//      {"event": "disconnect", "client": id, "reason": ...}
//      {"event": "server-side", "server": id, "args": [...]}          (serverSideEmit arrived)
//
// Binary values travel as {"$bin": "<base64>"} both ways.
//
// Ops: server (a socket.io 4.8 node on @socket.io/redis-adapter), server-emit,
// server-call (fetchSockets, socketsJoin, ... on io.of(nsp)), client (an
// official socket.io-client 4.x), client-emit, emitter (@socket.io/redis-emitter),
// close.

const http = require('node:http');
const readline = require('node:readline');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { Emitter } = require('@socket.io/redis-emitter');
const { createClient } = require('redis');
const ioc = require('socket.io-client');

const NAMESPACES = ['/', '/chat'];
const servers = new Map();
const clients = new Map();
const emitters = new Map();
const redisClients = [];

function out(obj) {
  process.stdout.write(JSON.stringify(obj, (key, value) => value) + '\n');
}

function toWire(value) {
  if (Buffer.isBuffer(value)) return { $bin: value.toString('base64') };
  if (value instanceof ArrayBuffer) return { $bin: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    const copy = {};
    for (const [k, v] of Object.entries(value)) copy[k] = toWire(v);
    return copy;
  }
  return value;
}

function fromWire(value) {
  if (Array.isArray(value)) return value.map(fromWire);
  if (value && typeof value === 'object') {
    if (typeof value.$bin === 'string') return Buffer.from(value.$bin, 'base64');
    if (typeof value.$date === 'string') return new Date(value.$date);
    const copy = {};
    for (const [k, v] of Object.entries(value)) copy[k] = fromWire(v);
    return copy;
  }
  return value;
}

async function redisClient(url) {
  const client = createClient({ url });
  client.on('error', () => {}); // reconnects by itself; the tests watch the outcome
  await client.connect();
  redisClients.push(client);
  return client;
}

function target(io, cmd) {
  let op = io.of(cmd.nsp || '/');
  for (const room of cmd.to || []) op = op.to(room);
  for (const room of cmd.except || []) op = op.except(room);
  return op;
}

function onSocket(id, socket) {
  socket.data.node = id;
  socket.on('join', (room, ack) => {
    socket.join(room);
    if (typeof ack === 'function') ack('joined');
  });
  socket.on('leave', (room, ack) => {
    socket.leave(room);
    if (typeof ack === 'function') ack('left');
  });
}

const ops = {
  async server(cmd) {
    const pub = await redisClient(cmd.redis);
    const sub = pub.duplicate();
    sub.on('error', () => {});
    await sub.connect();
    redisClients.push(sub);
    const httpServer = http.createServer();
    const io = new Server(httpServer, {
      adapter: createAdapter(pub, sub, { key: cmd.key || 'socket.io', requestsTimeout: 5000 }),
    });
    for (const name of NAMESPACES) {
      const nsp = io.of(name);
      nsp.on('connection', (socket) => onSocket(cmd.id, socket));
      nsp.on('ask', (...args) => {
        const ack = args[args.length - 1];
        if (typeof ack === 'function') ack({ from: cmd.id, got: toWire(args.slice(0, -1)) });
      });
    }
    io.on('ask', (...args) => {
      out({ event: 'server-side', server: cmd.id, args: toWire(args.filter((a) => typeof a !== 'function')) });
      const ack = args[args.length - 1];
      if (typeof ack === 'function') ack({ from: cmd.id });
    });
    io.on('news', (...args) => out({ event: 'server-side', server: cmd.id, args: toWire(args) }));
    // Subscriptions on one connection are confirmed in order: once this one
    // is, the adapters' own (made in their constructors) are too.
    await sub.subscribe('realtime-tests-probe', () => {});
    await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    servers.set(cmd.id, { io, httpServer, pub, sub });
    sub.on('ready', async () => {
      // Reconnected: node-redis subscribes again first, then this probe.
      await sub.subscribe('realtime-tests-probe', () => {});
      out({ event: 'redis-ready', server: cmd.id });
    });
    return { port: httpServer.address().port, url: `http://127.0.0.1:${httpServer.address().port}` };
  },

  async 'server-emit'(cmd) {
    const { io } = servers.get(cmd.server);
    target(io, cmd).emit(cmd.event, ...fromWire(cmd.args || []));
    return null;
  },

  async 'server-call'(cmd) {
    const { io } = servers.get(cmd.server);
    const op = target(io, cmd);
    switch (cmd.method) {
      case 'fetchSockets': {
        const sockets = await op.fetchSockets();
        return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data }));
      }
      case 'socketsJoin':
        op.socketsJoin(cmd.rooms);
        return null;
      case 'socketsLeave':
        op.socketsLeave(cmd.rooms);
        return null;
      case 'disconnectSockets':
        op.disconnectSockets(Boolean(cmd.close));
        return null;
      case 'allRooms':
        return [...(await io.of(cmd.nsp || '/').adapter.allRooms())].sort();
      case 'serverCount':
        return await io.of(cmd.nsp || '/').adapter.serverCount();
      case 'serverSideEmit':
        io.of(cmd.nsp || '/').serverSideEmit(cmd.event, ...fromWire(cmd.args || []));
        return null;
      case 'serverSideEmitWithAck':
        return toWire(await io.of(cmd.nsp || '/').serverSideEmitWithAck(cmd.event, ...fromWire(cmd.args || [])));
      case 'emitWithAck':
        return toWire(await op.timeout(5000).emitWithAck(cmd.event, ...fromWire(cmd.args || [])));
      default:
        throw new Error('unknown method ' + cmd.method);
    }
  },

  async client(cmd) {
    const socket = ioc(cmd.url + (cmd.nsp && cmd.nsp !== '/' ? cmd.nsp : ''), {
      forceNew: true,
      transports: cmd.transports || ['websocket'],
      reconnection: false,
    });
    clients.set(cmd.id, socket);
    socket.onAny((name, ...args) => {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
      out({ event: 'received', client: cmd.id, name, args: toWire(args) });
      if (ack) ack({ client: cmd.id, name });
    });
    socket.on('disconnect', (reason) => out({ event: 'disconnect', client: cmd.id, reason }));
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return { sid: socket.id };
  },

  async 'client-emit'(cmd) {
    const socket = clients.get(cmd.client);
    const args = fromWire(cmd.args || []);
    if (!cmd.ack) {
      socket.emit(cmd.event, ...args);
      return null;
    }
    return toWire(await socket.timeout(5000).emitWithAck(cmd.event, ...args));
  },

  async emitter(cmd) {
    const key = cmd.redis + ' ' + (cmd.key || 'socket.io');
    if (!emitters.has(key)) {
      emitters.set(key, new Emitter(await redisClient(cmd.redis), { key: cmd.key || 'socket.io' }));
    }
    let op = emitters.get(key).of(cmd.nsp || '/');
    for (const room of cmd.to || []) op = op.to(room);
    for (const room of cmd.except || []) op = op.except(room);
    switch (cmd.method) {
      case 'emit':
        op.emit(cmd.event, ...fromWire(cmd.args || []));
        break;
      case 'socketsJoin':
        op.socketsJoin(cmd.rooms);
        break;
      case 'socketsLeave':
        op.socketsLeave(cmd.rooms);
        break;
      case 'disconnectSockets':
        op.disconnectSockets(Boolean(cmd.close));
        break;
      case 'serverSideEmit':
        emitters.get(key).of(cmd.nsp || '/').serverSideEmit(cmd.event, ...fromWire(cmd.args || []));
        break;
      default:
        throw new Error('unknown emitter method ' + cmd.method);
    }
    return null;
  },

  async close() {
    for (const socket of clients.values()) socket.close();
    for (const { io } of servers.values()) io.close();
    for (const client of redisClients) {
      try {
        await client.disconnect();
      } catch (err) {
        // already gone
      }
    }
    setImmediate(() => process.exit(0));
    return null;
  },
};

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (err) {
    out({ seq: null, ok: false, error: 'bad command line' });
    return;
  }
  try {
    const result = await ops[cmd.op](cmd);
    out({ seq: cmd.seq, ok: true, result: result === undefined ? null : result });
  } catch (err) {
    out({ seq: cmd.seq, ok: false, error: String((err && err.stack) || err) });
  }
});
rl.on('close', () => process.exit(0));
