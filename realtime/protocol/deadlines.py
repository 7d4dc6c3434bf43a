"""Deadlines: every timer of the server in one heap, driven by ``now``.

Heartbeats, upgrade probes, connect timeouts and ack timeouts are all entries
here. The runtime runs a single loop that sleeps until :meth:`next_deadline`
and then calls :meth:`fire`; nothing in the core owns a clock or a task.
Cancelled entries stay in the heap and are skipped when they surface, which
keeps cancel O(1) (acks are mostly answered, so most entries are cancelled).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

TimerCallback = Callable[[float], None]


class Timer:
    """A handle on one scheduled callback."""

    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: TimerCallback) -> None:
        self.when = when
        self.callback: TimerCallback | None = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self.callback = None  # drop references early; the heap entry lingers


class Deadlines:
    """A heap of timers. ``on_earlier`` is told when the head moves earlier."""

    def __init__(self, on_earlier: Callable[[], None] | None = None) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._counter = itertools.count()
        self.on_earlier = on_earlier

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, when: float, callback: TimerCallback) -> Timer:
        timer = Timer(when, callback)
        head = self._heap[0][0] if self._heap else None
        heapq.heappush(self._heap, (when, next(self._counter), timer))
        if (head is None or when < head) and self.on_earlier is not None:
            self.on_earlier()
        return timer

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def fire(self, now: float) -> int:
        """Run every callback due at ``now``; returns how many ran."""
        heap = self._heap
        ran = 0
        while heap and heap[0][0] <= now:
            _, _, timer = heapq.heappop(heap)
            callback = timer.callback
            if timer.cancelled or callback is None:
                continue
            timer.cancelled = True
            timer.callback = None
            callback(now)
            ran += 1
        return ran
