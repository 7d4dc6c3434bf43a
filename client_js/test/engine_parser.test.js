"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const h = require("./helpers.js");

const vectors = h.readVectors("engineio_v4.json");

function vectorPacket(client, spec) {
  const packet = { type: spec.type };
  if (spec.base64 !== undefined) {
    packet.data = h.sandboxBuffer(client.context, h.base64ToBytes(spec.base64));
  } else if (spec.data !== "") {
    packet.data = spec.data;
  }
  return packet;
}

function encodeSync(parser, packet, binaryFrames) {
  let out;
  parser.encodeEnginePacket(packet, binaryFrames, (encoded) => {
    out = encoded;
  });
  assert.notEqual(out, undefined, "encoding without a Blob answers synchronously");
  return out;
}

function decodedShape(packet) {
  return h.plain(packet);
}

function expectedDecoded(spec) {
  if (spec.base64 !== undefined) {
    return { type: spec.type, data: { bytes: h.base64ToBytes(spec.base64) } };
  }
  return spec.data === "" ? { type: spec.type } : { type: spec.type, data: spec.data };
}

for (const mode of h.MODES) {
  test(`engine packets encode to the golden text (${mode.name})`, () => {
    const client = h.loadClient(mode.options);
    const parser = client.realtime.parser;
    for (const vector of vectors.packets) {
      assert.equal(encodeSync(parser, vectorPacket(client, vector.packet), false), vector.text, vector.name);
    }
  });

  test(`engine packets decode from the golden text (${mode.name})`, () => {
    const parser = h.loadClient(mode.options).realtime.parser;
    for (const vector of vectors.packets) {
      assert.deepEqual(decodedShape(parser.decodeEnginePacket(vector.text)), expectedDecoded(vector.packet), vector.name);
    }
  });

  test(`engine payloads round-trip (${mode.name})`, () => {
    const client = h.loadClient(mode.options);
    const parser = client.realtime.parser;
    for (const vector of vectors.payloads) {
      let encoded;
      const packets = vector.packets.map((spec) => vectorPacket(client, spec));
      parser.encodeEnginePayload(packets, (text) => {
        encoded = text;
      });
      assert.equal(encoded, vector.payload, vector.name);
      const decoded = h.plain(parser.decodeEnginePayload(vector.payload));
      assert.deepEqual(decoded, vector.packets.map(expectedDecoded), vector.name);
    }
  });

  test(`invalid engine payloads decode to a parser error (${mode.name})`, () => {
    const parser = h.loadClient(mode.options).realtime.parser;
    for (const payload of vectors.invalid_payloads) {
      const types = h.plain(parser.decodeEnginePayload(payload)).map((p) => p.type);
      assert.ok(types.includes("error"), JSON.stringify(payload) + " gave " + types.join(","));
    }
  });
}

test("binary goes out as a raw frame on WebSocket", () => {
  const client = h.loadClient();
  const parser = client.realtime.parser;
  const vector = vectors.packets.find((v) => v.ws_base64 !== undefined);
  const frame = encodeSync(parser, vectorPacket(client, vector.packet), true);
  assert.deepEqual(h.bytesOf(frame), h.base64ToBytes(vector.ws_base64));
  const view = vm_view(client, [9, 8, 7, 6], 1, 2);
  assert.deepEqual(h.bytesOf(encodeSync(parser, { type: "message", data: view }, true)), [8, 7]);
  assert.equal(encodeSync(parser, { type: "message", data: view }, false), "bCAc=");
});

test("a binary frame received on WebSocket is a message", () => {
  const client = h.loadClient();
  const buffer = h.sandboxBuffer(client.context, [1, 2, 3]);
  const packet = client.realtime.parser.decodeEnginePacket(buffer);
  assert.equal(packet.type, "message");
  assert.deepEqual(h.bytesOf(packet.data), [1, 2, 3]);
});

test("without typed arrays, binary arrives as base64 text", () => {
  const parser = h.loadClient({ es3: true, noTypedArrays: true }).realtime.parser;
  assert.deepEqual(h.plain(parser.decodeEnginePacket("bAQIDBA==")), {
    type: "message",
    data: { base64: true, data: "AQIDBA==" }
  });
});

test("base64 codec agrees with Node on every length and byte", () => {
  const client = h.loadClient({ es3: true });
  const parser = client.realtime.parser;
  for (let length = 0; length < 70; length++) {
    const bytes = Array.from({ length }, (_, i) => (i * 37 + length * 11) % 256);
    const text = parser.encodeBase64(h.sandboxBuffer(client.context, bytes));
    assert.equal(text, Buffer.from(bytes).toString("base64"));
    assert.deepEqual(h.bytesOf(parser.decodeBase64(text)), bytes);
  }
});

function vm_view(client, bytes, offset, length) {
  client.context.__view = [bytes, offset, length];
  return require("vm").runInContext(
    "(function(a){var b=new Uint8Array(a[0].length);for(var i=0;i<a[0].length;i++){b[i]=a[0][i];}return new Uint8Array(b.buffer,a[1],a[2]);})(__view)",
    client.context
  );
}
