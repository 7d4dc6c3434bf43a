"""Wait for the two cores to be quiet before a measurement.

On a machine shared with other work, a scenario that starts while something
else burns the server's core measures that something. Before each run the
driver samples /proc/stat and waits (up to a limit) until both cores are
mostly idle; the busy share it saw is kept with the result.
"""

from __future__ import annotations

import time
from pathlib import Path

SAMPLE_SECONDS = 0.5


def _core_ticks() -> dict[str, tuple[int, int]]:
    """(busy, total) ticks per core."""
    out: dict[str, tuple[int, int]] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        ticks = [int(f) for f in fields]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
        out[name[3:]] = (sum(ticks[:8]) - idle, sum(ticks[:8]))
    return out


def busy_pct(cores: tuple[str, ...], seconds: float = SAMPLE_SECONDS) -> float:
    """The busiest of ``cores`` over ``seconds``, in % of one core."""
    before = _core_ticks()
    time.sleep(seconds)
    after = _core_ticks()
    worst = 0.0
    for core in cores:
        if core not in before or core not in after:
            continue
        busy = after[core][0] - before[core][0]
        total = after[core][1] - before[core][1]
        if total > 0:
            worst = max(worst, 100.0 * busy / total)
    return worst


def wait_quiet(cores: tuple[str, ...], threshold: float, max_wait: float) -> float:
    """Sample until the cores are below ``threshold`` % busy or ``max_wait`` passes.

    Returns the last busy share seen, so a result can say how noisy its start was.
    """
    deadline = time.monotonic() + max_wait
    while True:
        seen = busy_pct(cores)
        if seen <= threshold or time.monotonic() >= deadline:
            return seen
