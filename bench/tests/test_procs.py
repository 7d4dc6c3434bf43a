"""Stopping a benchmark process stops what it started too: gunicorn's
worker outlived its master and took CPU from the next server's run."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from driver import procs

CHILD = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers until its parent reaps it: read its state
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:  # reaped in between
        return False


def test_stop_ends_the_processes_it_started() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    assert alive(child)
    procs.stop(proc, grace=5.0)
    assert proc.returncode is not None
    deadline = time.monotonic() + 10  # a hang guard: SIGKILL is delivered at once
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)
