// Numbers the scenarios report: latency percentiles, and CPU/RSS windows for
// the generator itself and for the server it loads (read from /proc).
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** Wall-clock milliseconds with sub-millisecond resolution (servers stamp broadcasts with it). */
export const wallMs = () => performance.timeOrigin + performance.now();

export function latencySummary(samples) {
  if (samples.length === 0) return null;
  const sorted = Float64Array.from(samples).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean_ms: sum / sorted.length,
    p50_ms: at(0.5),
    p90_ms: at(0.9),
    p99_ms: at(0.99),
    max_ms: sorted[sorted.length - 1],
  };
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces), or null. */
function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null; // gone meanwhile
  }
}

/** ``pid`` and its descendants: a server whose workers are child processes
 * (gunicorn's master and its worker) is measured whole. */
export function processTree(pid) {
  const children = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(name);
    if (fields === null) continue;
    const ppid = Number(fields[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const tree = [];
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop();
    tree.push(next);
    pending.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** CPU seconds and RSS of another process and its children, from /proc. */
export class ProcStat {
  constructor(pid, clkTck = 100, core = null, genCore = null) {
    this.pid = pid;
    this.clkTck = clkTck;
    this.core = core; // the core the server is pinned to, as a string, or null
    this.genCore = genCore; // the core this generator is pinned to, or null
  }

  cpuSeconds() {
    if (!this.pid) return 0;
    let ticks = 0;
    for (const pid of processTree(this.pid)) {
      const fields = statFields(pid);
      if (fields !== null) ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks / this.clkTck;
  }

  rssKiB() {
    if (!this.pid) return 0;
    let total = 0;
    for (const pid of processTree(this.pid)) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, "latin1");
        const m = /VmRSS:\s+(\d+) kB/.exec(status);
        if (m) total += Number(m[1]);
      } catch {
        // gone meanwhile
      }
    }
    return total;
  }
}

/** Busy seconds of each core so far, from /proc/stat (user..steal, no idle/iowait). */
export function coreBusySeconds(clkTck = 100) {
  const out = {};
  for (const line of readFileSync("/proc/stat", "latin1").split("\n")) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (m === null) continue;
    const [user, nice, system, , , irq, softirq, steal] = m[2].trim().split(/\s+/).map(Number);
    out[m[1]] = (user + nice + system + irq + softirq + steal) / clkTck;
  }
  return out;
}

const ownCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * Accumulates measurement windows: wall time, the generator's own CPU and the
 * server's CPU. A generator near 100% of its core measures itself, not the server.
 */
export class CpuWindows {
  constructor(server) {
    this.server = server;
    this.wall = 0;
    this.own = 0;
    this.serverCpu = 0;
    this.serverCoreBusy = 0;
    this.genCoreBusy = 0;
    this.open = null;
  }

  coreSeconds() {
    const busy = coreBusySeconds(this.server.clkTck);
    const { core, genCore } = this.server;
    return {
      server: core === null ? 0 : (busy[core] ?? 0),
      gen: genCore === null ? 0 : (busy[genCore] ?? 0),
    };
  }

  start() {
    this.open = {
      wall: performance.now(),
      own: ownCpuSeconds(),
      server: this.server.cpuSeconds(),
      cores: this.coreSeconds(),
    };
  }

  stop() {
    const o = this.open;
    this.wall += (performance.now() - o.wall) / 1000;
    this.own += ownCpuSeconds() - o.own;
    this.serverCpu += this.server.cpuSeconds() - o.server;
    const cores = this.coreSeconds();
    this.serverCoreBusy += cores.server - o.cores.server;
    this.genCoreBusy += cores.gen - o.cores.gen;
    this.open = null;
  }

  report() {
    const pct = (seconds) => (this.wall > 0 ? (100 * seconds) / this.wall : 0);
    return {
      window_s: this.wall,
      gen_cpu_pct: pct(this.own),
      server_cpu_pct: pct(this.serverCpu),
      // Busy time on the server's core not charged to the server: other
      // processes on a shared machine, plus kernel network work done in
      // interrupt context. High values mean a noisy run.
      server_core_other_pct:
        this.server.core === null ? null : Math.max(0, pct(this.serverCoreBusy - this.serverCpu)),
      // The same on the generator's core: a starved generator slows the loop.
      gen_core_other_pct:
        this.server.genCore === null ? null : Math.max(0, pct(this.genCoreBusy - this.own)),
    };
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The bookkeeping of a closed loop (every client keeps one message in
 * flight): answers count, with their latency, only inside the measured
 * window; after it, clients stop sending and the loop waits up to 2 s for
 * the answers still in flight (what stays missing is reported as lost).
 */
export class ClosedLoop {
  constructor(server) {
    this.cpu = new CpuWindows(server);
    this.phase = "warmup"; // then "measure", then "stop"
    this.completed = 0;
    this.inFlight = 0;
    this.latencies = [];
  }

  sent() {
    this.inFlight += 1;
  }

  /** One answer arrived; true while the client should send its next message. */
  answered(latencyMs) {
    this.inFlight -= 1;
    if (this.phase === "measure") {
      this.completed += 1;
      this.latencies.push(latencyMs);
    }
    return this.phase !== "stop";
  }

  /** Warm up, measure, stop and drain; the window's CPU report. */
  async run(opts) {
    await sleep(opts.warmup * 1000);
    this.phase = "measure";
    this.cpu.start();
    await sleep(opts.duration * 1000);
    this.cpu.stop();
    this.phase = "stop";
    const drainUntil = performance.now() + 2000;
    while (this.inFlight > 0 && performance.now() < drainUntil) await sleep(5);
    return this.cpu.report();
  }

  /** The result fields both closed-loop scenarios report. */
  result(win) {
    return {
      messages: this.completed,
      throughput: this.completed / win.window_s,
      unit: "msg/s",
      latency: latencySummary(this.latencies),
      lost: this.inFlight,
    };
  }
}
