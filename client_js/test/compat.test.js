"use strict";

// socket.io.js, the committed builds, in an ES3 sandbox: the socket.io-client
// face that pages written for a Node socket.io server use (global io).

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("path");
const h = require("./helpers.js");
const { FakeServer } = require("./fake_server.js");

const FAST = { reconnectionDelay: 5, reconnectionDelayMax: 20, timeout: 2000 };

function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));
}

for (const name of ["socket.io.js", "socket.io.min.js"]) {
  const file = path.join(h.STATIC_DIR, name);

  function setup(serverOptions) {
    const server = new FakeServer(serverOptions);
    const client = h.loadClient({ es3: true, file });
    server.install(client.context);
    assert.equal(client.realtime, undefined, "socket.io.js defines io, not realtime");
    return { server, io: client.context.io };
  }

  test(`${name}: io.connect with a ws:// url, emits buffered before connect, acks`, async () => {
    const { server, io } = setup();
    server.on("echo", (ctx, ...args) => args);
    assert.equal(io.connect, io);
    const socket = io.connect("ws://example.test", Object.assign({ transports: ["polling"] }, FAST));
    const answer = new Promise((resolve) => socket.emit("echo", { a: 1 }, (...a) => resolve(a)));
    await once(socket, "connect");
    assert.deepEqual(h.plain(await answer), [{ a: 1 }]);
    assert.equal(socket.io.uri.secure, false);
    socket.disconnect();
  });

  test(`${name}: the manager's reconnection events reach the socket, as in 1.x/2.x`, async () => {
    const { server, io } = setup();
    const socket = io("http://example.test", Object.assign({ transports: ["websocket"] }, FAST));
    await once(socket, "connect");
    const seen = [];
    for (const event of ["reconnect_attempt", "reconnecting", "reconnect"]) {
      socket.on(event, (n) => seen.push(event + " " + n));
    }
    server.kill();
    await once(socket, "reconnect");
    assert.deepEqual(seen, ["reconnect_attempt 1", "reconnecting 1", "reconnect 1"]);
    socket.disconnect();
  });

  test(`${name}: a refused namespace is error (the data) and connect_error`, async () => {
    const { io } = setup({
      refuse: (nsp) => (nsp === "/private" ? { message: "Not authorized", data: { code: 7 } } : null)
    });
    const socket = io("http://example.test/private", Object.assign({ transports: ["websocket"] }, FAST));
    const [error] = await once(socket, "error");
    assert.deepEqual(h.plain(error), { code: 7 });
    assert.equal(socket.connected, false);
  });

  test(`${name}: reserved names fire locally; "force new connection" opens its own`, () => {
    const { io } = setup();
    const opts = Object.assign({ transports: ["websocket"], autoConnect: false }, FAST);
    const a = io("http://example.test", opts);
    const b = io("http://example.test/other", Object.assign({ "force new connection": true }, opts));
    assert.notEqual(a.io, b.io);
    const heard = [];
    a.on("error", (value) => heard.push(value));
    a.emit("error", "local");
    assert.deepEqual(heard, ["local"]);
  });
}
