"""The one timer of a runtime, armed at the engine's earliest deadline.

Every runtime keeps a single timer of its event loop (or hub) for the whole
engine, whatever the number of heartbeats, probes and ack timeouts: this is
its bookkeeping, with the loop's own scheduling call passed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final, Protocol

from ..protocol.deadlines import Deadlines

logger: Final = logging.getLogger("realtime")


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class TimedEngine(Protocol):
    deadlines: Deadlines

    def handle_timeouts(self, now: float) -> float | None: ...


class Alarm:
    """``call_at(when, callback)`` schedules on the loop (``when`` on the
    ``now`` clock); ``arm()`` after the earliest deadline moved earlier."""

    __slots__ = ("_call_at", "_engine", "_handle", "_now", "_when", "closed")

    def __init__(
        self,
        engine: TimedEngine,
        now: Callable[[], float],
        call_at: Callable[[float, Callable[[], None]], Cancellable],
    ) -> None:
        self._engine = engine
        self._now = now
        self._call_at = call_at
        self._handle: Cancellable | None = None
        self._when: float | None = None
        self.closed = False

    def arm(self) -> None:
        when = self._engine.deadlines.next_deadline()
        if when is None or self.closed:
            return
        if self._handle is not None and self._when is not None and self._when <= when:
            return  # armed early enough already
        if self._handle is not None:
            self._handle.cancel()
        self._when = when
        self._handle = self._call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._when = None
        try:
            self._engine.handle_timeouts(self._now())
        except Exception:
            logger.exception("error in timer")
        self.arm()

    def close(self) -> None:
        self.closed = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
