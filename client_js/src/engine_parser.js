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
