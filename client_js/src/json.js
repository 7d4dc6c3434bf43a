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
