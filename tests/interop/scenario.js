'use strict';
// What every Node scenario script of the interop suites shares: its command
// line, one JSON report line per check, a liveness bound per awaited step,
// and the run of its checks in order.

const assert = require('node:assert');

const STEP_MS = 5000; // liveness bound for one awaited reply, not a speed check

const ARGS = {};
for (let i = 2; i < process.argv.length; i += 2) ARGS[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

function report(check, ok, detail) {
  process.stdout.write(JSON.stringify({ check, ok, detail: detail === undefined ? null : detail }) + '\n');
}

function bounded(promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('no ' + what + ' within ' + STEP_MS + ' ms')), STEP_MS);
  });
  const raced = Promise.race([promise, limit]).finally(() => clearTimeout(timer));
  raced.catch(() => {});
  return raced;
}

// Runs each check, reports it, closes the sockets and exits.
function runChecks(checks, opened) {
  async function main() {
    for (const { name, fn } of checks) {
      try {
        report(name, true, await fn());
      } catch (err) {
        report(name, false, err instanceof assert.AssertionError ? { error: err.message.split('\n')[0], actual: err.actual } : String(err && err.message));
      }
    }
    for (const socket of opened) socket.close();
  }
  main().then(() => process.exit(0), (err) => {
    process.stderr.write(String(err && err.stack) + '\n');
    process.exit(1);
  });
}

module.exports = { ARGS, STEP_MS, bounded, report, runChecks };
