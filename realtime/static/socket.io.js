/*! socket.io.js 0.1.0 | MIT License | Engine.IO 4 / Socket.IO 5 client */
(function (root, factory) {
  var client = factory(root);
  if (typeof module === "object" && module && module.exports) {
    module.exports = client;
  } else {
    root.io = client;
  }
}(typeof window !== "undefined" ? window : this, function (root) {
  var VERSION = "0.1.0";

  // ---- util.js ----

  // Small helpers standing in for ES5 built-ins, so the bundle runs on ES3
  // engines (IE6-8, old WebKit) without polyfills.

  var hasOwn = Object.prototype.hasOwnProperty;
  var objectToString = Object.prototype.toString;
  var noop = function () {};

  function isArray(value) {
    return objectToString.call(value) === "[object Array]";
  }

  function indexOf(list, item) {
    for (var i = 0; i < list.length; i++) {
      if (list[i] === item) {
        return i;
      }
    }
    return -1;
  }

  function extend(target, source) {
    for (var key in source) {
      if (hasOwn.call(source, key)) {
        target[key] = source[key];
      }
    }
    return target;
  }

  function bind(fn, self) {
    return function () {
      return fn.apply(self, arguments);
    };
  }

  function toArray(args, start) {
    return Array.prototype.slice.call(args, start || 0);
  }

  function now() {
    return new Date().getTime();
  }

  // A cache buster that differs between two requests made in the same
  // millisecond; old IE caches GET responses regardless of headers.
  var stampCounter = 0;
  function timestamp() {
    stampCounter = (stampCounter + 1) % 1679616;
    return now().toString(36) + stampCounter.toString(36);
  }

  function encodeQuery(params) {
    var parts = [];
    for (var key in params) {
      if (hasOwn.call(params, key) && params[key] != null) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(params[key]));
      }
    }
    return parts.join("&");
  }

  function decodeQuery(text) {
    var params = {};
    var pairs = text ? text.split("&") : [];
    for (var i = 0; i < pairs.length; i++) {
      var eq = pairs[i].indexOf("=");
      var key = eq < 0 ? pairs[i] : pairs[i].substring(0, eq);
      params[decodeURIComponent(key)] = eq < 0 ? "" : decodeURIComponent(pairs[i].substring(eq + 1));
    }
    return params;
  }

  // Prototype inheritance without Object.create (ES5).
  function inherit(Child, Parent) {
    function Prototype() {}
    Prototype.prototype = Parent.prototype;
    Child.prototype = new Prototype();
    Child.prototype.constructor = Child;
  }

  // UTF-8 length of a string, used to keep polling payloads under maxPayload.
  function utf8Length(text) {
    var length = 0;
    for (var i = 0; i < text.length; i++) {
      var code = text.charCodeAt(i);
      if (code < 0x80) {
        length += 1;
      } else if (code < 0x800) {
        length += 2;
      } else if (code < 0xd800 || code >= 0xe000) {
        length += 3;
      } else {
        i++;
        length += 4;
      }
    }
    return length;
  }

  // ---- json.js ----

  // JSON for engines that lack it (IE6/7, IE8 in quirks mode). The native
  // object is used whenever it exists; the fallback follows RFC 8259.

  var escapeChars = {
    "\"": "\\\"",
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t"
  };

  function quoteString(text) {
    return "\"" + text.replace(/[\\"\x00-\x1f\u2028\u2029]/g, function (c) {
      return escapeChars[c] || "\\u" + ("0000" + c.charCodeAt(0).toString(16)).slice(-4);
    }) + "\"";
  }

  function stringifyValue(value) {
    var parts;
    var i;
    if (value && typeof value.toJSON === "function") {
      value = value.toJSON();
    }
    switch (typeof value) {
      case "string":
        return quoteString(value);
      case "number":
        return isFinite(value) ? String(value) : "null";
      case "boolean":
        return String(value);
      case "object":
        if (value === null) {
          return "null";
        }
        parts = [];
        if (isArray(value)) {
          for (i = 0; i < value.length; i++) {
            parts.push(stringifyValue(value[i]) || "null");
          }
          return "[" + parts.join(",") + "]";
        }
        for (i in value) {
          if (hasOwn.call(value, i)) {
            var item = stringifyValue(value[i]);
            if (item) {
              parts.push(quoteString(i) + ":" + item);
            }
          }
        }
        return "{" + parts.join(",") + "}";
      default:
        return undefined; // functions and undefined are left out, as natively
    }
  }

  // Validate with regular expressions, then let the engine evaluate: the text
  // can only be made of JSON tokens, so it cannot run code.
  function parseJSON(text) {
    text = String(text).replace(/[\u2028\u2029]/g, function (c) {
      return c === "\u2028" ? "\\u2028" : "\\u2029";
    });
    var skeleton = text
      .replace(/\\(?:["\\\/bfnrt]|u[0-9a-fA-F]{4})/g, "@")
      .replace(/"[^"\\\x00-\x1f]*"|true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+\-]?\d+)?(?!\d)/g, "]")
      .replace(/(?:^|:|,)(?:\s*\[)+/g, "");
    if (/\S/.test(text) && /^[\],:{}\s]*$/.test(skeleton)) {
      return new Function("return (" + text + ");")();
    }
    throw new SyntaxError("Invalid JSON");
  }

  var fallbackJSON = { parse: parseJSON, stringify: stringifyValue };
  var nativeJSON = typeof JSON === "object" && JSON && typeof JSON.parse === "function" ? JSON : null;
  var json = nativeJSON || fallbackJSON;

  // ---- emitter.js ----

  // Event emitter shared by every layer. Listener lists are keyed with a "$"
  // prefix so that event names like "constructor" cannot hit Object.prototype.

  function Emitter() {}

  Emitter.prototype.on = function (event, fn) {
    var lists = this._listeners || (this._listeners = {});
    (lists["$" + event] || (lists["$" + event] = [])).push(fn);
    return this;
  };

  Emitter.prototype.addEventListener = Emitter.prototype.on;

  Emitter.prototype.once = function (event, fn) {
    var self = this;
    function wrapper() {
      self.off(event, wrapper);
      fn.apply(this, arguments);
    }
    wrapper.fn = fn;
    return this.on(event, wrapper);
  };

  Emitter.prototype.off = function (event, fn) {
    var lists = this._listeners;
    if (!lists) {
      return this;
    }
    if (!arguments.length) {
      this._listeners = {};
      return this;
    }
    var list = lists["$" + event];
    if (!list) {
      return this;
    }
    if (arguments.length === 1) {
      delete lists["$" + event];
      return this;
    }
    for (var i = 0; i < list.length; i++) {
      if (list[i] === fn || list[i].fn === fn) {
        list.splice(i, 1);
        break;
      }
    }
    if (!list.length) {
      delete lists["$" + event];
    }
    return this;
  };

  Emitter.prototype.removeListener = Emitter.prototype.off;
  Emitter.prototype.removeAllListeners = Emitter.prototype.off;

  // Calls the listeners of a snapshot of the list: a listener that removes
  // itself (once) must not make the next one skip.
  Emitter.prototype.emit = function (event) {
    var list = this._listeners && this._listeners["$" + event];
    if (list) {
      var args = toArray(arguments, 1);
      list = list.slice(0);
      for (var i = 0; i < list.length; i++) {
        list[i].apply(this, args);
      }
    }
    return this;
  };

  // Socket overrides emit() to send to the server; every layer fires its own
  // events through fire().
  Emitter.prototype.fire = Emitter.prototype.emit;

  Emitter.prototype.listeners = function (event) {
    var list = this._listeners && this._listeners["$" + event];
    return list ? list.slice(0) : [];
  };

  Emitter.prototype.hasListeners = function (event) {
    return this.listeners(event).length > 0;
  };

  // Subscribes and returns the function that undoes it, so owners can drop
  // every subscription they made in one loop.
  function listen(emitter, event, fn) {
    emitter.on(event, fn);
    return function () {
      emitter.off(event, fn);
    };
  }

  // ---- binary.js ----

  // Binary values (ArrayBuffer, typed arrays, Blob) and their base64 form,
  // used by polling transports where Engine.IO 4 carries binary as "b<base64>".

  var hasArrayBuffer = typeof ArrayBuffer !== "undefined" && typeof Uint8Array !== "undefined";
  var hasBlob = typeof Blob !== "undefined";
  var BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  var base64Lookup = {};
  for (var b64i = 0; b64i < 64; b64i++) {
    base64Lookup[BASE64_ALPHABET.charAt(b64i)] = b64i;
  }

  function isBuffer(value) {
    return hasArrayBuffer && value != null &&
      (value instanceof ArrayBuffer || value.buffer instanceof ArrayBuffer);
  }

  function isBlob(value) {
    return hasBlob && value instanceof Blob;
  }

  function isBinary(value) {
    return isBuffer(value) || isBlob(value);
  }

  function toBytes(value) {
    return value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }

  function encodeBase64(value) {
    var bytes = toBytes(value);
    var out = [];
    var length = bytes.length;
    for (var i = 0; i < length; i += 3) {
      var n = (bytes[i] << 16) | ((i + 1 < length ? bytes[i + 1] : 0) << 8) |
        (i + 2 < length ? bytes[i + 2] : 0);
      out.push(
        BASE64_ALPHABET.charAt(n >> 18 & 63) + BASE64_ALPHABET.charAt(n >> 12 & 63) +
        (i + 1 < length ? BASE64_ALPHABET.charAt(n >> 6 & 63) : "=") +
        (i + 2 < length ? BASE64_ALPHABET.charAt(n & 63) : "=")
      );
    }
    return out.join("");
  }

  // Browsers without typed arrays get {base64: true, data: "..."}, the shape
  // socket.io-client uses for the same case.
  function decodeBase64(text) {
    if (!/^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=)?$/.test(text)) {
      throw new Error("invalid base64");
    }
    if (!hasArrayBuffer) {
      return { base64: true, data: text };
    }
    text = text.replace(/=+$/, "");
    var bytes = new Uint8Array(Math.floor(text.length * 3 / 4));
    var j = 0;
    for (var i = 0; i < text.length; i += 4) {
      var n = (base64Lookup[text.charAt(i)] << 18) | (base64Lookup[text.charAt(i + 1)] << 12) |
        ((base64Lookup[text.charAt(i + 2)] || 0) << 6) | (base64Lookup[text.charAt(i + 3)] || 0);
      bytes[j++] = n >> 16 & 255;
      if (i + 2 < text.length) {
        bytes[j++] = n >> 8 & 255;
      }
      if (i + 3 < text.length) {
        bytes[j++] = n & 255;
      }
    }
    return bytes.buffer;
  }

  // WebSocket.send wants an ArrayBuffer on older engines, not a view.
  function toArrayBuffer(value) {
    if (value instanceof ArrayBuffer) {
      return value;
    }
    var bytes = toBytes(value);
    var copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return copy.buffer;
  }

  // Blobs are read asynchronously; everything else answers at once.
  function readBinary(value, callback) {
    if (isBlob(value)) {
      var reader = new FileReader();
      reader.onload = function () {
        callback(reader.result);
      };
      reader.readAsArrayBuffer(value);
    } else {
      callback(value);
    }
  }

  // ---- engine_parser.js ----

  // Engine.IO protocol 4 packets and payloads.
  //   packet:  <type digit><data>, or "b<base64>" for binary on text transports
  //   payload: packets joined by the record separator \x1e (polling bodies)

  var ENGINE_TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];
  var ENGINE_CODES = {};
  for (var engineCode = 0; engineCode < ENGINE_TYPES.length; engineCode++) {
    ENGINE_CODES[ENGINE_TYPES[engineCode]] = String(engineCode);
  }
  var SEPARATOR = "\x1e";
  var PARSE_ERROR = { type: "error", data: "parser error" };

  // callback(encoded): a string, or for WebSocket (binaryFrames) the binary
  // itself. Blobs bound for a text transport are read first, asynchronously.
  function encodeEnginePacket(packet, binaryFrames, callback) {
    var data = packet.data;
    if (isBinary(data)) {
      if (binaryFrames) {
        callback(isBlob(data) ? data : toArrayBuffer(data));
      } else {
        readBinary(data, function (buffer) {
          callback("b" + encodeBase64(buffer));
        });
      }
    } else {
      callback(ENGINE_CODES[packet.type] + (data == null ? "" : String(data)));
    }
  }

  function decodeEnginePacket(encoded) {
    if (typeof encoded !== "string") {
      return { type: "message", data: encoded };
    }
    var first = encoded.charAt(0);
    if (first === "b") {
      try {
        return { type: "message", data: decodeBase64(encoded.substring(1)) };
      } catch (e) {
        return PARSE_ERROR;
      }
    }
    var type = ENGINE_TYPES[first];
    if (!type) {
      return PARSE_ERROR;
    }
    return encoded.length > 1 ? { type: type, data: encoded.substring(1) } : { type: type };
  }

  // Keeps packet order even when a Blob makes one encoding asynchronous.
  function encodeEnginePayload(packets, callback) {
    var encoded = [];
    var pending = packets.length;
    if (!pending) {
      callback("");
    }
    function store(index) {
      return function (text) {
        encoded[index] = text;
        if (--pending === 0) {
          callback(encoded.join(SEPARATOR));
        }
      };
    }
    for (var i = 0; i < packets.length; i++) {
      encodeEnginePacket(packets[i], false, store(i));
    }
  }

  function decodeEnginePayload(payload) {
    var parts = payload.split(SEPARATOR);
    var packets = [];
    for (var i = 0; i < parts.length; i++) {
      var packet = decodeEnginePacket(parts[i]);
      packets.push(packet);
      if (packet.type === "error") {
        break;
      }
    }
    return packets;
  }

  // ---- socket_parser.js ----

  // Socket.IO protocol 5 packets.
  //   <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
  // Binary values inside the data travel as separate Engine.IO messages that
  // follow the packet; the JSON keeps {"_placeholder":true,"num":n} in their place.

  var RESERVED_EVENTS = {
    connect: 1,
    connect_error: 1,
    disconnect: 1,
    disconnecting: 1,
    newListener: 1,
    removeListener: 1
  };

  var CONNECT = 0;
  var DISCONNECT = 1;
  var EVENT = 2;
  var ACK = 3;
  var CONNECT_ERROR = 4;
  var BINARY_EVENT = 5;
  var BINARY_ACK = 6;

  function hasBinary(value) {
    if (!value || typeof value !== "object") {
      return false;
    }
    if (isBinary(value)) {
      return true;
    }
    if (isArray(value)) {
      for (var i = 0; i < value.length; i++) {
        if (hasBinary(value[i])) {
          return true;
        }
      }
      return false;
    }
    for (var key in value) {
      if (hasOwn.call(value, key) && hasBinary(value[key])) {
        return true;
      }
    }
    return false;
  }

  // Copies the data with binaries swapped for placeholders (the caller's
  // objects are left untouched).
  function deconstruct(value, buffers) {
    var copy;
    var key;
    if (!value || typeof value !== "object") {
      return value;
    }
    if (isBinary(value)) {
      buffers.push(value);
      return { _placeholder: true, num: buffers.length - 1 };
    }
    if (isArray(value)) {
      copy = [];
      for (key = 0; key < value.length; key++) {
        copy.push(deconstruct(value[key], buffers));
      }
      return copy;
    }
    copy = {};
    for (key in value) {
      if (hasOwn.call(value, key)) {
        copy[key] = deconstruct(value[key], buffers);
      }
    }
    return copy;
  }

  function reconstruct(value, buffers) {
    if (!value || typeof value !== "object") {
      return value;
    }
    if (value._placeholder === true) {
      var num = value.num;
      if (typeof num === "number" && num >= 0 && num < buffers.length && num % 1 === 0) {
        return buffers[num];
      }
      throw new Error("bad placeholder");
    }
    for (var key in value) {
      if (hasOwn.call(value, key)) {
        value[key] = reconstruct(value[key], buffers);
      }
    }
    return value;
  }

  // Returns the Engine.IO messages for one packet: the text, then attachments.
  function encodeSocketPacket(packet) {
    var type = packet.type;
    var data = packet.data;
    var buffers = [];
    if ((type === EVENT || type === ACK) && hasBinary(data)) {
      type += BINARY_EVENT - EVENT;
    }
    var text = String(type);
    if (type === BINARY_EVENT || type === BINARY_ACK) {
      data = deconstruct(data, buffers);
      text += buffers.length + "-";
    }
    if (packet.nsp && packet.nsp !== "/") {
      text += packet.nsp + ",";
    }
    if (packet.id != null) {
      text += packet.id;
    }
    if (data !== undefined) {
      text += json.stringify(data);
    }
    return [text].concat(buffers);
  }

  var MAX_ATTACHMENTS = 10;
  var MAX_ACK_ID = 9007199254740991;

  function fail(kind) {
    throw new Error(kind);
  }

  function checkPayload(packet) {
    var type = packet.type;
    var data = packet.data;
    var valid;
    switch (type) {
      case CONNECT:
        valid = data === undefined || (typeof data === "object" && data !== null && !isArray(data));
        break;
      case DISCONNECT:
        valid = data === undefined;
        break;
      case CONNECT_ERROR:
        valid = typeof data === "string" || (typeof data === "object" && data !== null);
        break;
      default:
        valid = isArray(data) && (data.length > 0 || type === ACK || type === BINARY_ACK);
    }
    if (!valid) {
      fail("invalid payload");
    }
    if (type === EVENT || type === BINARY_EVENT) {
      if (typeof data[0] !== "string") {
        fail("bad event name");
      }
      if (hasOwn.call(RESERVED_EVENTS, data[0])) {
        fail("reserved event name");
      }
    }
    var needsId = type === ACK || type === BINARY_ACK;
    var mayHaveId = needsId || type === EVENT || type === BINARY_EVENT;
    if ((needsId && packet.id === undefined) || (!mayHaveId && packet.id !== undefined)) {
      fail("bad ack id");
    }
  }

  // Errors carry the kind of fault as their message ("invalid json", ...),
  // the same words as the shared wire vectors.
  function decodeSocketString(text) {
    var i = 0;
    var start;
    if (!text) {
      fail("empty packet");
    }
    var packet = { type: Number(text.charAt(0)), nsp: "/" };
    if (!/^[0-6]/.test(text)) {
      fail("unknown packet type");
    }
    if (packet.type === BINARY_EVENT || packet.type === BINARY_ACK) {
      start = i + 1;
      while (text.charAt(++i) !== "-") {
        if (i >= text.length) {
          fail("bad attachment count");
        }
      }
      var count = text.substring(start, i);
      // A binary packet with no attachment is refused, as Node's parser does.
      if (!/^\d+$/.test(count) || Number(count) < 1) {
        fail("bad attachment count");
      }
      packet.attachments = Number(count);
      if (packet.attachments > MAX_ATTACHMENTS) {
        fail("too many attachments");
      }
    }
    if (text.charAt(i + 1) === "/") {
      start = i + 1;
      while (++i < text.length && text.charAt(i) !== ",") {}
      packet.nsp = text.substring(start, i);
    }
    start = i + 1;
    while (/\d/.test(text.charAt(i + 1))) {
      i++;
    }
    if (i >= start) {
      var digits = text.substring(start, i + 1);
      packet.id = Number(digits);
      if (digits.length > 16 || packet.id > MAX_ACK_ID) {
        fail("bad ack id");
      }
    }
    if (i + 1 < text.length) {
      try {
        packet.data = json.parse(text.substring(i + 1));
      } catch (e) {
        fail("invalid json");
      }
    }
    checkPayload(packet);
    return packet;
  }

  // Feeds Engine.IO messages in; add() returns a whole Socket.IO packet once
  // its last attachment arrived, null before that, and throws on bad input.
  function SocketDecoder() {
    this.reset();
  }

  SocketDecoder.prototype.add = function (message) {
    var packet = this.pending;
    if (typeof message === "string") {
      if (packet) {
        fail("missing attachment");
      }
      packet = decodeSocketString(message);
      if (packet.attachments) {
        this.pending = packet;
        return null;
      }
      if (packet.attachments === 0) {
        packet.data = reconstruct(packet.data, []);
      }
      return packet;
    }
    if (!packet) {
      fail("unexpected binary");
    }
    this.buffers.push(message);
    if (this.buffers.length < packet.attachments) {
      return null;
    }
    var buffers = this.buffers;
    this.reset();
    packet.data = reconstruct(packet.data, buffers);
    return packet;
  };

  SocketDecoder.prototype.reset = function () {
    this.pending = null;
    this.buffers = [];
  };

  // ---- transports/transport.js ----

  // What every transport shares: state, URI building, decoding into packets.
  // Events: "open", "packet", "error", "close", "drain" (ready to write again).

  function Transport(opts) {
    this.opts = opts;
    this.query = extend({}, opts.query);
    this.readyState = "";
    this.writable = false;
  }

  inherit(Transport, Emitter);

  Transport.prototype.open = function () {
    this.readyState = "opening";
    this.doOpen();
    return this;
  };

  Transport.prototype.close = function () {
    if (this.readyState === "opening" || this.readyState === "open") {
      this.doClose();
      this.onClose({ description: "closed by the client" });
    }
    return this;
  };

  Transport.prototype.send = function (packets) {
    if (this.readyState === "open") {
      this.write(packets);
    }
  };

  Transport.prototype.onOpen = function () {
    this.readyState = "open";
    this.writable = true;
    this.fire("open");
  };

  Transport.prototype.onData = function (data) {
    this.onPacket(decodeEnginePacket(data));
  };

  Transport.prototype.onPacket = function (packet) {
    this.fire("packet", packet);
  };

  Transport.prototype.onError = function (reason, context) {
    var error = new Error(reason);
    error.type = "TransportError";
    error.context = context;
    this.fire("error", error);
  };

  Transport.prototype.onClose = function (details) {
    if (this.readyState !== "closed") {
      this.readyState = "closed";
      this.fire("close", details);
    }
  };

  Transport.prototype.pause = function (onPause) {
    onPause();
  };

  Transport.prototype.uri = function (schema, query) {
    var opts = this.opts;
    var port = opts.port;
    var defaultPort = schema === "https" || schema === "wss" ? "443" : "80";
    var text = encodeQuery(query);
    return schema + "://" + opts.hostname +
      (port && String(port) !== defaultPort ? ":" + port : "") +
      opts.path + (text ? "?" + text : "");
  };

  // ---- transports/polling.js ----

  // Long-polling: one GET parked on the server at a time, POSTs for writes.
  // Subclasses provide doPoll() and doWrite(data, done); XHR and JSONP differ
  // only in how a request travels.

  function Polling(opts) {
    Transport.call(this, opts);
    this.polling = false;
  }

  inherit(Polling, Transport);

  Polling.prototype.doOpen = function () {
    this.poll();
  };

  // Resolves once no request is in flight, so the upgrade can swap transports
  // without losing a packet.
  Polling.prototype.pause = function (onPause) {
    var self = this;
    var waiting = 0;
    this.readyState = "pausing";
    function paused() {
      if (--waiting <= 0) {
        self.readyState = "paused";
        onPause();
      }
    }
    if (this.polling) {
      waiting++;
      this.once("pollComplete", paused);
    }
    if (!this.writable) {
      waiting++;
      this.once("drain", paused);
    }
    if (!waiting) {
      waiting = 1;
      paused();
    }
  };

  Polling.prototype.poll = function () {
    this.polling = true;
    this.doPoll();
    this.fire("poll");
  };

  Polling.prototype.onData = function (payload) {
    if (this.readyState === "closed") {
      return;
    }
    var packets = decodeEnginePayload(payload);
    for (var i = 0; i < packets.length; i++) {
      var packet = packets[i];
      if (this.readyState === "opening" && packet.type === "open") {
        this.onOpen();
      }
      if (packet.type === "close") {
        this.onClose({ description: "transport closed by the server" });
        return;
      }
      this.onPacket(packet);
      if (this.readyState === "closed") {
        return;
      }
    }
    this.polling = false;
    this.fire("pollComplete");
    if (this.readyState === "open") {
      this.poll();
    }
  };

  // The close packet goes out as a POST; if the handshake is still running it
  // waits for it, because a close needs a session id.
  Polling.prototype.doClose = function () {
    var self = this;
    function sendClose() {
      self.write([{ type: "close" }]);
    }
    if (this.readyState === "open") {
      sendClose();
    } else {
      this.once("open", sendClose);
    }
  };

  Polling.prototype.write = function (packets) {
    var self = this;
    this.writable = false;
    encodeEnginePayload(packets, function (payload) {
      self.doWrite(payload, function () {
        self.writable = true;
        self.fire("drain");
      });
    });
  };

  Polling.prototype.pollUri = function () {
    var query = extend({}, this.query);
    if (this.opts.timestampRequests !== false) {
      query.t = timestamp();
    }
    return this.uri(this.opts.secure ? "https" : "http", query);
  };

  // A goodbye that survives the page going away: a beacon carrying the close
  // packet (JSONP servers read form bodies). Without sendBeacon the server
  // notices through the missing heartbeat instead.
  Polling.prototype.beacon = function () {
    var nav = root.navigator;
    if (this.readyState === "open" && nav && nav.sendBeacon) {
      try {
        nav.sendBeacon(this.pollUri(), this.query.j != null ? "d=1" : "1");
      } catch (e) {}
    }
  };

  // ---- transports/xhr.js ----

  // Polling over XMLHttpRequest: CORS XHR where the browser has it,
  // XDomainRequest for cross-origin on IE8/9, ActiveX XMLHTTP on IE6.

  function createXHR(crossDomain, secure) {
    if (typeof XMLHttpRequest !== "undefined") {
      try {
        var xhr = new XMLHttpRequest();
        if (!crossDomain || "withCredentials" in xhr) {
          return xhr;
        }
      } catch (e) {}
    }
    if (crossDomain) {
      // XDomainRequest cannot change the scheme of the page.
      if (typeof XDomainRequest !== "undefined" &&
          root.location && root.location.protocol === (secure ? "https:" : "http:")) {
        return new XDomainRequest();
      }
      return null;
    }
    try {
      return new root.ActiveXObject("Microsoft.XMLHTTP");
    } catch (e) {}
    return null;
  }

  function XHRPolling(opts) {
    Polling.call(this, opts);
  }

  inherit(XHRPolling, Polling);

  XHRPolling.canReach = function (opts) {
    return !!createXHR(opts.crossDomain, opts.secure);
  };

  XHRPolling.prototype.doPoll = function () {
    var self = this;
    this.request("GET", null, function (text) {
      self.onData(text);
    }, function (status) {
      self.onError("xhr poll error", status);
    });
  };

  XHRPolling.prototype.doWrite = function (payload, done) {
    var self = this;
    this.request("POST", payload, done, function (status) {
      self.onError("xhr post error", status);
    });
  };

  XHRPolling.prototype.request = function (method, body, onSuccess, onFailure) {
    var opts = this.opts;
    var xhr = createXHR(opts.crossDomain, opts.secure);
    // Cross-origin requests only get an XMLHttpRequest that speaks CORS, so
    // one without withCredentials is IE8/9's XDomainRequest.
    var isXDR = !!xhr && opts.crossDomain && !("withCredentials" in xhr);
    var finished = false;
    function finish(ok, value) {
      if (finished) {
        return;
      }
      finished = true;
      if (isXDR) {
        xhr.onload = xhr.onerror = xhr.ontimeout = noop;
      } else {
        xhr.onreadystatechange = noop;
      }
      if (ok) {
        onSuccess(value);
      } else {
        onFailure(value);
      }
    }
    // Failures are reported on a later tick so callers never see them re-entrantly.
    function failLater(value) {
      setTimeout(function () {
        finish(false, value);
      }, 0);
    }
    try {
      xhr.open(method, this.pollUri(), true);
      if (isXDR) {
        xhr.onprogress = noop; // IE9 aborts XDomainRequests that lack it
        xhr.onerror = xhr.ontimeout = function () {
          failLater(0);
        };
        xhr.onload = function () {
          finish(true, xhr.responseText);
        };
        setTimeout(function () {
          xhr.send(body);
        }, 0);
        return;
      }
      if (opts.withCredentials && "withCredentials" in xhr) {
        xhr.withCredentials = true;
      }
      if (method === "POST") {
        xhr.setRequestHeader("Content-Type", "text/plain;charset=UTF-8");
      }
      var headers = opts.extraHeaders;
      for (var name in headers) {
        if (hasOwn.call(headers, name)) {
          xhr.setRequestHeader(name, headers[name]);
        }
      }
      xhr.onreadystatechange = function () {
        if (xhr.readyState !== 4) {
          return;
        }
        var status = 0;
        try {
          status = xhr.status;
        } catch (e) {}
        // 1223 is how IE reports a 204.
        if (status === 200 || status === 1223) {
          finish(true, xhr.responseText);
        } else {
          failLater(status);
        }
      };
      xhr.send(body);
    } catch (e) {
      failLater(e);
    }
  };

  // ---- transports/jsonp.js ----

  // Polling for browsers that can reach the server neither through WebSocket
  // nor through cross-origin XHR: GETs are <script> tags calling
  // ___eio[<index>]("<payload>"), POSTs are a hidden form submitted into an
  // iframe, the payload in its field "d".

  function JSONPPolling(opts) {
    Polling.call(this, opts);
    var self = this;
    var callbacks = root.___eio || (root.___eio = []);
    this.index = callbacks.length;
    callbacks.push(function (payload) {
      self.onData(payload);
    });
    this.query.j = this.index;
  }

  inherit(JSONPPolling, Polling);

  JSONPPolling.canReach = function () {
    return typeof document !== "undefined" && !!document.createElement;
  };

  // A <script> added before the page finished loading holds back its load
  // event (and keeps the spinner going) for as long as the poll is parked, so
  // the first request waits for "load".
  function afterLoad(fn) {
    if (!document.readyState || document.readyState === "complete") {
      fn();
    } else if (root.addEventListener) {
      root.addEventListener("load", fn, false);
    } else {
      root.attachEvent("onload", fn);
    }
  }

  JSONPPolling.prototype.doPoll = function () {
    var self = this;
    if (!this.loaded) {
      afterLoad(function () {
        self.loaded = true;
        if (self.readyState !== "closed") {
          self.doPoll();
        }
      });
      return;
    }
    var script = document.createElement("script");
    this.removeScript();
    script.async = true;
    script.src = this.pollUri();
    // A failed GET (unknown session after a server restart, network down):
    // onerror on modern browsers, readyState "loaded" without a call on old IE.
    script.onerror = function () {
      if (self.script === script) {
        self.onError("jsonp poll error");
      }
    };
    script.onreadystatechange = function () {
      if (/loaded|complete/.test(script.readyState) && self.script === script && self.polling) {
        self.onError("jsonp poll error");
      }
    };
    var head = document.getElementsByTagName("head")[0] || document.body;
    head.appendChild(script);
    this.script = script;
  };

  JSONPPolling.prototype.removeScript = function () {
    var script = this.script;
    if (script) {
      script.onerror = script.onreadystatechange = null;
      if (script.parentNode) {
        script.parentNode.removeChild(script);
      }
      this.script = null;
    }
  };

  JSONPPolling.prototype.doWrite = function (payload, done) {
    var self = this;
    var frameName = "eio_iframe_" + this.index;
    var form = this.form;
    if (!form) {
      form = this.form = document.createElement("form");
      this.area = document.createElement("textarea");
      form.style.position = "absolute";
      form.style.top = "-1000px";
      form.style.left = "-1000px";
      form.target = frameName;
      form.method = "POST";
      form.setAttribute("accept-charset", "utf-8");
      this.area.name = "d";
      form.appendChild(this.area);
      document.body.appendChild(form);
    }
    form.action = this.pollUri();

    function createFrame() {
      var frame;
      if (self.frame) {
        self.form.removeChild(self.frame);
      }
      try {
        // IE6-8 ignore a name set after creation; this form throws elsewhere.
        frame = document.createElement("<iframe name=\"" + frameName + "\" src=\"javascript:0\">");
      } catch (e) {
        frame = document.createElement("iframe");
        frame.name = frameName;
      }
      frame.id = frameName;
      self.form.appendChild(frame);
      self.frame = frame;
    }

    function complete() {
      createFrame();
      done();
    }

    createFrame();
    // Servers undo the newline escaping of old JSONP clients ("\n" to a raw
    // newline, "\\n" to "\n"). JSON text only has backslashes in escapes, so
    // writing the two escapes that could form those pairs as \u000a and \u005c
    // leaves nothing to undo, whether or not the server tries.
    this.area.value = payload.replace(/\\(.)/g, function (match, escaped) {
      return escaped === "n" ? "\\u000a" : escaped === "\\" ? "\\u005c" : match;
    });
    try {
      form.submit();
    } catch (e) {}
    if (this.frame.attachEvent) {
      this.frame.onreadystatechange = function () {
        if (self.frame.readyState === "complete") {
          complete();
        }
      };
    } else {
      this.frame.onload = complete;
    }
  };

  JSONPPolling.prototype.doClose = function () {
    Polling.prototype.doClose.call(this);
    this.removeScript();
    var self = this;
    // The close packet's POST still needs the form; drop it afterwards.
    setTimeout(function () {
      if (self.form && self.form.parentNode && self.writable) {
        self.form.parentNode.removeChild(self.form);
        self.form = null;
      }
    }, 1000);
  };

  // ---- transports/websocket.js ----

  // WebSocket: one Engine.IO packet per frame, binary as binary frames.

  function webSocketClass() {
    return root.WebSocket || root.MozWebSocket;
  }

  function WebSocketTransport(opts) {
    Transport.call(this, opts);
  }

  inherit(WebSocketTransport, Transport);

  WebSocketTransport.canReach = function () {
    return !!webSocketClass();
  };

  WebSocketTransport.prototype.doOpen = function () {
    var self = this;
    var query = extend({}, this.query);
    if (this.opts.timestampRequests) {
      query.t = timestamp();
    }
    var Socket = webSocketClass();
    var ws;
    try {
      ws = this.ws = new Socket(this.uri(this.opts.secure ? "wss" : "ws", query));
    } catch (e) {
      setTimeout(function () {
        self.onError("websocket error", e);
      }, 0);
      return;
    }
    ws.binaryType = "arraybuffer";
    ws.onopen = function () {
      self.onOpen();
    };
    ws.onclose = function (event) {
      self.onClose({ description: "websocket connection closed", context: event });
    };
    ws.onmessage = function (event) {
      self.onData(event.data);
    };
    ws.onerror = function (event) {
      self.onError("websocket error", event);
    };
  };

  WebSocketTransport.prototype.write = function (packets) {
    var self = this;
    var remaining = packets.length;
    this.writable = false;
    function sent() {
      if (--remaining === 0) {
        // Let the browser take the frames before reporting the buffer drained.
        setTimeout(function () {
          self.writable = true;
          self.fire("drain");
        }, 0);
      }
    }
    for (var i = 0; i < packets.length; i++) {
      encodeEnginePacket(packets[i], true, function (data) {
        try {
          self.ws.send(data);
        } catch (e) {}
        sent();
      });
    }
  };

  WebSocketTransport.prototype.doClose = function () {
    var ws = this.ws;
    if (ws) {
      ws.onopen = ws.onclose = ws.onmessage = ws.onerror = noop;
      try {
        ws.close();
      } catch (e) {}
      this.ws = null;
    }
  };

  // ---- engine.js ----

  // The Engine.IO client session: handshake, heartbeat, write buffer and the
  // upgrade from polling to WebSocket.
  // Events: "open", "data" (a message), "ping", "upgrade", "upgradeError",
  // "error", "close" (reason, details).

  var TRANSPORT_CLASSES = {
    websocket: WebSocketTransport,
    polling: XHRPolling,
    jsonp: JSONPPolling
  };

  // "polling" means XHR when the browser can reach the server with it and
  // JSONP otherwise (unless the jsonp option is false); transports the
  // browser lacks are left out.
  function usableTransports(names, opts) {
    var usable = [];
    for (var i = 0; i < names.length; i++) {
      var name = names[i];
      if (name === "polling" && !XHRPolling.canReach(opts)) {
        name = opts.jsonp === false ? "" : "jsonp";
      }
      var Class = TRANSPORT_CLASSES[name];
      if (Class && Class.canReach(opts) && indexOf(usable, name) < 0) {
        usable.push(name);
      }
    }
    return usable;
  }

  // Engines with an open session, told when the page goes away.
  var openEngines = [];

  function onPageHide() {
    var engines = openEngines.slice(0);
    for (var i = 0; i < engines.length; i++) {
      engines[i].goodbye();
    }
  }

  if (root.addEventListener) {
    root.addEventListener("pagehide", onPageHide, false);
  } else if (root.attachEvent) {
    root.attachEvent("onunload", onPageHide);
  }

  function EngineSocket(opts) {
    this.opts = opts;
    this.transports = usableTransports(opts.transports || ["polling", "websocket"], opts);
    this.readyState = "";
    this.writeBuffer = [];
    this.prevBufferLen = 0;
    this.upgrading = false;
    this.id = null;
    this.transport = null;
    this.open();
  }

  inherit(EngineSocket, Emitter);

  EngineSocket.prototype.protocol = 4;

  EngineSocket.prototype.open = function () {
    var self = this;
    if (!this.transports.length) {
      setTimeout(function () {
        self.fire("error", new Error("No transports available"));
      }, 0);
      return;
    }
    this.readyState = "opening";
    var transport = this.createTransport(this.transports[0]);
    this.setTransport(transport);
    transport.open();
  };

  EngineSocket.prototype.createTransport = function (name) {
    var query = extend({}, this.opts.query);
    query.EIO = 4;
    query.transport = name === "websocket" ? "websocket" : "polling";
    if (this.id) {
      query.sid = this.id;
    }
    var opts = extend({}, this.opts);
    opts.query = query;
    var transport = new TRANSPORT_CLASSES[name](opts);
    transport.name = name;
    return transport;
  };

  EngineSocket.prototype.setTransport = function (transport) {
    var self = this;
    if (this.transport) {
      this.transport.off();
    }
    this.transport = transport;
    transport.on("drain", function () {
      self.onDrain();
    });
    transport.on("packet", function (packet) {
      self.onPacket(packet);
    });
    transport.on("error", function (error) {
      self.onError(error);
    });
    transport.on("close", function (details) {
      self.onClose("transport close", details);
    });
  };

  EngineSocket.prototype.onPacket = function (packet) {
    if (this.readyState !== "opening" && this.readyState !== "open" && this.readyState !== "closing") {
      return;
    }
    switch (packet.type) {
      case "open":
        var handshake;
        try {
          handshake = json.parse(packet.data);
        } catch (e) {
          this.onError(new Error("invalid handshake"));
          return;
        }
        this.onHandshake(handshake);
        break;
      case "ping":
        this.resetPingTimeout();
        this.sendPacket("pong");
        this.fire("ping");
        break;
      case "message":
        this.fire("data", packet.data);
        break;
      case "close":
        // The server said goodbye (shutdown, restart): reconnect from scratch.
        this.onClose("transport close");
        break;
      case "error":
        var error = new Error("server error");
        error.code = packet.data;
        this.onError(error);
        break;
    }
  };

  EngineSocket.prototype.onHandshake = function (data) {
    this.fire("handshake", data);
    this.id = data.sid;
    this.transport.query.sid = data.sid;
    this.upgrades = [];
    var offered = data.upgrades || [];
    for (var i = 0; i < offered.length; i++) {
      if (indexOf(this.transports, offered[i]) >= 0) {
        this.upgrades.push(offered[i]);
      }
    }
    this.pingInterval = data.pingInterval;
    this.pingTimeout = data.pingTimeout;
    this.maxPayload = data.maxPayload;
    this.readyState = "open";
    openEngines.push(this);
    this.fire("open");
    this.flush();
    if (this.readyState === "open" && this.opts.upgrade !== false && this.transport.name !== "websocket") {
      for (i = 0; i < this.upgrades.length; i++) {
        this.probe(this.upgrades[i]);
      }
    }
    if (this.readyState !== "closed") {
      this.resetPingTimeout();
    }
  };

  // EIO4: the server pings; silence for pingInterval + pingTimeout means the
  // connection is gone even if no transport noticed.
  EngineSocket.prototype.resetPingTimeout = function () {
    var self = this;
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(function () {
      self.onClose("ping timeout");
    }, this.pingInterval + this.pingTimeout);
  };

  // Opens the new transport beside the running one, checks it with a
  // ping/pong "probe", then pauses polling and switches over.
  EngineSocket.prototype.probe = function (name) {
    var self = this;
    var transport = this.createTransport(name);
    var failed = false;

    function onTransportOpen() {
      if (failed) {
        return;
      }
      transport.send([{ type: "ping", data: "probe" }]);
      transport.once("packet", function (message) {
        if (failed) {
          return;
        }
        if (message.type !== "pong" || message.data !== "probe") {
          fail(new Error("probe error"));
          return;
        }
        self.upgrading = true;
        self.fire("upgrading", transport);
        self.transport.pause(function () {
          if (failed || self.readyState === "closed") {
            return;
          }
          cleanup();
          self.setTransport(transport);
          transport.send([{ type: "upgrade" }]);
          self.fire("upgrade", transport);
          self.upgrading = false;
          self.flush();
        });
      });
    }
    function fail(error) {
      if (failed) {
        return;
      }
      failed = true;
      cleanup();
      transport.close();
      self.upgrading = false;
      self.fire("upgradeError", error);
    }
    function onTransportClose() {
      fail(new Error("transport closed"));
    }
    function onSocketClose() {
      fail(new Error("socket closed"));
    }
    function cleanup() {
      transport.off("open", onTransportOpen);
      transport.off("error", fail);
      transport.off("close", onTransportClose);
      self.off("close", onSocketClose);
    }
    transport.once("open", onTransportOpen);
    transport.once("error", fail);
    transport.once("close", onTransportClose);
    this.once("close", onSocketClose);
    transport.open();
  };

  EngineSocket.prototype.onDrain = function () {
    this.writeBuffer.splice(0, this.prevBufferLen);
    this.prevBufferLen = 0;
    if (this.writeBuffer.length) {
      this.flush();
    } else {
      this.fire("drain");
    }
  };

  EngineSocket.prototype.flush = function () {
    if (this.readyState !== "closed" && this.transport.writable && !this.upgrading &&
        this.writeBuffer.length) {
      var packets = this.writablePackets();
      this.prevBufferLen = packets.length;
      this.transport.send(packets);
      this.fire("flush");
    }
  };

  // A polling body must stay under the server's maxPayload: a long queue of
  // buffered emits goes out in several POSTs.
  EngineSocket.prototype.writablePackets = function () {
    var buffer = this.writeBuffer;
    if (!this.maxPayload || this.transport.name === "websocket") {
      return buffer.slice(0);
    }
    var size = 0;
    for (var i = 0; i < buffer.length; i++) {
      var data = buffer[i].data;
      if (typeof data === "string") {
        size += utf8Length(data) + 2;
      } else if (data) {
        size += Math.ceil((data.byteLength || data.size || 0) * 4 / 3) + 2;
      } else {
        size += 2;
      }
      if (i > 0 && size > this.maxPayload) {
        return buffer.slice(0, i);
      }
    }
    return buffer.slice(0);
  };

  EngineSocket.prototype.write = function (data) {
    this.sendPacket("message", data);
    return this;
  };

  EngineSocket.prototype.send = EngineSocket.prototype.write;

  EngineSocket.prototype.sendPacket = function (type, data) {
    if (this.readyState === "closing" || this.readyState === "closed") {
      return;
    }
    this.writeBuffer.push({ type: type, data: data });
    this.flush();
  };

  // Sends what is buffered first, waits for a running upgrade, then closes.
  EngineSocket.prototype.close = function () {
    var self = this;
    function close() {
      self.onClose("forced close");
    }
    function afterUpgrade() {
      self.off("upgrade", afterUpgrade);
      self.off("upgradeError", afterUpgrade);
      close();
    }
    function whenIdle() {
      if (self.upgrading) {
        self.once("upgrade", afterUpgrade);
        self.once("upgradeError", afterUpgrade);
      } else {
        close();
      }
    }
    if (this.readyState === "opening" || this.readyState === "open") {
      this.readyState = "closing";
      if (this.writeBuffer.length) {
        this.once("drain", whenIdle);
      } else {
        whenIdle();
      }
    }
    return this;
  };

  // The page is going away (or into the back/forward cache): say goodbye so
  // the server drops the session now, not a heartbeat later. A page restored
  // from the cache reconnects like after any cut.
  EngineSocket.prototype.goodbye = function () {
    if (this.readyState === "open") {
      if (this.transport.beacon) {
        this.transport.beacon();
      }
      this.onClose("transport close");
    }
  };

  EngineSocket.prototype.onError = function (error) {
    // Before the handshake, a transport that cannot connect hands over to the
    // next one in the list (e.g. transports: ["websocket", "polling"]).
    if (this.readyState === "opening" && !this.id && this.transports.length > 1) {
      this.transports = this.transports.slice(1);
      this.transport.off();
      this.transport.close();
      this.transport = null;
      this.open();
      return;
    }
    this.fire("error", error);
    this.onClose("transport error", error);
  };

  EngineSocket.prototype.onClose = function (reason, details) {
    if (this.readyState !== "opening" && this.readyState !== "open" && this.readyState !== "closing") {
      return;
    }
    clearTimeout(this.pingTimer);
    if (this.transport) {
      this.transport.off();
      this.transport.close();
    }
    var index = indexOf(openEngines, this);
    if (index >= 0) {
      openEngines.splice(index, 1);
    }
    this.readyState = "closed";
    this.id = null;
    this.writeBuffer = [];
    this.prevBufferLen = 0;
    this.fire("close", reason, details);
  };

  // ---- backoff.js ----

  // Exponential backoff with jitter: attempt n waits about min * 2^n, spread
  // by +-jitter so that clients cut off together do not return together.

  function Backoff(opts) {
    this.min = opts.min;
    this.max = opts.max;
    this.jitter = opts.jitter;
    this.attempts = 0;
  }

  Backoff.prototype.duration = function () {
    var ms = this.min * Math.pow(2, this.attempts++);
    if (this.jitter) {
      ms += ms * this.jitter * (Math.random() * 2 - 1);
    }
    return Math.floor(Math.min(ms, this.max));
  };

  Backoff.prototype.reset = function () {
    this.attempts = 0;
  };

  // ---- manager.js ----

  // One Engine.IO connection to a server, shared by every namespace socket on
  // it; owns encoding, decoding and reconnection.
  // Events: "open", "error", "close", "ping", "packet", "reconnect_attempt",
  // "reconnect", "reconnect_error", "reconnect_failed".

  function option(value, fallback) {
    return value === undefined ? fallback : value;
  }

  function Manager(uri, opts) {
    if (typeof uri === "object" && uri && !opts && !uri.hostname) {
      opts = uri;
      uri = undefined;
    }
    opts = extend({}, opts || {});
    var target = typeof uri === "object" && uri ? uri : parseUrl(uri);
    opts.hostname = target.hostname;
    opts.port = target.port;
    opts.secure = target.secure;
    opts.crossDomain = target.crossDomain;
    opts.path = (opts.path || "/socket.io").replace(/\/$/, "") + "/";
    if (typeof opts.query === "string") {
      opts.query = decodeQuery(opts.query);
    }
    opts.query = extend(extend({}, target.query || {}), opts.query || {});
    this.opts = opts;
    this.uri = target;
    this.nsps = {};
    this.subs = [];
    this.readyState = "closed";
    this.reconnecting = false;
    this.skipReconnect = false;
    this.reconnection = option(opts.reconnection, true);
    this.reconnectionAttempts = option(opts.reconnectionAttempts, Infinity);
    this.timeoutMs = option(opts.timeout, 20000);
    this.backoff = new Backoff({
      min: option(opts.reconnectionDelay, 1000),
      max: option(opts.reconnectionDelayMax, 5000),
      jitter: option(opts.randomizationFactor, 0.5)
    });
    this.decoder = new SocketDecoder();
    this.autoConnect = opts.autoConnect !== false;
    if (this.autoConnect) {
      this.open();
    }
  }

  inherit(Manager, Emitter);

  Manager.prototype.open = function (callback) {
    if (this.readyState === "open" || this.readyState === "opening") {
      return this;
    }
    var self = this;
    var engine = this.engine = new EngineSocket(this.opts);
    var timer = null;
    this.readyState = "opening";
    this.skipReconnect = false;
    var stops = [];
    function stop() {
      for (var i = 0; i < stops.length; i++) {
        stops[i]();
      }
      stops = [];
      clearTimeout(timer);
    }
    stops.push(listen(engine, "open", function () {
      stop();
      self.onopen();
      if (callback) {
        callback();
      }
    }));
    function onError(error) {
      stop();
      self.cleanup();
      self.readyState = "closed";
      self.fire("error", error);
      if (callback) {
        callback(error);
      } else {
        self.maybeReconnectOnOpen();
      }
    }
    stops.push(listen(engine, "error", onError));
    stops.push(listen(engine, "close", function (reason) {
      onError(new Error(reason));
    }));
    this.stopOpening = stop;
    if (this.timeoutMs !== false) {
      timer = setTimeout(function () {
        stop();
        engine.close();
        onError(new Error("timeout"));
      }, this.timeoutMs);
    }
    return this;
  };

  Manager.prototype.connect = Manager.prototype.open;

  Manager.prototype.onopen = function () {
    var self = this;
    var engine = this.engine;
    this.cleanup();
    this.readyState = "open";
    this.fire("open");
    this.subs.push(
      listen(engine, "ping", function () {
        self.fire("ping");
      }),
      listen(engine, "data", function (data) {
        var packet;
        try {
          packet = self.decoder.add(data);
        } catch (e) {
          self.onclose("parse error", e);
          return;
        }
        // Outside the try: an exception in an application handler is the
        // application's, not a broken connection.
        if (packet) {
          self.fire("packet", packet);
        }
      }),
      listen(engine, "error", function (error) {
        self.fire("error", error);
      }),
      listen(engine, "close", function (reason, details) {
        self.onclose(reason, details);
      })
    );
  };

  Manager.prototype.socket = function (nsp, opts) {
    var socket = this.nsps[nsp];
    if (!socket) {
      socket = this.nsps[nsp] = new Socket(this, nsp, opts);
    } else if (this.autoConnect && !socket.active()) {
      socket.connect();
    }
    return socket;
  };

  // Called when a socket disconnects: the connection closes with the last one.
  Manager.prototype.destroySocket = function () {
    for (var nsp in this.nsps) {
      if (hasOwn.call(this.nsps, nsp) && this.nsps[nsp].active()) {
        return;
      }
    }
    this.close();
  };

  Manager.prototype.packet = function (packet) {
    var messages = encodeSocketPacket(packet);
    for (var i = 0; i < messages.length; i++) {
      this.engine.write(messages[i]);
    }
  };

  Manager.prototype.cleanup = function () {
    if (this.stopOpening) {
      this.stopOpening();
      this.stopOpening = null;
    }
    for (var i = 0; i < this.subs.length; i++) {
      this.subs[i]();
    }
    this.subs = [];
    this.decoder.reset();
  };

  Manager.prototype.close = function () {
    this.skipReconnect = true;
    this.reconnecting = false;
    clearTimeout(this.reconnectTimer);
    this.onclose("forced close");
    if (this.engine) {
      this.engine.close();
    }
  };

  Manager.prototype.disconnect = Manager.prototype.close;

  Manager.prototype.onclose = function (reason, details) {
    this.cleanup();
    if (this.engine) {
      this.engine.close();
    }
    this.backoff.reset();
    var wasOpen = this.readyState !== "closed";
    this.readyState = "closed";
    if (wasOpen) {
      this.fire("close", reason, details);
    }
    if (this.reconnection && !this.skipReconnect) {
      this.reconnect();
    }
  };

  Manager.prototype.maybeReconnectOnOpen = function () {
    if (!this.reconnecting && this.reconnection && this.backoff.attempts === 0) {
      this.reconnect();
    }
  };

  Manager.prototype.reconnect = function () {
    var self = this;
    if (this.reconnecting || this.skipReconnect) {
      return;
    }
    if (this.backoff.attempts >= this.reconnectionAttempts) {
      this.backoff.reset();
      this.fire("reconnect_failed");
      return;
    }
    this.reconnecting = true;
    this.reconnectTimer = setTimeout(function () {
      if (self.skipReconnect) {
        return;
      }
      self.fire("reconnect_attempt", self.backoff.attempts);
      if (self.skipReconnect) {
        return;
      }
      self.open(function (error) {
        if (error) {
          self.reconnecting = false;
          self.reconnect();
          self.fire("reconnect_error", error);
        } else {
          var attempts = self.backoff.attempts;
          self.reconnecting = false;
          self.backoff.reset();
          self.fire("reconnect", attempts);
        }
      });
    }, this.backoff.duration());
  };

  // ---- socket.js ----

  // A Socket.IO socket: one namespace over a Manager's connection.
  // Local events: "connect", "connect_error", "disconnect" (reason), plus every
  // event the server emits.
  // Connection state recovery (socket.io 4.x): a server that offers it names a
  // session (pid) in its CONNECT answer and ends each stored broadcast with its
  // offset; a reconnecting socket sends both back and, when the server still
  // holds the session, gets the same id and what it missed (recovered is true).

  function Socket(io, nsp, opts) {
    opts = opts || {};
    this.io = io;
    this.nsp = nsp;
    this.id = undefined;
    this.connected = false;
    this.disconnected = true;
    this.recovered = false;
    this.ids = 0;
    this.acks = {};
    this.receiveBuffer = [];
    this.sendBuffer = [];
    this.flags = {};
    this.subs = null;
    this.auth = opts.auth;
    this.ackTimeout = opts.ackTimeout;
    this.anyListeners = [];
    if (io.autoConnect) {
      this.connect();
    }
  }

  inherit(Socket, Emitter);

  Socket.prototype.active = function () {
    return !!this.subs;
  };

  Socket.prototype.subscribe = function () {
    if (this.subs) {
      return;
    }
    var self = this;
    var io = this.io;
    this.subs = [
      listen(io, "open", function () {
        self.onopen();
      }),
      listen(io, "packet", function (packet) {
        self.onpacket(packet);
      }),
      listen(io, "error", function (error) {
        if (!self.connected) {
          self.fire("connect_error", error);
        }
      }),
      listen(io, "close", function (reason, details) {
        self.onclose(reason, details);
      })
    ];
  };

  Socket.prototype.connect = function () {
    if (this.connected) {
      return this;
    }
    this.subscribe();
    if (!this.io.reconnecting) {
      this.io.open();
    }
    if (this.io.readyState === "open") {
      this.onopen();
    }
    return this;
  };

  Socket.prototype.open = Socket.prototype.connect;

  Socket.prototype.send = function () {
    var args = toArray(arguments);
    args.unshift("message");
    return this.emit.apply(this, args);
  };

  // emit(event, ...args[, ack]): sent now when connected, buffered otherwise.
  Socket.prototype.emit = function (event) {
    if (hasOwn.call(RESERVED_EVENTS, event)) {
      throw new Error("\"" + event + "\" is a reserved event name");
    }
    var args = toArray(arguments);
    var packet = { type: EVENT, data: args };
    if (typeof args[args.length - 1] === "function") {
      var id = this.ids++;
      this.registerAck(id, args.pop());
      packet.id = id;
    }
    this.flags = {};
    if (this.connected) {
      this.packet(packet);
    } else {
      this.sendBuffer.push(packet);
    }
    return this;
  };

  // With a timeout (timeout(ms) or the ackTimeout option) the callback gets an
  // error first: (err, ...answer), err being null when the answer came in time.
  Socket.prototype.registerAck = function (id, ack) {
    var self = this;
    var timeout = this.flags.timeout !== undefined ? this.flags.timeout : this.ackTimeout;
    if (timeout === undefined) {
      this.acks[id] = ack;
      return;
    }
    var timer = setTimeout(function () {
      delete self.acks[id];
      for (var i = 0; i < self.sendBuffer.length; i++) {
        if (self.sendBuffer[i].id === id) {
          self.sendBuffer.splice(i, 1);
          break;
        }
      }
      ack.call(self, new Error("operation has timed out"));
    }, timeout);
    var wrapped = function () {
      clearTimeout(timer);
      var args = toArray(arguments);
      args.unshift(null);
      ack.apply(self, args);
    };
    wrapped.withError = function (error) {
      clearTimeout(timer);
      ack.call(self, error);
    };
    this.acks[id] = wrapped;
  };

  Socket.prototype.timeout = function (ms) {
    this.flags.timeout = ms;
    return this;
  };

  Socket.prototype.packet = function (packet) {
    packet.nsp = this.nsp;
    this.io.packet(packet);
  };

  Socket.prototype.onopen = function () {
    var self = this;
    if (typeof this.auth === "function") {
      this.auth(function (data) {
        self.sendConnect(data);
      });
    } else {
      this.sendConnect(this.auth);
    }
  };

  Socket.prototype.sendConnect = function (data) {
    if (this.pid) {
      data = extend({ pid: this.pid, offset: this.lastOffset }, data);
    }
    this.packet({ type: CONNECT, data: data });
  };

  Socket.prototype.onclose = function (reason, details) {
    var wasConnected = this.connected;
    this.connected = false;
    this.disconnected = true;
    this.id = undefined;
    this.clearAcks();
    if (wasConnected) {
      this.fire("disconnect", reason, details);
    }
  };

  // Answers that can no longer come: callbacks waiting with a timeout learn it
  // now instead of when their timer ends.
  Socket.prototype.clearAcks = function () {
    for (var id in this.acks) {
      if (hasOwn.call(this.acks, id) && this.acks[id].withError) {
        var inBuffer = false;
        for (var i = 0; i < this.sendBuffer.length; i++) {
          if (String(this.sendBuffer[i].id) === id) {
            inBuffer = true;
          }
        }
        if (!inBuffer) {
          var ack = this.acks[id];
          delete this.acks[id];
          ack.withError(new Error("socket has been disconnected"));
        }
      }
    }
  };

  Socket.prototype.onpacket = function (packet) {
    if (packet.nsp !== this.nsp) {
      return;
    }
    switch (packet.type) {
      case CONNECT:
        if (packet.data && packet.data.sid) {
          this.onconnect(packet.data.sid, packet.data.pid);
        } else {
          this.fire("connect_error", new Error("invalid connect answer (not a Socket.IO v3+ server?)"));
        }
        break;
      case EVENT:
      case BINARY_EVENT:
        this.onevent(packet);
        break;
      case ACK:
      case BINARY_ACK:
        var ack = this.acks[packet.id];
        if (typeof ack === "function") {
          delete this.acks[packet.id];
          ack.apply(this, packet.data);
        }
        break;
      case DISCONNECT:
        this.destroy();
        this.onclose("io server disconnect");
        break;
      case CONNECT_ERROR:
        this.destroy();
        var data = packet.data;
        var error = new Error(typeof data === "string" ? data : data.message);
        error.data = data.data;
        this.fire("connect_error", error);
        break;
    }
  };

  Socket.prototype.onevent = function (packet) {
    var args = packet.data || [];
    if (packet.id != null) {
      args.push(this.ack(packet.id));
    }
    if (this.connected) {
      this.emitEvent(args);
    } else {
      this.receiveBuffer.push(args);
    }
  };

  Socket.prototype.emitEvent = function (args) {
    var any = this.anyListeners.slice(0);
    for (var i = 0; i < any.length; i++) {
      any[i].apply(this, args);
    }
    Emitter.prototype.emit.apply(this, args);
    var last = args[args.length - 1];
    if (this.pid && typeof last === "string") {
      this.lastOffset = last;
    }
  };

  Socket.prototype.onAny = function (fn) {
    this.anyListeners.push(fn);
    return this;
  };

  Socket.prototype.offAny = function (fn) {
    if (!fn) {
      this.anyListeners = [];
    } else {
      var i = indexOf(this.anyListeners, fn);
      if (i >= 0) {
        this.anyListeners.splice(i, 1);
      }
    }
    return this;
  };

  // The function handed to a handler whose event asked for an answer; only its
  // first call is sent.
  Socket.prototype.ack = function (id) {
    var self = this;
    var sent = false;
    return function () {
      if (sent) {
        return;
      }
      sent = true;
      self.packet({ type: ACK, id: id, data: toArray(arguments) });
    };
  };

  Socket.prototype.onconnect = function (id, pid) {
    this.id = id;
    this.recovered = !!pid && pid === this.pid;
    this.pid = pid;
    this.connected = true;
    this.disconnected = false;
    var i;
    for (i = 0; i < this.receiveBuffer.length; i++) {
      this.emitEvent(this.receiveBuffer[i]);
    }
    this.receiveBuffer = [];
    for (i = 0; i < this.sendBuffer.length; i++) {
      this.packet(this.sendBuffer[i]);
    }
    this.sendBuffer = [];
    this.fire("connect");
  };

  Socket.prototype.destroy = function () {
    if (this.subs) {
      for (var i = 0; i < this.subs.length; i++) {
        this.subs[i]();
      }
      this.subs = null;
    }
    this.io.destroySocket(this);
  };

  Socket.prototype.disconnect = function () {
    if (this.connected) {
      this.packet({ type: DISCONNECT });
    }
    this.destroy();
    if (this.connected) {
      this.onclose("io client disconnect");
    }
    return this;
  };

  Socket.prototype.close = Socket.prototype.disconnect;

  // ---- url.js ----

  // Splits "http://host:port/namespace?query" into what the Manager needs.
  // Relative forms ("/admin", "//host/admin", "host:port") resolve against
  // the page's location.

  function parseUrl(uri) {
    var loc = root.location;
    if (!uri) {
      uri = loc.protocol + "//" + loc.host;
    }
    if (uri.charAt(0) === "/") {
      uri = uri.charAt(1) === "/" ? loc.protocol + uri : loc.protocol + "//" + loc.host + uri;
    }
    if (!/^[a-z][a-z0-9+.\-]*:\/\//i.test(uri)) {
      uri = (loc && loc.protocol === "https:" ? "https://" : "http://") + uri;
    }
    var parts = /^([a-z][a-z0-9+.\-]*):\/\/(?:[^\/?#@]*@)?(\[[^\]]*\]|[^\/?#:]*)(?::(\d+))?([^?#]*)(?:\?([^#]*))?/i.exec(uri);
    var scheme = parts[1].toLowerCase();
    var secure = scheme === "https" || scheme === "wss";
    var port = parts[3] || (secure ? "443" : "80");
    var hostname = parts[2].toLowerCase();
    var crossDomain = true;
    if (loc && loc.hostname) {
      crossDomain = loc.hostname.toLowerCase() !== hostname ||
        (loc.port || (loc.protocol === "https:" ? "443" : "80")) !== port ||
        loc.protocol !== (secure ? "https:" : "http:");
    }
    return {
      hostname: hostname,
      port: port,
      secure: secure,
      path: parts[4] || "/",
      query: decodeQuery(parts[5] || ""),
      crossDomain: crossDomain,
      id: (secure ? "https" : "http") + "://" + hostname + ":" + port
    };
  }

  // ---- index.js ----

  // The public face: realtime.connect(url, opts) returns a Socket; sockets of
  // one server share a Manager (and so one connection) unless forceNew is set
  // or the namespace is already open on it.

  var managers = {};

  function connect(uri, opts) {
    if (typeof uri === "object" && uri !== null) {
      opts = uri;
      uri = undefined;
    }
    opts = opts || {};
    var target = parseUrl(uri);
    var cached = managers[target.id];
    var manager;
    if (opts.forceNew || opts.multiplex === false ||
        (cached && hasOwn.call(cached.nsps, target.path))) {
      manager = new Manager(target, opts);
    } else {
      manager = cached || (managers[target.id] = new Manager(target, opts));
    }
    return manager.socket(target.path, opts);
  }

  connect.connect = connect;
  connect.Manager = Manager;
  connect.Socket = Socket;
  connect.managers = managers;
  connect.protocol = 5;
  connect.version = VERSION;
  // The codecs, for tests and for tools that speak the protocol themselves.
  connect.parser = {
    encodeEnginePacket: encodeEnginePacket,
    decodeEnginePacket: decodeEnginePacket,
    encodeEnginePayload: encodeEnginePayload,
    decodeEnginePayload: decodeEnginePayload,
    encodeSocketPacket: encodeSocketPacket,
    SocketDecoder: SocketDecoder,
    encodeBase64: encodeBase64,
    decodeBase64: decodeBase64,
    fallbackJSON: fallbackJSON,
    parseUrl: parseUrl
  };

  // ---- compat.js ----

  // The socket.io-client face of the client, built into socket.io.js only:
  // the global io of pages written for a Node socket.io server, with what
  // socket.io-client 1.x and 2.x did that 4.x no longer does.

  // 1.x/2.x told every socket of a manager what the manager went through.
  var MANAGER_EVENTS = ("reconnect reconnect_attempt reconnecting reconnect_error " +
    "reconnect_failed ping connect_timeout").split(" ");

  // Names 1.x/2.x emitted locally when a page emitted them, instead of sending.
  var LOCAL_EVENTS = extend({ connecting: 1, error: 1, pong: 1 }, RESERVED_EVENTS);
  for (var m = 0; m < MANAGER_EVENTS.length; m++) {
    LOCAL_EVENTS[MANAGER_EVENTS[m]] = 1;
  }

  function io(uri, opts) {
    if (typeof uri === "string") {
      uri = uri.replace(/^ws(s?):/i, "http$1:");
    }
    if (opts && opts["force new connection"]) {
      opts = extend({ forceNew: true }, opts);
    }
    return connect(uri, opts);
  }

  extend(io, connect);
  io.connect = io;

  // 2.x fired reconnecting beside reconnect_attempt, with the same number.
  var fireAttempt = Manager.prototype.fire;
  Manager.prototype.fire = function (event, value) {
    fireAttempt.apply(this, arguments);
    if (event === "reconnect_attempt") {
      fireAttempt.call(this, "reconnecting", value);
    } else if (event === "error" && value && value.message === "timeout") {
      fireAttempt.call(this, "connect_timeout", this.timeoutMs);
    }
  };

  var subscribe = Socket.prototype.subscribe;
  Socket.prototype.subscribe = function () {
    if (this.subs) {
      return;
    }
    subscribe.call(this);
    var self = this;
    function forward(event) {
      self.subs.push(listen(self.io, event, function () {
        var args = toArray(arguments);
        args.unshift(event);
        self.fire.apply(self, args);
      }));
    }
    for (var i = 0; i < MANAGER_EVENTS.length; i++) {
      forward(MANAGER_EVENTS[i]);
    }
    // A connection error after the socket connected was "error" in 1.x/2.x.
    this.subs.push(listen(this.io, "error", function (error) {
      if (self.connected) {
        self.fire("error", error);
      }
    }));
  };

  var openSocket = Socket.prototype.connect;
  Socket.prototype.connect = Socket.prototype.open = function () {
    openSocket.call(this);
    if (!this.connected) {
      this.fire("connecting");
    }
    return this;
  };

  // A refused namespace was "error" with the server's data in 1.x/2.x.
  var onpacket = Socket.prototype.onpacket;
  Socket.prototype.onpacket = function (packet) {
    onpacket.call(this, packet);
    var data = packet.data;
    if (packet.nsp === this.nsp && packet.type === CONNECT_ERROR) {
      this.fire("error", typeof data === "string" ? data
        : data.data !== undefined ? data.data : data.message);
    }
  };

  var send = Socket.prototype.emit;
  Socket.prototype.emit = function (event) {
    return (hasOwn.call(LOCAL_EVENTS, event) ? this.fire : send).apply(this, arguments);
  };

  // 2.x flags that change nothing here: compression is the transport's choice,
  // and binary is detected.
  Socket.prototype.compress = Socket.prototype.binary = function () {
    return this;
  };

  return io;
}));
