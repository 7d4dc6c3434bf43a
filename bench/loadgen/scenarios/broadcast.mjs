// broadcast: M room members on WebSocket; a separate client asks the server to
// emit N events back to back to the room. Measured at the receivers: deliveries
// per second (request to last delivery) and two latencies: from the request
// (what the application sees: a server whose emit call blocks delays every
// later event) and from the server's timestamp at each emit call.
import { performance } from "node:perf_hooks";
import { CpuWindows, latencySummary, sleep, wallMs } from "../metrics.mjs";
import { closeAll, connectMany, connectWs } from "../wsclient.mjs";

const ROOM = "bench";
const EV_PREFIX = '42["ev",';

async function joinAll(conns, timeoutMs) {
  let pending = conns.length;
  let resolveAll;
  const done = new Promise((r) => {
    resolveAll = r;
  });
  for (const conn of conns) {
    conn.onPacket = (text) => {
      if (text.startsWith("431[")) {
        pending -= 1;
        if (pending === 0) resolveAll();
      }
    };
    conn.send(`421["join","${ROOM}"]`);
  }
  await Promise.race([done, sleep(timeoutMs)]);
  return conns.length - pending;
}

export async function runBroadcast(opts, server) {
  // With --port2 (a cluster), every other member connects to the second node.
  let turn = 0;
  const nextPort = () => (opts.port2 && turn++ % 2 === 1 ? opts.port2 : opts.port);
  const { conns, failures, errors } = await connectMany(opts.members, 100, () =>
    connectWs(nextPort()),
  );
  if (conns.length === 0) throw new Error(`no member connected: ${JSON.stringify(errors)}`);
  const joined = await joinAll(conns, 30000);
  const trigger = await connectWs(opts.port);
  trigger.onPacket = () => {};

  const cpu = new CpuWindows(server);
  const latencies = [];
  const fromRequest = [];
  let burstStart = 0;
  let measuring = false;
  let received = 0;
  let lastAt = 0;
  let outOfOrder = 0;
  for (const conn of conns) {
    let expected = 0;
    conn.onPacket = (text) => {
      if (!text.startsWith(EV_PREFIX)) return;
      const now = wallMs();
      lastAt = performance.now();
      if (measuring) fromRequest.push(lastAt - burstStart);
      received += 1;
      const ev = JSON.parse(text.slice(EV_PREFIX.length, -1));
      if (ev.i !== expected) outOfOrder += 1;
      expected = ev.i + 1 === opts.events ? 0 : ev.i + 1;
      if (measuring) latencies.push(now - ev.t);
    };
  }

  const expectedPerBurst = conns.length * opts.events;
  let deliveries = 0;
  let burstSeconds = 0;
  let lost = 0;
  const bursts = [];
  for (let b = 0; b < opts.warmupBursts + opts.bursts; b += 1) {
    measuring = b >= opts.warmupBursts;
    received = 0;
    if (measuring) cpu.start();
    const t0 = performance.now();
    burstStart = t0;
    trigger.send(`42["bcast",{"room":"${ROOM}","n":${opts.events}}]`);
    const giveUp = t0 + opts.burstTimeout * 1000;
    while (received < expectedPerBurst && performance.now() < giveUp) await sleep(1);
    if (measuring) {
      cpu.stop();
      const seconds = received > 0 ? (lastAt - t0) / 1000 : opts.burstTimeout;
      deliveries += received;
      burstSeconds += seconds;
      lost += expectedPerBurst - received;
      bursts.push({ deliveries: received, seconds, rate: received / seconds });
    }
    await sleep(300); // let stragglers and the server settle between bursts
  }
  closeAll(conns);
  trigger.close();
  const win = cpu.report();
  return {
    members: conns.length,
    joined,
    connect_failures: failures,
    connect_errors: errors,
    events: opts.events,
    deliveries,
    throughput: burstSeconds > 0 ? deliveries / burstSeconds : 0,
    unit: "deliveries/s",
    latency: latencySummary(fromRequest),
    latency_from_emit: latencySummary(latencies),
    lost,
    out_of_order: outOfOrder,
    bursts,
    ...win,
  };
}
