'use strict';
// What the Node scenario scripts of the interop suites share (ops_client.js,
// hooks_client.js, recovery_client.js): the command line, the chosen client, a bound on every
// awaited reply, and the runner that prints one JSON line per check:
// {"check": name, "ok": bool, "detail": ...}.

const assert = require('node:assert');

const STEP_MS = 5000; // liveness bound for one awaited reply, not a speed check

const ARGS = {};
for (let i = 2; i < process.argv.length; i += 2) ARGS[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
// 1.x and 2.x speak Engine.IO 3 / Socket.IO 4; 3.x and 4.x Engine.IO 4 / Socket.IO 5.
const V2 = ARGS.client === '1' || ARGS.client === '2';
const io = require({ 1: 'sioc1', 2: 'sioc2', 3: 'sioc3', 4: 'sioc4' }[ARGS.client]);

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

// The first ack argument of `event`.
function ask(socket, event, ...args) {
  return bounded(new Promise((resolve) => socket.emit(event, ...args, (reply) => resolve(reply))), "ack of '" + event + "'");
}

// The arguments of the next `event` the socket receives.
function next(socket, event) {
  return bounded(new Promise((resolve) => socket.once(event, (...args) => resolve(args))), "'" + event + "'");
}

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

// Run every check in order, report each, then call `done` and exit.
function run(done) {
  (async () => {
    for (const { name, fn } of checks) {
      try {
        report(name, true, await fn());
      } catch (err) {
        report(name, false, err instanceof assert.AssertionError ? { error: err.message.split('\n')[0], actual: err.actual } : String(err && err.message));
      }
    }
    done();
  })().then(() => process.exit(0), (err) => {
    process.stderr.write(String(err && err.stack) + '\n');
    process.exit(1);
  });
}

module.exports = { ARGS, STEP_MS, V2, io, bounded, ask, next, check, run };
