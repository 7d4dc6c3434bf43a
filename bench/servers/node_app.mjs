// The Node socket.io 4.8 peer: the benchmark's tiny app, nothing else.
// Usage: node node_app.mjs PORT (BENCH_REDIS_URL=... : on @socket.io/redis-adapter)
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import { Server } from "socket.io";

const port = Number(process.argv[2]);
const httpServer = createServer();
// BENCH_REDIS_URL: a node of a Redis cluster (bench/cluster.py), else alone.
const cluster = {};
if (process.env.BENCH_REDIS_URL) {
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const { createClient } = await import("redis");
  const pub = createClient({ url: process.env.BENCH_REDIS_URL });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  cluster.adapter = createAdapter(pub, sub);
}
const io = new Server(httpServer, {
  ...cluster,
  path: "/socket.io",
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
  cors: { origin: "*" },
  transports: ["polling", "websocket"],
});

// Wall-clock milliseconds with sub-millisecond resolution: receivers compare
// it with their own wall clock to get emit-to-receive latency.
const wallMs = () => performance.timeOrigin + performance.now();

io.on("connection", (socket) => {
  socket.on("echo", (...args) => socket.emit("echo", ...args));
  socket.on("echo_ack", (data, ack) => {
    if (typeof ack === "function") ack(data);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack(true);
  });
  socket.on("bcast", (req) => {
    for (let i = 0; i < req.n; i++) io.to(req.room).emit("ev", { i, t: wallMs() });
  });
});

httpServer.listen(port, "127.0.0.1");
