"""Profile our server with py-spy under load and list where its time goes.

    python bench/profile.py                       ws-echo, broadcast-1000, polling-echo
    python bench/profile.py --scenarios ws-echo --seconds 10
    python bench/profile.py --server realtime-eventlet --scenarios polling-echo

For each scenario: start our server on core 0, drive it from core 1, and after
the warm-up let ``py-spy record`` (also on core 1, non-blocking) sample it.
Writes the collapsed stacks to bench/results/profile-<scenario>-<stamp>.txt
(speedscope and flamegraph.pl read them) and prints the functions with the
most self time, self time per source file, and the inclusive time of
realtime's own functions. Without --native, time in C code (json, the
socket send, Task steps) is charged to the Python frame that called it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import env, procs

RESULTS = env.BENCH / "results"
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")

# Load per scenario: long enough to cover the sampling window; the delay skips
# connecting, joining and warming up, which are not what is being profiled.
LOADS: dict[str, tuple[str, dict[str, str], float]] = {
    "ws-echo": ("ws-echo", {"clients": "50", "warmup": "2"}, 2.0),
    "ws-ack": ("ws-ack", {"clients": "50", "warmup": "2"}, 2.0),
    "polling-echo": ("polling-echo", {"clients": "50", "warmup": "2"}, 2.0),
    "broadcast-1000": (
        "broadcast",
        {"members": "1000", "events": "20", "warmup-bursts": "1", "burst-timeout": "30"},
        3.0,
    ),
}


def py_spy() -> Path:
    exe = env.PEERS_VENV / "bin" / "py-spy"
    if not exe.exists():
        raise SystemExit("py-spy missing: run bench/run.py once, or pip install py-spy there")
    return exe


STDLIB = re.compile(r"/lib/python3\.\d+/")


def _short(file: str) -> str:
    # Keep paths readable: site-packages, the standard library's directory and
    # the repository root drop out ("realtime/socket.py", "asyncio/events.py").
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1]
    m = STDLIB.search(file)
    if m is not None:
        return file[m.end() :]
    repo = str(env.REPO) + "/"
    if file.startswith(repo):
        return file[len(repo) :]
    if "/realtime/" in file:  # our package, wherever it is checked out
        return "realtime/" + file.rsplit("/realtime/", 1)[1]
    return file


def analyse(raw: Path, top: int) -> str:
    self_time: Counter[str] = Counter()
    by_file: Counter[str] = Counter()
    ours: Counter[str] = Counter()  # inclusive time of realtime's own functions
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        names = []
        for frame in frames:
            m = FRAME.match(frame)
            func, file = (m["func"], _short(m["file"])) if m else (frame, "?")
            names.append((func, file))
        func, file = names[-1]
        self_time[f"{func} ({file})"] += count
        by_file[file] += count
        for name in {f"{fn} ({fl})" for fn, fl in names if fl.startswith("realtime/")}:
            ours[name] += count
    if total == 0:
        return "no samples\n"
    out = [f"{total} samples", "", "self time by function:"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in self_time.most_common(top)]
    out += ["", "self time by file:"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in by_file.most_common(top)]
    out += ["", "inclusive time of realtime's functions (callees included):"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in ours.most_common(top)]
    return "\n".join(out) + "\n"


def profile(name: str, seconds: float, rate: int, top: int, log: Any, server: str) -> str:
    loadgen, args, delay = LOADS[name]
    args = dict(args)
    if loadgen == "broadcast":
        # Bursts of about 0.3 s with 0.3 s pauses: enough to outlast the window.
        args["bursts"] = str(int((seconds + delay) / 0.6) + 4)
    else:
        args["duration"] = str(seconds + delay + 1)
    spec = next(s for s in procs.server_specs() if s.key == server)
    raw = RESULTS / f"profile-{name}-{time.strftime('%Y%m%d-%H%M%S')}.txt"
    result: dict[str, Any] = {}
    with procs.running_server(spec, log) as (pid, port):

        def drive() -> None:
            result.update(procs.run_loadgen(loadgen, port, pid, args, 240, log))

        driver = threading.Thread(target=drive)
        driver.start()
        try:
            time.sleep(delay)
            cmd = ["taskset", "-c", procs.LOADGEN_CORE, str(py_spy()), "record", "--pid", str(pid)]
            cmd += ["--format", "raw", "--output", str(raw), "--rate", str(rate)]
            cmd += ["--duration", str(int(seconds)), "--nonblocking"]
            subprocess.run(cmd, stdout=log, stderr=log, timeout=seconds + 60, check=True)
        finally:
            driver.join()
    tput = result.get("throughput")
    head = f"== {name}: {tput:,.0f} {result.get('unit')} while sampled\n" if tput else ""
    return head + f"collapsed stacks: {raw}\n" + analyse(raw, top)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--scenarios",
        default="ws-echo,broadcast-1000,polling-echo",
        help="comma-separated: " + ", ".join(LOADS),
    )
    p.add_argument("--seconds", type=float, default=8.0, help="sampling window per scenario")
    p.add_argument("--rate", type=int, default=250, help="samples per second")
    p.add_argument("--top", type=int, default=25, help="lines per listing")
    p.add_argument(
        "--server",
        default="realtime",
        help="the server to sample, a key of bench/run.py --servers (realtime-eventlet, "
        "python-socketio-uvicorn, ...)",
    )
    args = p.parse_args()
    if args.server not in {spec.key for spec in procs.server_specs()}:
        raise SystemExit(f"unknown server: {args.server}")
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = [n for n in names if n not in LOADS]
    if unknown:
        raise SystemExit(f"unknown scenario: {', '.join(unknown)}")
    env.ensure_all()
    RESULTS.mkdir(exist_ok=True)
    with procs.log_file(RESULTS / "profile.log") as log:
        for name in names:
            print(profile(name, args.seconds, args.rate, args.top, log, args.server), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
