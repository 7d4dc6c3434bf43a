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
