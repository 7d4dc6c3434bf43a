"use strict";

// The committed files themselves (not the sources) in an ES3 sandbox: a
// minifier slip that breaks the bundle shows up here.

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("path");
const h = require("./helpers.js");
const { FakeServer } = require("./fake_server.js");

for (const name of ["realtime.js", "realtime.min.js"]) {
  const file = path.join(h.STATIC_DIR, name);

  test(`${name} encodes and decodes the golden Socket.IO packets without ES5`, () => {
    const client = h.loadClient({ es3: true, file });
    const vectors = h.readVectors("socketio_v5.json");
    for (const vector of vectors.packets.filter((v) => !v.decode_only && v.encoded.length === 1)) {
      const spec = vector.packet;
      const packet = { type: spec.type, nsp: spec.nsp };
      if (spec.data !== null) {
        packet.data = spec.data;
      }
      if (spec.id !== null) {
        packet.id = spec.id;
      }
      assert.deepEqual(h.plain(client.realtime.parser.encodeSocketPacket(packet)), vector.encoded);
      const decoded = new client.realtime.parser.SocketDecoder().add(vector.encoded[0]);
      assert.equal(decoded.type, spec.type, vector.name);
    }
  });

  test(`${name} connects, acks and reconnects without ES5`, async () => {
    const server = new FakeServer();
    const client = h.loadClient({ es3: true, file });
    server.install(client.context);
    server.on("echo", (ctx, ...args) => args);
    const socket = client.realtime.connect("http://example.test", {
      transports: ["polling"],
      reconnectionDelay: 5
    });
    await new Promise((resolve) => socket.once("connect", resolve));
    const answer = await new Promise((resolve) => socket.emit("echo", "x", 1, (...a) => resolve(a)));
    assert.deepEqual(answer, ["x", 1]);
    server.kill();
    await new Promise((resolve) => socket.io.once("reconnect", resolve));
    socket.disconnect();
    assert.equal(client.realtime.version, require("../package.json").version);
  });
}
