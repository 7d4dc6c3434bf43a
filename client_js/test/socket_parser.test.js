"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const h = require("./helpers.js");

const vectors = h.readVectors("socketio_v5.json");

// The vectors write "absent" as null; the client leaves such fields out.
function clientPacket(client, spec) {
  const packet = { type: spec.type, nsp: spec.nsp };
  if (spec.data !== null) {
    packet.data = h.withBuffers(client.context, spec.data);
  }
  if (spec.id !== null) {
    packet.id = spec.id;
  }
  return packet;
}

function encodedShape(messages) {
  return h.plain(messages).map((m) =>
    typeof m === "string" ? m : Buffer.from(m.bytes).toString("base64")
  );
}

function decodeAll(client, frames) {
  const packets = [];
  const decoder = new client.realtime.parser.SocketDecoder();
  for (const frame of frames) {
    const packet = decoder.add(frame);
    if (packet) {
      packets.push(packet);
    }
  }
  return { packets, decoder };
}

function framesOf(client, vector) {
  return vector.encoded.map((item, i) =>
    i === 0 ? item : h.sandboxBuffer(client.context, h.base64ToBytes(item))
  );
}

function normalized(packet) {
  const out = h.plain(packet);
  return {
    type: out.type,
    nsp: out.nsp,
    data: out.data === undefined ? null : out.data,
    id: out.id === undefined ? null : out.id
  };
}

for (const mode of h.MODES) {
  test(`socket packets encode to the golden messages (${mode.name})`, () => {
    const client = h.loadClient(mode.options);
    for (const vector of vectors.packets.filter((v) => !v.decode_only)) {
      const messages = client.realtime.parser.encodeSocketPacket(clientPacket(client, vector.packet));
      assert.deepEqual(encodedShape(messages), vector.encoded, vector.name);
    }
  });

  test(`socket packets decode from the golden messages (${mode.name})`, () => {
    const client = h.loadClient(mode.options);
    for (const vector of vectors.packets) {
      const { packets } = decodeAll(client, framesOf(client, vector));
      assert.equal(packets.length, 1, vector.name);
      assert.deepEqual(normalized(packets[0]), h.expectedShape(vector.packet), vector.name);
    }
  });

  test(`malformed socket packets are refused with the vector's kind (${mode.name})`, () => {
    const client = h.loadClient(mode.options);
    for (const vector of vectors.malformed) {
      const frames = vector.frames.map((f) =>
        f.text !== undefined ? f.text : h.sandboxBuffer(client.context, h.base64ToBytes(f.binary))
      );
      let kind = null;
      try {
        const { decoder } = decodeAll(client, frames);
        if (decoder.pending) {
          kind = "missing attachment";
        }
      } catch (e) {
        kind = e.message;
      }
      assert.equal(kind, vector.error, vector.name);
    }
  });
}

test("encoding leaves the caller's data untouched", () => {
  const client = h.loadClient();
  const buffer = h.sandboxBuffer(client.context, [1, 2]);
  const data = ["file", { body: buffer }];
  client.realtime.parser.encodeSocketPacket({ type: 2, nsp: "/", data });
  assert.equal(data[1].body, buffer);
});
