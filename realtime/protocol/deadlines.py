"""Deadlines: every timer of the server in one heap, driven by ``now``.

Heartbeats, upgrade probes, connect timeouts and ack timeouts are all entries
here. The runtime runs a single loop that sleeps until :meth:`next_deadline`
and then calls :meth:`fire`; nothing in the core owns a clock or a task.
Cancelled entries stay in the heap and are skipped when they surface, which
keeps cancel O(1) (acks are mostly answered, so most entries are cancelled).
When they come to dominate (more than ``COMPACT_MIN`` of them, and more than
half the heap), the heap is rebuilt without them: a client that makes the
server arm and cancel far-off timers (acks answered, heartbeats re-armed)
cannot grow it beyond twice the live entries.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Final

TimerCallback = Callable[[float], None]

COMPACT_MIN: Final = 1024
"""Cancelled entries tolerated in the heap whatever its size: rebuilding a
small heap often would cost more than the entries it drops."""


class Timer:
    """A handle on one scheduled callback."""

    __slots__ = ("callback", "cancelled", "deadlines", "when")

    def __init__(self, when: float, callback: TimerCallback, deadlines: Deadlines) -> None:
        self.when = when
        self.callback: TimerCallback | None = callback
        self.cancelled = False
        self.deadlines = deadlines

    def cancel(self) -> None:
        if self.cancelled:  # already cancelled, or fired (and out of the heap)
            return
        self.cancelled = True
        self.callback = None  # drop references early; the heap entry lingers
        self.deadlines.count_cancelled()


class Deadlines:
    """A heap of timers. ``on_earlier`` is told when the head moves earlier."""

    def __init__(self, on_earlier: Callable[[], None] | None = None) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._counter = itertools.count()
        self.on_earlier = on_earlier
        self.cancelled = 0  # cancelled entries still in the heap

    def __len__(self) -> int:
        return len(self._heap)

    def count_cancelled(self) -> None:
        """A timer in the heap was cancelled: compact when they dominate."""
        self.cancelled += 1
        if self.cancelled > COMPACT_MIN and self.cancelled * 2 > len(self._heap):
            heap = self._heap
            # In place: ``fire`` may be iterating this very list.
            heap[:] = [entry for entry in heap if not entry[2].cancelled]
            heapq.heapify(heap)
            self.cancelled = 0

    def schedule(self, when: float, callback: TimerCallback) -> Timer:
        timer = Timer(when, callback, self)
        head = self._heap[0][0] if self._heap else None
        heapq.heappush(self._heap, (when, next(self._counter), timer))
        if (head is None or when < head) and self.on_earlier is not None:
            self.on_earlier()
        return timer

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
            self.cancelled -= 1
        return heap[0][0] if heap else None

    def fire(self, now: float) -> int:
        """Run every callback due at ``now``; returns how many ran."""
        heap = self._heap
        ran = 0
        while heap and heap[0][0] <= now:
            _, _, timer = heapq.heappop(heap)
            callback = timer.callback
            if timer.cancelled or callback is None:
                self.cancelled -= 1
                continue
            timer.cancelled = True
            timer.callback = None
            callback(now)
            ran += 1
        return ran
