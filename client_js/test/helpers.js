// Loads the client, built in memory from src/, into a fresh V8 context.
// "es3" mode first deletes what an ES3 browser lacks (JSON, the ES5 array
// methods, bind, Object.keys, Date.now, ...) so a test fails if the client
// leans on any of them; "noTypedArrays" mimics IE6-9 further.

"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");
const { bundle } = require("../build.js");

const VECTORS_DIR = path.join(__dirname, "..", "..", "tests", "vectors");
const STATIC_DIR = path.join(__dirname, "..", "..", "realtime", "static");

const ES5_FEATURES = [
  "JSON",
  "Array.isArray",
  "Array.prototype.forEach",
  "Array.prototype.map",
  "Array.prototype.filter",
  "Array.prototype.reduce",
  "Array.prototype.reduceRight",
  "Array.prototype.some",
  "Array.prototype.every",
  "Array.prototype.indexOf",
  "Array.prototype.lastIndexOf",
  "Function.prototype.bind",
  "Object.keys",
  "Object.create",
  "Object.getPrototypeOf",
  "Object.getOwnPropertyNames",
  "Object.freeze",
  "Object.defineProperties",
  "String.prototype.trim",
  "Date.now",
  "Date.prototype.toISOString",
  "Date.prototype.toJSON"
];

const TYPED_ARRAYS = ["ArrayBuffer", "Uint8Array", "DataView", "Blob"];

let cachedCode = null;

function loadClient(options) {
  options = options || {};
  const code = options.file
    ? fs.readFileSync(options.file, "utf8")
    : cachedCode || (cachedCode = bundle());
  const sandbox = Object.assign(
    { setTimeout, clearTimeout, console },
    options.globals || {}
  );
  sandbox.window = sandbox;
  const context = vm.createContext(sandbox);
  const removed = [];
  if (options.es3) {
    removed.push(...ES5_FEATURES);
  }
  if (options.noTypedArrays) {
    removed.push(...TYPED_ARRAYS);
  }
  for (const name of removed) {
    vm.runInContext("delete " + name + ";", context);
  }
  vm.runInContext(code, context, { filename: options.file || "realtime.js" });
  for (const name of removed) {
    const still = vm.runInContext("typeof " + name, context);
    if (still !== "undefined") {
      throw new Error(name + " could not be removed from the sandbox");
    }
  }
  return { realtime: context.realtime, context };
}

function readVectors(name) {
  return JSON.parse(fs.readFileSync(path.join(VECTORS_DIR, name), "utf8"));
}

// Values from another V8 context fail deepStrictEqual on prototypes; compare
// their JSON shapes instead, with binaries turned into byte lists.
function plain(value) {
  if (value && typeof value === "object") {
    if (Object.prototype.toString.call(value) === "[object ArrayBuffer]") {
      return { bytes: Array.from(new Uint8Array(value)) };
    }
    if (Array.isArray(value) || Object.prototype.toString.call(value) === "[object Array]") {
      return Array.prototype.map.call(value, plain);
    }
    const out = {};
    for (const key of Object.keys(value)) {
      out[key] = plain(value[key]);
    }
    return out;
  }
  return value;
}

function base64ToBytes(text) {
  return Array.from(Buffer.from(text, "base64"));
}

// A fresh ArrayBuffer of the sandbox's own realm: the client's instanceof
// checks must see its own ArrayBuffer class.
function sandboxBuffer(context, bytes) {
  context.__bytes = bytes;
  return vm.runInContext(
    "(function(){var b=new Uint8Array(__bytes.length);for(var i=0;i<__bytes.length;i++){b[i]=__bytes[i];}return b.buffer;})()",
    context
  );
}

// Replaces {"$base64": "..."} (the vectors' notation) with sandbox buffers.
function withBuffers(context, value) {
  if (value && typeof value === "object") {
    if (typeof value.$base64 === "string") {
      return sandboxBuffer(context, base64ToBytes(value.$base64));
    }
    const out = Array.isArray(value) ? [] : {};
    for (const key of Object.keys(value)) {
      out[key] = withBuffers(context, value[key]);
    }
    if (Array.isArray(value)) {
      return vm.runInContext("(function(a){var r=[];for(var i=0;i<a.length;i++){r.push(a[i]);}return r;})", context)(out);
    }
    return out;
  }
  return value;
}

// The vectors' notation for the decoded side: {"$base64"} becomes bytes.
function expectedShape(value) {
  if (value && typeof value === "object") {
    if (typeof value.$base64 === "string") {
      return { bytes: base64ToBytes(value.$base64) };
    }
    if (Array.isArray(value)) {
      return value.map(expectedShape);
    }
    const out = {};
    for (const key of Object.keys(value)) {
      out[key] = expectedShape(value[key]);
    }
    return out;
  }
  return value;
}

function bytesOf(value) {
  return Array.from(new Uint8Array(value));
}

const MODES = [
  { name: "modern", options: {} },
  { name: "es3", options: { es3: true } }
];

module.exports = {
  loadClient,
  readVectors,
  plain,
  base64ToBytes,
  sandboxBuffer,
  withBuffers,
  expectedShape,
  bytesOf,
  MODES,
  ES5_FEATURES,
  STATIC_DIR
};
