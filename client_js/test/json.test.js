"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const h = require("./helpers.js");

const VALUES = [
  null,
  true,
  false,
  0,
  -1.5e-7,
  123456789012,
  "",
  "plain",
  "quote \" backslash \\ slash /",
  "control \u0000 \u0001 \b \f \n \r \t \u001f",
  "line \u2028 paragraph \u2029",
  "non-ASCII h\u00e9llo \u2603 \ud83d\ude00",
  [],
  [1, "two", [3, [4]], { five: 5 }],
  {},
  { a: 1, b: [true, null], "key with space": { nested: "x" }, "": "empty key" },
  { skipped: undefined, kept: 1, fn: function () {} },
  [undefined, function () {}],
  [NaN, Infinity, -Infinity]
];

test("fallback stringify gives what native JSON gives", () => {
  const { realtime } = h.loadClient({ es3: true });
  const fallback = realtime.parser.fallbackJSON;
  for (const value of VALUES) {
    const ours = fallback.stringify(value);
    // Native JSON leaves U+2028/9 raw; ours escapes them, which parses back
    // to the same string and keeps old engines from choking on it.
    const native = JSON.stringify(value).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
    assert.equal(ours, native);
    assert.deepEqual(JSON.parse(ours), JSON.parse(native));
  }
  assert.equal(fallback.stringify({ toJSON: () => "custom" }), "\"custom\"");
});

test("fallback parse reads what native JSON writes", () => {
  const { realtime } = h.loadClient({ es3: true });
  const fallback = realtime.parser.fallbackJSON;
  for (const value of VALUES) {
    const text = JSON.stringify(value);
    assert.deepEqual(h.plain(fallback.parse(text)), JSON.parse(text), text);
  }
  assert.deepEqual(h.plain(fallback.parse(" {\"a\" : [ 1 , 2 ] }\n")), { a: [1, 2] });
  assert.equal(fallback.parse("\"raw \u2028 separator\""), "raw \u2028 separator");
});

// The fallback validates the token structure and then lets the engine
// evaluate (fast on IE6/7); like json2 it tolerates a trailing comma, which
// a server never sends, but nothing that could run code.
test("fallback parse refuses what is not JSON, and runs no code", () => {
  const { realtime, context } = h.loadClient({ es3: true });
  const fallback = realtime.parser.fallbackJSON;
  context.hit = false;
  const bad = [
    "",
    "   ",
    "undefined",
    "NaN",
    "{a: 1}",
    "['single']",
    "01",
    "\"unterminated",
    "\"tab\tinside\"",
    "[\"x\"]x",
    "(hit = true)",
    "[hit = true]",
    "{\"a\": hit}",
    "alert(1)",
    "function () {}"
  ];
  for (const text of bad) {
    assert.throws(() => fallback.parse(text), SyntaxErrorLike, JSON.stringify(text));
    assert.throws(() => JSON.parse(text), SyntaxError, "native agrees: " + JSON.stringify(text));
  }
  assert.equal(context.hit, false);
});

function SyntaxErrorLike(error) {
  return error && error.name === "SyntaxError";
}

test("without native JSON the client uses the fallback", () => {
  const { context } = h.loadClient({ es3: true });
  assert.equal(require("vm").runInContext("typeof JSON", context), "undefined");
  const messages = context.realtime.parser.encodeSocketPacket({ type: 2, nsp: "/", data: ["a", { b: 1 }] });
  assert.deepEqual(h.plain(messages), ["2[\"a\",{\"b\":1}]"]);
});
