// The load generator: runs one scenario against one server and prints one
// JSON line with the result. The driver (bench/run.py) pins it to its own core.
//
//   node main.mjs SCENARIO --port P [--port2 P2] [--server-pid PID] [--server-core N] [--gen-core N] [--clk-tck 100] [options]
//
// Scenarios: ws-echo, ws-ack, broadcast, polling-echo, storm.
// --ws-client raw|ws picks the WebSocket layer (raw is cheaper, see rawws.mjs).
// Every run is bounded: --deadline seconds (default 300) ends it with an error.
import { parseArgs } from "node:util";
import { ProcStat } from "./metrics.mjs";
import { runBroadcast } from "./scenarios/broadcast.mjs";
import { runEcho } from "./scenarios/echo.mjs";
import { runPolling } from "./scenarios/polling.mjs";
import { runStorm } from "./scenarios/storm.mjs";
import { setWsClient } from "./wsclient.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: "string" },
    // broadcast: a second node of the same cluster; the members alternate
    // between the two, and the trigger stays on --port.
    port2: { type: "string", default: "0" },
    "server-pid": { type: "string", default: "0" },
    "clk-tck": { type: "string", default: "100" },
    "server-core": { type: "string" },
    "gen-core": { type: "string" },
    clients: { type: "string", default: "50" },
    warmup: { type: "string", default: "1" },
    duration: { type: "string", default: "5" },
    members: { type: "string", default: "1000" },
    events: { type: "string", default: "20" },
    bursts: { type: "string", default: "3" },
    "warmup-bursts": { type: "string", default: "1" },
    "burst-timeout": { type: "string", default: "60" },
    conns: { type: "string", default: "5000" },
    concurrency: { type: "string", default: "100" },
    hold: { type: "string", default: "0" },
    deadline: { type: "string", default: "300" },
    "ws-client": { type: "string", default: "raw" },
  },
});

const num = (name) => Number(values[name]);
const opts = {
  port: num("port"),
  port2: num("port2"),
  clients: num("clients"),
  warmup: num("warmup"),
  duration: num("duration"),
  members: num("members"),
  events: num("events"),
  bursts: num("bursts"),
  warmupBursts: num("warmup-bursts"),
  burstTimeout: num("burst-timeout"),
  conns: num("conns"),
  concurrency: num("concurrency"),
  hold: num("hold"),
};
const scenario = positionals[0];
setWsClient(values["ws-client"]);
const server = new ProcStat(num("server-pid"), num("clk-tck"), values["server-core"] ?? null,
  values["gen-core"] ?? null,
);

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

const watchdog = setTimeout(() => {
  emit({ scenario, ok: false, error: `deadline of ${values.deadline}s passed` });
  process.exit(2);
}, num("deadline") * 1000);

const scenarios = {
  "ws-echo": () => runEcho(opts, server, { ack: false }),
  "ws-ack": () => runEcho(opts, server, { ack: true }),
  broadcast: () => runBroadcast(opts, server),
  "polling-echo": () => runPolling(opts, server),
  storm: () => runStorm(opts, server),
};

if (!(scenario in scenarios)) {
  emit({ scenario, ok: false, error: `unknown scenario; one of ${Object.keys(scenarios)}` });
  process.exit(2);
}
try {
  const result = await scenarios[scenario]();
  emit({ scenario, ok: true, ...result });
  clearTimeout(watchdog);
  process.exit(0); // do not wait for sockets the server is still closing
} catch (err) {
  emit({ scenario, ok: false, error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
}
