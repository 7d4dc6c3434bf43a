// ws-echo and ws-ack: N clients in a closed loop, one message in flight each.
import { performance } from "node:perf_hooks";
import { CpuWindows, latencySummary, sleep } from "../metrics.mjs";
import { closeAll, connectMany, connectWs } from "../wsclient.mjs";

const TEXT = "the quick brown fox jumps over the lazy dog";
const CHECKED_REPLIES = 64; // per client: these are parsed and compared in full

export async function runEcho(opts, server, { ack }) {
  const { conns, failures, errors } = await connectMany(opts.clients, 50, () =>
    connectWs(opts.port),
  );
  if (conns.length === 0) throw new Error(`no client connected: ${JSON.stringify(errors)}`);
  const cpu = new CpuWindows(server);
  const latencies = [];
  let phase = "warmup"; // then "measure", then "stop"
  let completed = 0;
  let mismatches = 0;
  let inFlight = 0;

  const startClient = (conn) => {
    let seq = 0;
    let sentAt = 0;
    let expectPrefix = "";
    const sendNext = () => {
      seq += 1;
      const body = `{"n":${seq},"s":"${TEXT}"}`;
      let frame;
      if (ack) {
        frame = `42${seq}["echo_ack",${body}]`;
        expectPrefix = `43${seq}[`;
      } else {
        frame = `42["echo",${body}]`;
        expectPrefix = '42["echo",';
      }
      inFlight += 1;
      sentAt = performance.now();
      conn.send(frame);
    };
    conn.onPacket = (text) => {
      if (!text.startsWith(expectPrefix)) {
        mismatches += 1;
        return; // not our answer: keep waiting for it
      }
      const now = performance.now();
      inFlight -= 1;
      if (seq <= CHECKED_REPLIES) {
        // ack: 43<id>[data]; event: 42["echo",data]
        const got = ack ? JSON.parse(text.slice(expectPrefix.length - 1))[0] : JSON.parse(text.slice(2))[1];
        if (got.n !== seq || got.s !== TEXT) mismatches += 1;
      }
      if (phase === "measure") {
        completed += 1;
        latencies.push(now - sentAt);
      }
      if (phase !== "stop") sendNext();
    };
    sendNext();
  };

  for (const conn of conns) startClient(conn);
  await sleep(opts.warmup * 1000);
  phase = "measure";
  cpu.start();
  await sleep(opts.duration * 1000);
  cpu.stop();
  phase = "stop";
  const drainUntil = performance.now() + 2000;
  while (inFlight > 0 && performance.now() < drainUntil) await sleep(5);
  closeAll(conns);
  const win = cpu.report();
  return {
    clients: conns.length,
    connect_failures: failures,
    connect_errors: errors,
    messages: completed,
    throughput: completed / win.window_s,
    unit: "msg/s",
    latency: latencySummary(latencies),
    mismatches,
    lost: inFlight,
    ...win,
  };
}
