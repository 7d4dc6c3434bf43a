"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const h = require("./helpers.js");
const { FakeServer } = require("./fake_server.js");

const FAST = { reconnectionDelay: 5, reconnectionDelayMax: 20, timeout: 2000 };

function setup(serverOptions, clientOptions) {
  const server = new FakeServer(serverOptions);
  const client = h.loadClient(clientOptions || { es3: true });
  server.install(client.context);
  return { server, realtime: client.realtime, context: client.context };
}

function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));
}

// Waits until check() holds (the fake server runs on timers too).
async function until(check) {
  for (let i = 0; i < 400 && !check(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function connect(realtime, url, opts) {
  return realtime.connect(url, Object.assign({ transports: ["websocket"] }, FAST, opts || {}));
}

test("connects, emits with an ack and receives events", async () => {
  const { server, realtime } = setup();
  server.on("add", (ctx, a, b) => [a + b]);
  const socket = connect(realtime, "http://example.test", { auth: { token: "t" } });
  await once(socket, "connect");
  assert.equal(socket.connected, true);
  assert.match(socket.id, /^id\d+$/);
  const session = [...server.sessions.values()][0];
  assert.deepEqual(session.nsps.get("/").auth, { token: "t" });

  const answer = await new Promise((resolve) => socket.emit("add", 2, 3, resolve));
  assert.equal(answer, 5);

  const got = once(socket, "news");
  server.emit("/", "news", { headline: "hi" }, 7);
  assert.deepEqual(h.plain(await got), [{ headline: "hi" }, 7]);
  socket.disconnect();
  assert.equal(socket.connected, false);
});

test("answers the server's pings and its questions", async () => {
  const { server, realtime } = setup();
  const socket = connect(realtime, "http://example.test");
  await once(socket, "connect");
  const session = [...server.sessions.values()][0];
  server.ping(session);
  await until(() => server.log.includes("3"));
  assert.ok(server.log.includes("3"), "pong sent: " + server.log.join(" "));

  socket.on("question", (x, ack) => ack("answer to " + x));
  server.log.length = 0;
  server.push(session, "421[\"question\",1]");
  await until(() => server.log.length > 0);
  assert.deepEqual(server.log, ["431[\"answer to 1\"]"]);
  socket.disconnect();
});

test("timeout(ms).emit gives (err) when no answer comes, (null, ...) when one does", async () => {
  const { server, realtime } = setup();
  server.on("fast", () => ["ok"]);
  server.on("silent", () => undefined);
  const socket = connect(realtime, "http://example.test");
  await once(socket, "connect");
  const fast = await new Promise((resolve) =>
    socket.timeout(1000).emit("fast", (...args) => resolve(args))
  );
  assert.deepEqual(h.plain(fast), [null, "ok"]);
  const slow = await new Promise((resolve) =>
    socket.timeout(30).emit("silent", (...args) => resolve(args))
  );
  assert.equal(slow.length, 1);
  assert.equal(slow[0].message, "operation has timed out");
  socket.disconnect();
});

test("the ackTimeout option applies to every emit with an ack", async () => {
  const { server, realtime } = setup();
  server.on("silent", () => undefined);
  const socket = connect(realtime, "http://example.test", { ackTimeout: 30 });
  await once(socket, "connect");
  const result = await new Promise((resolve) => socket.emit("silent", (...args) => resolve(args)));
  assert.equal(result[0].message, "operation has timed out");
  socket.disconnect();
});

test("namespaces share one connection; each gets its own CONNECT", async () => {
  const { server, realtime } = setup();
  const main = connect(realtime, "http://example.test");
  const admin = connect(realtime, "http://example.test/admin");
  assert.equal(main.io, admin.io);
  await Promise.all([once(main, "connect"), once(admin, "connect")]);
  assert.equal(server.sessions.size, 1);
  const session = [...server.sessions.values()][0];
  assert.deepEqual([...session.nsps.keys()].sort(), ["/", "/admin"]);
  assert.notEqual(main.id, admin.id);

  const got = once(admin, "only-admin");
  let wrong = false;
  main.on("only-admin", () => (wrong = true));
  server.emit("/admin", "only-admin", 1);
  await got;
  assert.equal(wrong, false);

  admin.disconnect();
  assert.equal(main.connected, true, "the other namespace stays connected");
  main.disconnect();
  assert.equal(main.io.readyState, "closed", "the connection closes with the last socket");
});

test("a refused namespace gets connect_error with the server's message and data", async () => {
  const { realtime } = setup({
    refuse: (nsp) => (nsp === "/private" ? { message: "Not authorized", data: { code: 7 } } : null)
  });
  const socket = connect(realtime, "http://example.test/private");
  const [error] = await once(socket, "connect_error");
  assert.equal(error.message, "Not authorized");
  assert.deepEqual(h.plain(error.data), { code: 7 });
  assert.equal(socket.connected, false);
});

test("binary goes both ways, nested at any depth", async () => {
  const { server, realtime, context } = setup({}, {});
  server.on("upload", (ctx, meta) => [meta.name, meta.body.length, meta.body]);
  const socket = connect(realtime, "http://example.test");
  await once(socket, "connect");
  const body = h.sandboxBuffer(context, [0, 1, 2, 255]);
  const answer = await new Promise((resolve) =>
    socket.emit("upload", { name: "f.bin", body }, (...args) => resolve(args))
  );
  assert.equal(answer[0], "f.bin");
  assert.equal(answer[1], 4);
  assert.deepEqual(h.bytesOf(answer[2]), [0, 1, 2, 255]);

  const got = once(socket, "file");
  server.emit("/", "file", { parts: [Buffer.from([9, 8]), Buffer.from([])] });
  const [file] = await got;
  assert.deepEqual(h.bytesOf(file.parts[0]), [9, 8]);
  assert.deepEqual(h.bytesOf(file.parts[1]), []);
  socket.disconnect();
});

test("emits made while offline are buffered and sent on connect", async () => {
  const { server, realtime } = setup();
  const received = [];
  server.on("note", (ctx, n) => {
    received.push(n);
  });
  const socket = connect(realtime, "http://example.test");
  socket.emit("note", 1);
  socket.emit("note", 2);
  assert.equal(socket.connected, false);
  await once(socket, "connect");
  await until(() => received.length === 2);
  assert.deepEqual(received, [1, 2]);
  socket.disconnect();
});

test("reconnects with backoff after the server goes away, and resends what was buffered", async () => {
  const { server, realtime } = setup();
  const received = [];
  server.on("note", (ctx, n) => {
    received.push(n);
  });
  const socket = connect(realtime, "http://example.test");
  await once(socket, "connect");
  const firstId = socket.id;
  const attempts = [];
  socket.io.on("reconnect_attempt", (n) => attempts.push(n));

  server.down = true;
  const disconnected = once(socket, "disconnect");
  server.kill();
  const [reason] = await disconnected;
  assert.equal(reason, "transport close");
  socket.emit("note", "while down");
  await once(socket.io, "reconnect_error");
  await once(socket.io, "reconnect_error");
  server.down = false;
  const [attempt] = await once(socket.io, "reconnect");
  assert.ok(attempt >= 2, "several attempts were made: " + attempt);
  assert.deepEqual(attempts.slice(0, 3), [1, 2, 3]);
  if (!socket.connected) {
    await once(socket, "connect");
  }
  assert.notEqual(socket.id, firstId);
  await until(() => received.length > 0);
  assert.deepEqual(received, ["while down"]);
  socket.disconnect();
});

test("connection state recovery: sends its pid and last offset back, and learns it recovered", async () => {
  const seen = [];
  const { server, realtime } = setup({
    answer: (sid, auth) => {
      seen.push(h.plain(auth || null));
      // The first socket's session comes back; any later one is a new session.
      return auth && auth.pid === "P1" ? { sid: "first", pid: "P1" } : { sid, pid: "P" + seen.length };
    }
  });
  const socket = connect(realtime, "http://example.test", { auth: { token: "t" } });
  await once(socket, "connect");
  assert.equal(socket.recovered, false);
  const got = once(socket, "news");
  server.emit("/", "news", 1, "offset-1");
  assert.deepEqual(h.plain(await got), [1, "offset-1"]);
  server.kill();
  await once(socket, "connect");
  assert.deepEqual(seen[1], { pid: "P1", offset: "offset-1", token: "t" });
  assert.equal(socket.recovered, true);
  assert.equal(socket.id, "first");
  server.kill(); // P1 again, then the server names another session
  await once(socket, "connect");
  assert.equal(socket.recovered, true);
  server.answer = (sid) => ({ sid, pid: "P9" });
  server.kill();
  await once(socket, "connect");
  assert.equal(socket.recovered, false);
  assert.notEqual(socket.id, "first");
  socket.disconnect();
});

test("missed events sent before the CONNECT answer reach listeners before connect, recovered", async () => {
  const seen = [];
  const { server, realtime } = setup({
    answer: (sid, auth, session) => {
      seen.push(h.plain(auth || null));
      if (auth && auth.pid === "P") {
        server.emitRaw(session, "/", ["missed", 1, "offset-2"]); // what a recovering server sends
      }
      return { sid: "first", pid: "P" };
    }
  });
  const socket = connect(realtime, "http://example.test");
  await once(socket, "connect");
  const log = [];
  socket.on("missed", (n, offset) => log.push(["missed", n, offset, socket.recovered]));
  socket.on("connect", () => log.push(["connect", socket.recovered]));
  server.kill();
  await until(() => log.length === 2);
  assert.deepEqual(log, [["missed", 1, "offset-2", true], ["connect", true]]);
  server.kill();
  await until(() => seen.length === 3);
  assert.deepEqual(seen[2], { pid: "P", offset: "offset-2" });
  socket.disconnect();
});

test("without a pid the CONNECT carries only the auth", async () => {
  const seen = [];
  const { server, realtime } = setup({ answer: (sid, auth) => (seen.push(h.plain(auth || null)), { sid }) });
  const socket = connect(realtime, "http://example.test", { auth: { token: "t" } });
  await once(socket, "connect");
  server.emit("/", "news", "a string last");
  await once(socket, "news");
  server.kill();
  await once(socket, "connect");
  assert.deepEqual(seen, [{ token: "t" }, { token: "t" }]);
  assert.equal(socket.recovered, false);
  socket.disconnect();
});

test("an exception in an event handler does not break the connection", async () => {
  const { server, realtime } = setup();
  const socket = connect(realtime, "http://example.test");
  await once(socket, "connect");
  server.uncaught = [];
  socket.on("boom", () => {
    throw new Error("handler bug");
  });
  server.emit("/", "boom");
  const next = once(socket, "after");
  server.emit("/", "after");
  await next;
  assert.deepEqual(server.uncaught, ["handler bug"]);
  assert.equal(socket.connected, true);
  socket.disconnect();
});

test("a server-side disconnect does not reconnect", async () => {
  const { server, realtime } = setup();
  const socket = connect(realtime, "http://example.test");
  await once(socket, "connect");
  const disconnected = once(socket, "disconnect");
  server.disconnectAll("/");
  assert.deepEqual(await disconnected, ["io server disconnect", undefined]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(socket.connected, false);
  assert.equal(socket.io.readyState, "closed");
});

test("reconnectionAttempts bounds the retries", async () => {
  const { server, realtime } = setup();
  server.down = true;
  const socket = connect(realtime, "http://example.test", { reconnectionAttempts: 2 });
  await once(socket.io, "reconnect_failed");
  assert.equal(socket.connected, false);
});

test("polling starts, then upgrades to WebSocket without losing a message", async () => {
  const { server, realtime } = setup();
  const received = [];
  server.on("note", (ctx, n) => {
    received.push(n);
  });
  const socket = realtime.connect("http://example.test", FAST);
  const upgraded = once(socket.io.engine, "upgrade");
  await once(socket, "connect");
  socket.emit("note", "over polling or during the upgrade");
  await upgraded;
  assert.equal(socket.io.engine.transport.name, "websocket");
  socket.emit("note", "over websocket");
  const got = once(socket, "after");
  server.emit("/", "after", 1);
  await got;
  await until(() => received.length === 2);
  assert.deepEqual(received, ["over polling or during the upgrade", "over websocket"]);
  socket.disconnect();
});

test("polling keeps each POST under the server's maxPayload", async () => {
  const { server, realtime } = setup({ maxPayload: 200 });
  const received = [];
  server.on("note", (ctx, n) => {
    received.push(n);
  });
  const socket = realtime.connect("http://example.test", Object.assign({ transports: ["polling"] }, FAST));
  for (let i = 0; i < 20; i++) {
    socket.emit("note", "message number " + i);
  }
  await once(socket, "connect");
  await until(() => received.length === 20);
  assert.deepEqual(received, Array.from({ length: 20 }, (_, i) => "message number " + i));
  assert.ok(server.postBodies.length > 1);
  for (const body of server.postBodies) {
    assert.ok(Buffer.byteLength(body) <= 200, body);
  }
  socket.disconnect();
});

test("urls: namespace from the path, same-origin detection, managers per server", () => {
  const { realtime } = setup();
  const parse = realtime.parser.parseUrl;
  assert.deepEqual(h.plain(parse("/admin")), {
    hostname: "example.test", port: "80", secure: false, path: "/admin", query: {},
    crossDomain: false, id: "http://example.test:80"
  });
  const other = h.plain(parse("https://Other.test:8443/chat?room=a%20b"));
  assert.equal(other.hostname, "other.test");
  assert.equal(other.port, "8443");
  assert.equal(other.secure, true);
  assert.equal(other.path, "/chat");
  assert.deepEqual(other.query, { room: "a b" });
  assert.equal(other.crossDomain, true);
  assert.equal(parse("ws://[::1]:3000").hostname, "[::1]");
  assert.equal(parse("example.test").crossDomain, false);
  const a = realtime.connect("http://a.test", { autoConnect: false });
  const b = realtime.connect("http://a.test/x", { autoConnect: false });
  const c = realtime.connect("http://a.test", { autoConnect: false });
  const d = realtime.connect("http://b.test", { autoConnect: false });
  assert.equal(a.io, b.io);
  assert.notEqual(a.io, c.io, "the same namespace twice gets its own connection");
  assert.notEqual(a.io, d.io);
});

test("reserved event names cannot be emitted", () => {
  const { realtime } = setup();
  const socket = realtime.connect("http://example.test", { autoConnect: false });
  for (const name of ["connect", "disconnect", "connect_error"]) {
    assert.throws(() => socket.emit(name), /reserved event name/);
  }
});
