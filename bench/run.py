"""Benchmark realtime against python-socketio, Node socket.io and an aiohttp floor.

    python bench/run.py            full run: 3 rounds, longer windows, 10k hold for all
    python bench/run.py --quick    about 2.5 minutes: 1 round, short windows

Each server runs pinned to core 0 and the load generator (bench/loadgen, Node)
to core 1. Every scenario starts a fresh server; the servers take turns
(A B C D, A B C D, ...) so drift on a shared machine hits them alike. Results
go to bench/results/ as JSON and as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import env, procs, quiet, report
from driver.plan import Scenario, scenarios

RESULTS = env.BENCH / "results"
# Before each run, wait until neither core is busier than this (% of a core):
# other work on a shared machine would otherwise be measured with the server.
QUIET_PCT = 15.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="one short round (about 2.5 minutes)")
    p.add_argument("--rounds", type=int, help="rounds of every scenario (default 3, quick 1)")
    p.add_argument(
        "--servers",
        help="comma-separated subset of: " + ", ".join(s.key for s in procs.server_specs()),
    )
    p.add_argument(
        "--scenarios",
        help="comma-separated subset of: " + ", ".join(s.key for s in scenarios(False)),
    )
    p.add_argument("--no-install", action="store_true", help="do not run npm ci / build the venv")
    p.add_argument(
        "--retry-noisy",
        type=int,
        help="run again a run disturbed by other work, up to N times (default 1, quick 0)",
    )
    p.add_argument("--summarize", type=Path, help="re-render the tables of a results JSON and exit")
    p.add_argument(
        "--quiet-wait",
        type=float,
        help=f"seconds to wait for idle cores (< {QUIET_PCT:.0f}%% busy) before each run"
        " (default 30, quick 5)",
    )
    return p.parse_args(argv)


def _pick(all_items: list[Any], wanted: str | None, what: str) -> list[Any]:
    if not wanted:
        return [item for item in all_items if getattr(item, "default", True)]
    keys = [w.strip() for w in wanted.split(",") if w.strip()]
    known = {item.key: item for item in all_items}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)}")
    return [item for item in all_items if item.key in keys]


def _brief(sc: Scenario, result: dict[str, Any]) -> str:
    if not result.get("ok"):
        return "FAILED: " + str(result.get("error", "?")).splitlines()[0][:200]
    parts = [f"{result['throughput']:,.0f} {result.get('unit', '')}"]
    lat = result.get("latency")
    if lat:
        parts.append(f"p99 {lat['p99_ms']:.1f} ms")
    if result.get("kib_per_conn") is not None:
        parts.append(f"{result['kib_per_conn']:.1f} KiB/conn")
    if sc.key.startswith("hold"):
        parts.append(
            f"{result.get('still_open')} open, {result.get('answered')}/{result.get('probed')} acks"
        )
    for key in ("connect_failures", "lost", "mismatches", "out_of_order", "dropped"):
        if result.get(key):
            parts.append(f"{key} {result[key]}")
    parts.append(
        f"gen {result.get('gen_cpu_pct', 0):.0f}% srv {result.get('server_cpu_pct', 0):.0f}%"
        f" other {result.get('server_core_other_pct') or 0:.0f}%"
        f"/{result.get('gen_core_other_pct') or 0:.0f}%"
    )
    return ", ".join(parts)


def run_one(
    sc: Scenario, spec: procs.ServerSpec, rnd: int, quiet_wait: float, log: IO[str]
) -> dict[str, Any]:
    busy = quiet.wait_quiet((procs.SERVER_CORE, procs.LOADGEN_CORE), QUIET_PCT, quiet_wait)
    started = time.monotonic()
    try:
        with procs.running_server(spec, log) as (pid, port):
            result = procs.run_loadgen(sc.loadgen, port, pid, sc.args, sc.deadline, log)
    except procs.ServerFailed as exc:
        result = {"ok": False, "error": str(exc)}
    env.log(
        f"[round {rnd}] {sc.key:<15} {spec.key:<16} {_brief(sc, result)}"
        f" (cores {busy:.0f}% busy before)"
    )
    return {
        "round": rnd,
        "scenario": sc.key,
        "server": spec.key,
        "ok": bool(result.get("ok")),
        "result": result,
        "cores_busy_before_pct": round(busy, 1),
        "seconds": round(time.monotonic() - started, 1),
    }


def run_plan(
    plan: list[Scenario],
    servers: list[procs.ServerSpec],
    rounds: int,
    log_path: Path,
    quiet_wait: float,
    retries: int,
    runs: list[dict[str, Any]],
) -> None:
    """Run the plan, appending to ``runs`` as it goes (kept if interrupted).

    A run disturbed by other work (see report.NOISY_PCT) is tried again up to
    ``retries`` times; every attempt is kept and the summary prefers clean ones.
    """
    with procs.log_file(log_path) as log:
        for rnd in range(1, rounds + 1):
            for sc in plan:
                if rnd > 1 and not sc.every_round:
                    continue
                for spec in servers:
                    if sc.servers is not None and spec.key not in sc.servers:
                        continue
                    if spec.scenarios is not None and sc.key not in spec.scenarios:
                        continue
                    for attempt in range(retries + 1):
                        record = run_one(sc, spec, rnd, quiet_wait, log)
                        runs.append(record)
                        if not record["ok"] or not report.is_noisy(record):
                            break
                        if attempt < retries:
                            env.log("bench: that run was disturbed by other work; again")


def resummarize(path: Path) -> int:
    """Print the tables of an earlier run again, with the current report code."""
    doc = json.loads(path.read_text())
    keys = [s["key"] for s in doc["scenarios"]]
    plan = [sc for sc in scenarios(doc["mode"] == "quick") if sc.key in keys]
    servers = [s for s in procs.server_specs() if s.key in doc["servers"]]
    print(report.markdown(report.summarize(doc["runs"], plan, servers), plan, servers))
    return 0


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into the same unwinding as Ctrl-C so every finally runs.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    if args.summarize is not None:
        return resummarize(args.summarize)
    rounds = args.rounds or (1 if args.quick else 3)
    quiet_wait = args.quiet_wait if args.quiet_wait is not None else (5.0 if args.quick else 30.0)
    retries = args.retry_noisy if args.retry_noisy is not None else (0 if args.quick else 1)
    plan = _pick(scenarios(args.quick), args.scenarios, "scenario")
    servers: list[procs.ServerSpec] = _pick(procs.server_specs(), args.servers, "server")
    if not args.no_install:
        env.ensure_all()
    nofile = env.raise_nofile_limit()
    if nofile < 10_500 and any(sc.key.startswith("hold") for sc in plan):
        env.log(f"bench: open-files limit is {nofile}; the 10,000-connection hold may fail")
    available = []
    for spec in servers:
        reason = procs.unavailable_reason(spec)
        if reason is None:
            available.append(spec)
        else:
            env.log(f"bench: skipping {spec.key}: {reason}")
    if not available:
        env.log("bench: no server to run")
        return 1

    stamp = time.strftime("%Y%m%d-%H%M%S")
    mode = "quick" if args.quick else "full"
    RESULTS.mkdir(exist_ok=True)
    started = time.time()
    revision = procs.git_revision()  # before the run: the code that was measured
    runs: list[dict[str, Any]] = []
    interrupted = False
    try:
        log_path = RESULTS / f"{stamp}-{mode}.log"
        run_plan(plan, available, rounds, log_path, quiet_wait, retries, runs)
    except KeyboardInterrupt:
        env.log("bench: interrupted; every process it started is stopped")
        interrupted = True
    summary = report.summarize(runs, plan, available)
    table = report.markdown(summary, plan, available)
    doc = {
        "mode": mode,
        "rounds": rounds,
        "interrupted": interrupted,
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": env.machine_info(),
        "realtime_revision": revision,
        "scenarios": [{"key": s.key, "title": s.title, "args": s.args} for s in plan],
        "servers": [s.key for s in available],
        "runs": runs,
        "summary": summary,
        "targets": {
            build: report.targets(summary, build)
            for build in report.OUR_BUILDS
            if build in report.measured_servers(summary)
        },
    }
    json_path = RESULTS / f"{stamp}-{mode}.json"
    md_path = RESULTS / f"{stamp}-{mode}.md"
    json_path.write_text(json.dumps(doc, indent=1) + "\n")
    md_path.write_text(f"# {mode} run, {doc['started']}, {rounds} round(s)\n\n{table}")
    print(table)
    env.log(f"bench: {doc['seconds']:.0f}s; results in {json_path} and {md_path}")
    if interrupted:
        return 130
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
