"""The load generator against the aiohttp floor: every scenario completes,
every answer matches its request, and nothing is lost.

Small and short on purpose: this checks the harness, not anybody's speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from driver import env, procs

FLOOR = procs.ServerSpec(
    "aiohttp-floor", "aiohttp floor", (sys.executable, str(env.BENCH / "servers" / "raw_app.py"))
)


@pytest.fixture(scope="module")
def floor() -> Iterator[tuple[int, int]]:
    env.ensure_node_modules()
    with (
        tempfile.TemporaryFile("w+") as log,
        procs.running_server(FLOOR, log) as pid_port,
    ):
        yield pid_port


def drive(floor: tuple[int, int], scenario: str, **args: str) -> dict[str, Any]:
    pid, port = floor
    with tempfile.TemporaryFile("w+") as log:
        result = procs.run_loadgen(scenario, port, pid, args, 60, log)
        log.seek(0)
        assert result["ok"], (result, log.read())
    return result


@pytest.mark.parametrize("scenario", ["ws-echo", "ws-ack", "polling-echo"])
def test_closed_loops_get_every_answer(floor: tuple[int, int], scenario: str) -> None:
    result = drive(floor, scenario, clients="5", warmup="0.2", duration="0.5")
    assert result["clients"] == 5
    assert result["messages"] > 0
    assert result["mismatches"] == 0
    assert result["lost"] == 0
    assert result["latency"]["count"] == result["messages"]
    assert result["server_cpu_pct"] > 0


def test_broadcast_reaches_every_member_in_order(floor: tuple[int, int]) -> None:
    result = drive(floor, "broadcast", members="20", events="5", bursts="2")
    assert result["joined"] == 20
    assert result["deliveries"] == 2 * 20 * 5
    assert result["lost"] == 0
    assert result["out_of_order"] == 0
    assert result["latency"]["count"] == 200


@pytest.mark.parametrize("client", ["raw", "ws"])
def test_storm_connects_measures_and_probes(floor: tuple[int, int], client: str) -> None:
    result = drive(floor, "storm", conns="200", concurrency="20", **{"ws-client": client})
    assert result["conns"] == 200
    assert result["connect_failures"] == 0
    assert result["still_open"] == 200
    assert result["answered"] == result["probed"] == 100
    assert result["rss_loaded_kib"] > 0


def test_the_server_cpu_counts_its_child_processes() -> None:
    """A server whose work runs in a child process (gunicorn's worker) is
    measured whole: the CPU a busy child burned shows in its parent's count."""
    spin = (
        "import sys, time\n"
        "end = time.process_time() + 0.5\n"
        "while time.process_time() < end: pass\n"
        "print('spun', flush=True)\n"
        "sys.stdin.read()"  # holds until the test closes its stdin
    )
    launch = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {spin!r}])"
    parent = subprocess.Popen(
        [sys.executable, "-c", launch],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdin is not None and parent.stdout is not None
    try:
        assert parent.stdout.readline().strip() == "spun"  # the child burned its 0.5 s
        probe = (
            "import('./metrics.mjs').then((m) => { const pid = Number(process.argv[1]);"
            " console.log(JSON.stringify({tree: m.processTree(pid).length,"
            " cpu: new m.ProcStat(pid).cpuSeconds()})) })"
        )
        out = subprocess.run(
            ["node", "-e", probe, str(parent.pid)],
            cwd=env.BENCH / "loadgen",
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        seen = json.loads(out.stdout)
    finally:
        parent.stdin.close()
        parent.wait(30)
    assert seen["tree"] == 2  # the parent and its child
    # the parent only waits: most of this is the child's spinning
    assert seen["cpu"] >= 0.45, seen
