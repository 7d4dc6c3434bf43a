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
