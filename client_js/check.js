// Checks built files for the browsers the client promises to reach.
//   node check.js FILE...  prints a JSON report, one entry per file:
//   syntax     null, or why the file is not ECMAScript 3 (acorn, ecmaVersion 3,
//              keywords not allowed as property names)
//   builtins   calls to ES5+ built-ins that ES3 engines lack
//   trailing   array literals with a trailing comma (IE8 counts an extra hole)
//   gzip       size in bytes after gzip -9
// Array.prototype.indexOf cannot be told from String.prototype.indexOf here;
// the unit tests run the client with the ES5 built-ins deleted for that.

"use strict";

const fs = require("fs");
const zlib = require("zlib");
const acorn = require("acorn");

const FORBIDDEN = new Set([
  "forEach", "map", "filter", "reduce", "reduceRight", "some", "every", "lastIndexOf",
  "isArray", "bind", "keys", "create", "defineProperty", "defineProperties",
  "getPrototypeOf", "getOwnPropertyNames", "getOwnPropertyDescriptor", "freeze", "seal",
  "trim", "now", "toISOString", "assign", "includes", "startsWith", "endsWith", "from",
  "find", "findIndex", "isView", "fill", "repeat"
]);

function walk(node, visit) {
  if (!node || typeof node.type !== "string") {
    return;
  }
  visit(node);
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (Array.isArray(value)) {
      value.forEach((child) => walk(child, visit));
    } else if (value && typeof value === "object" && typeof value.type === "string") {
      walk(value, visit);
    }
  }
}

function propertyName(member) {
  if (!member.computed) {
    return member.property.name;
  }
  return member.property.type === "Literal" ? String(member.property.value) : null;
}

function check(file) {
  const source = fs.readFileSync(file, "utf8");
  const report = {
    syntax: null,
    builtins: [],
    trailing: [],
    gzip: zlib.gzipSync(source, { level: 9 }).length
  };
  let ast;
  try {
    ast = acorn.parse(source, { ecmaVersion: 3, allowReserved: "never", locations: true });
  } catch (e) {
    report.syntax = e.message;
    return report;
  }
  walk(ast, (node) => {
    if (node.type === "CallExpression" && node.callee.type === "MemberExpression") {
      const name = propertyName(node.callee);
      const object = node.callee.object;
      const where = name + " at line " + node.loc.start.line;
      if (FORBIDDEN.has(name)) {
        report.builtins.push(where);
      } else if (object.type === "Identifier" && object.name === "JSON") {
        report.builtins.push("JSON." + where);
      }
    }
    if (node.type === "ArrayExpression" && node.elements.length) {
      const last = node.elements[node.elements.length - 1];
      const tail = last ? source.slice(last.end, node.end) : ",";
      if (tail.indexOf(",") >= 0) {
        report.trailing.push("line " + node.loc.start.line);
      }
    }
  });
  return report;
}

const out = {};
for (const file of process.argv.slice(2)) {
  out[file] = check(file);
}
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
