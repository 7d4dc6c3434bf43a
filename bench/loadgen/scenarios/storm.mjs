// Connect storm and connection hold: open N WebSockets with C handshakes in
// flight (TCP connect to Socket.IO CONNECT answer), then measure the server's
// RSS per idle connection, hold them, and probe a sample with acks.
import { performance } from "node:perf_hooks";
import { CpuWindows, sleep } from "../metrics.mjs";
import { closeAll, connectMany, connectWs } from "../wsclient.mjs";

async function probe(conns, count, timeoutMs) {
  const sample = conns.filter((c) => !c.closed).slice(0, count);
  let answered = 0;
  for (const [i, conn] of sample.entries()) {
    const id = 1000 + i;
    conn.onPacket = (text) => {
      if (text.startsWith(`43${id}[`)) answered += 1;
    };
    conn.send(`42${id}["echo_ack",{"probe":${i}}]`);
  }
  const giveUp = performance.now() + timeoutMs;
  while (answered < sample.length && performance.now() < giveUp) await sleep(10);
  return { probed: sample.length, answered };
}

export async function runStorm(opts, server) {
  // Warm the server's code paths first so the baseline RSS includes them.
  const warm = await connectMany(100, 100, () => connectWs(opts.port));
  closeAll(warm.conns);
  await sleep(1000);
  const baseKiB = server.rssKiB();

  const cpu = new CpuWindows(server);
  cpu.start();
  const t0 = performance.now();
  const { conns, failures, errors } = await connectMany(opts.conns, opts.concurrency, () =>
    connectWs(opts.port, 60000),
  );
  const seconds = (performance.now() - t0) / 1000;
  cpu.stop();
  let dropped = 0;
  for (const conn of conns) {
    conn.onClose = () => {
      dropped += 1;
    };
  }
  await sleep(1500); // let the server finish per-connection setup and settle
  const loadedKiB = server.rssKiB();
  if (opts.hold > 0) await sleep(opts.hold * 1000);
  const check = await probe(conns, 100, 10000);
  const open = conns.filter((c) => !c.closed).length;
  closeAll(conns);
  const win = cpu.report();
  return {
    conns: conns.length,
    connect_failures: failures,
    connect_errors: errors,
    throughput: conns.length / seconds,
    unit: "conn/s",
    connect_seconds: seconds,
    rss_base_kib: baseKiB,
    rss_loaded_kib: loadedKiB,
    kib_per_conn: conns.length > 0 ? (loadedKiB - baseKiB) / conns.length : null,
    held_s: opts.hold,
    still_open: open,
    dropped,
    ...check,
    ...win,
  };
}
