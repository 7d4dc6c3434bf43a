"""Instructions of our own Python per round trip, counted by callgrind.

Runs ``bench/inprocess.py`` under ``valgrind --tool=callgrind`` at two
values of ``ROUND_TRIPS`` and divides the difference by the extra round
trips (inprocess.py runs its loop six times: a warm-up and five timed), so
start-up and imports cancel out. Unlike wall-clock timings, the count is
the same run after run, whatever else the machine does: use it for changes
of a few percent.

    python bench/instructions.py                  ws-echo with the bench's async def handler
    MODE=ack python bench/instructions.py         ws-ack
    ASYNC=0 python bench/instructions.py          ws-echo with a def handler
    MODE=polling python bench/instructions.py     a long-polling round trip
    MODE=asgi-polling python bench/instructions.py    the same through realtime.ASGIApp
    TIMINGS=1 python bench/instructions.py        with metrics' handler and ack timings on
    PYTHONPATH=$PWD/build/compiled python bench/instructions.py    the compiled build
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = 6  # inprocess.py: one warm-up, five measured
LOW, HIGH = 500, 1500


def instructions(round_trips: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/out",
                sys.executable,
                str(HERE / "inprocess.py"),
            ],
            env={**os.environ, "ROUND_TRIPS": str(round_trips)},
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no callgrind total in:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    low, high = instructions(LOW), instructions(HIGH)
    per_round_trip = (high - low) / ((HIGH - LOW) * RUNS)
    import realtime  # the build the child imports: same interpreter, same PYTHONPATH

    build = "compiled" if realtime.COMPILED else "pure Python"
    print(f"{per_round_trip / 1000:.1f}k instructions per round trip ({build})")


if __name__ == "__main__":
    main()
