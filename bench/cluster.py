"""A cluster row: 1,000 clients over two nodes on one Redis, one emit on node A
to all of them, deliveries per second at the receivers.

Each server runs as two nodes on the Redis adapter (ours: ``RedisAdapter``;
Node socket.io 4.8: ``@socket.io/redis-adapter`` 8.3), with a redis-server of
its own started here (no persistence) and stopped by pid. The load generator's
``broadcast`` scenario puts every other member on node B (``--port2``) and asks
node A to emit ``events`` events to the room: half the deliveries are node A's
own, half go through Redis to node B. Both nodes and Redis share the server
core; the load generator has the other.

    python bench/cluster.py      # realtime-compiled (if built), realtime, node-socketio
    python bench/cluster.py --servers realtime,node-socketio --members 1000 --events 20
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import env, procs

DEFAULT_SERVERS = ("realtime-compiled", "realtime", "node-socketio")


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server on a free loopback port, pinned to the server core; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("bench/cluster.py needs redis-server (Debian package redis-server)")
    port = procs.free_port()
    with tempfile.TemporaryDirectory() as workdir:
        argv = ["taskset", "-c", procs.SERVER_CORE, binary, "--port", str(port)]
        argv += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir]
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            procs.wait_listening(proc, port, timeout=30.0)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            procs.stop(proc)


def run_cluster(spec: procs.ServerSpec, args: argparse.Namespace, log: Any) -> dict[str, Any]:
    with redis_server() as url:
        os.environ["BENCH_REDIS_URL"] = url
        try:
            with (
                procs.running_server(spec, log) as (pid, port_a),
                procs.running_server(spec, log) as (_, port_b),
            ):
                options = {
                    "members": str(args.members),
                    "events": str(args.events),
                    "bursts": str(args.bursts),
                    "warmup-bursts": "1",
                    "burst-timeout": "60",
                    "port2": str(port_b),
                }
                return procs.run_loadgen("broadcast", port_a, pid, options, 240, log)
        finally:
            del os.environ["BENCH_REDIS_URL"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default=",".join(DEFAULT_SERVERS))
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--bursts", type=int, default=3)
    args = parser.parse_args(argv)
    env.ensure_node_modules()
    wanted = args.servers.split(",")
    specs = [spec for spec in procs.server_specs() if spec.key in wanted]
    rows = []
    results_dir = env.BENCH / "results"
    results_dir.mkdir(exist_ok=True)
    with procs.log_file(results_dir / "cluster.log") as log:
        for spec in specs:
            missing = procs.unavailable_reason(spec)
            if missing is not None:
                print(f"{spec.key}: skipped ({missing})")
                continue
            result = run_cluster(spec, args, log)
            if not result.get("ok"):
                print(f"{spec.key}: failed: {result.get('error')}")
                continue
            latency = result.get("latency") or {}
            p50, p99 = latency.get("p50_ms", 0), latency.get("p99_ms", 0)
            rows.append(
                f"| {spec.label} | {result['members']} | {result['throughput']:,.0f} | "
                f"{p50:.0f} | {p99:.0f} | {result['lost']} |"
            )
            print(rows[-1], flush=True)
    print(
        f"\ncluster broadcast: {args.members} members over two nodes, {args.events} events "
        "emitted on node A\n\n| server | members | deliveries/s | p50 ms | p99 ms | lost |\n"
        "|---|---|---|---|---|---|"
    )
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
