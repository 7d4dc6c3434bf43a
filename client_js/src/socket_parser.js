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
