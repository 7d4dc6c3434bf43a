// Builds realtime/static/realtime.js, socket.io.js and their .min.js from src/.
// The output depends on the sources and package.json only (no dates, no
// paths), so a rebuild of unchanged sources is byte-identical; the Python
// test suite relies on that to catch a stale build.
//
//   node build.js              write into ../realtime/static
//   node build.js --out DIR    write into DIR

"use strict";

const fs = require("fs");
const path = require("path");

const SOURCES = [
  "util.js",
  "json.js",
  "emitter.js",
  "binary.js",
  "engine_parser.js",
  "socket_parser.js",
  "transports/transport.js",
  "transports/polling.js",
  "transports/xhr.js",
  "transports/jsonp.js",
  "transports/websocket.js",
  "engine.js",
  "backoff.js",
  "manager.js",
  "socket.js",
  "url.js",
  "index.js"
];

const SRC_DIR = path.join(__dirname, "src");
const DEFAULT_OUT = path.join(__dirname, "..", "realtime", "static");

function version() {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "package.json"), "utf8")).version;
}

function indent(text) {
  return text
    .split("\n")
    .map((line) => (line ? "  " + line : line))
    .join("\n");
}

// The two clients built from the sources: realtime.js defines the global
// realtime; socket.io.js adds the socket.io-client face (compat.js) and
// defines the global io, for pages written for a Node socket.io server.
const CLIENTS = [
  { name: "realtime", global: "realtime", sources: SOURCES, exported: "connect" },
  { name: "socket.io", global: "io", sources: SOURCES.concat(["compat.js"]), exported: "io" }
];

// One function scope holds every source file, in order; the wrapper exports
// the result as module.exports (CommonJS) or the client's global.
function bundle(client) {
  client = client || CLIENTS[0];
  const v = version();
  const body = client.sources.map((name) => {
    const text = fs.readFileSync(path.join(SRC_DIR, name), "utf8").replace(/\s+$/, "");
    return "  // ---- " + name + " ----\n\n" + indent(text) + "\n";
  }).join("\n");
  return (
    "/*! " + client.name + ".js " + v + " | MIT License | Engine.IO 4 / Socket.IO 5 client */\n" +
    "(function (root, factory) {\n" +
    "  var client = factory(root);\n" +
    "  if (typeof module === \"object\" && module && module.exports) {\n" +
    "    module.exports = client;\n" +
    "  } else {\n" +
    "    root." + client.global + " = client;\n" +
    "  }\n" +
    "}(typeof window !== \"undefined\" ? window : this, function (root) {\n" +
    "  var VERSION = \"" + v + "\";\n\n" +
    body +
    "\n  return " + client.exported + ";\n" +
    "}));\n"
  );
}

function minify(code) {
  const UglifyJS = require("uglify-js");
  const result = UglifyJS.minify(code, {
    ie: true,
    webkit: true,
    compress: { passes: 2 },
    mangle: true,
    output: { comments: /^!/, ascii_only: true }
  });
  if (result.error) {
    throw result.error;
  }
  return result.code + "\n";
}

function build(outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  return CLIENTS.map((client) => {
    const code = bundle(client);
    const min = minify(code);
    fs.writeFileSync(path.join(outDir, client.name + ".js"), code);
    fs.writeFileSync(path.join(outDir, client.name + ".min.js"), min);
    return { name: client.name, code, min };
  });
}

module.exports = { SOURCES, CLIENTS, bundle, minify, build };

if (require.main === module) {
  const i = process.argv.indexOf("--out");
  const outDir = i >= 0 ? path.resolve(process.argv[i + 1]) : DEFAULT_OUT;
  for (const { name, code, min } of build(outDir)) {
    const gzipped = require("zlib").gzipSync(min, { level: 9 }).length;
    console.log(
      name + ".js " + code.length + " B, " + name + ".min.js " + min.length + " B, " +
      gzipped + " B gzipped"
    );
  }
}
