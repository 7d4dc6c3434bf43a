"""A session's long-poll slot, as a state machine.

A polling session has at most one GET waiting for output. The engine parks
it, the host attaches the waker that answers it, the session wakes it once
there is something to answer with (output, a probe's NOOP, a finished
upgrade, a close), and the host releases it when it has answered, or when
its client went away::

    IDLE --(the engine parks a GET)-------------------> PARKED
    PARKED --(output, a probe, an upgrade, a close)---> DUE      (waker called, once)
    PARKED or DUE --(answered, or the client left)----> IDLE

A second GET while one is parked is a broken client: the engine ends the
session (``parked`` tells it).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Final


class PollState(enum.Enum):
    IDLE = "idle"
    PARKED = "parked"
    DUE = "due"


POLL_TRANSITIONS: Final[dict[PollState, frozenset[PollState]]] = {
    PollState.IDLE: frozenset({PollState.PARKED}),
    PollState.PARKED: frozenset({PollState.DUE, PollState.IDLE}),
    PollState.DUE: frozenset({PollState.IDLE}),
}

_IDLE: Final = PollState.IDLE
_PARKED: Final = PollState.PARKED
_DUE: Final = PollState.DUE


class ParkedPoll:
    """The GET a polling session holds, if any, and who answers it."""

    __slots__ = ("state", "waker")

    def __init__(self) -> None:
        self.state = _IDLE
        self.waker: Callable[[], None] | None = None

    def _move(self, to: PollState) -> None:
        if to not in POLL_TRANSITIONS[self.state]:
            raise AssertionError(f"a poll cannot go from {self.state} to {to}")
        self.state = to

    @property
    def parked(self) -> bool:
        """A GET is waiting (its answer may be due already)."""
        return self.state is not _IDLE

    def park(self) -> None:
        self._move(_PARKED)

    def attach(self, waker: Callable[[], None]) -> None:
        """The host's "answer it now"; called at once if that is due already."""
        self.waker = waker
        if self.state is _DUE:
            waker()

    def wake(self) -> None:
        """There is something to answer with: tell the host, once."""
        if self.state is _PARKED:
            self._move(_DUE)
            if self.waker is not None:
                self.waker()

    def release(self, waker: Callable[[], None] | None = None) -> None:
        """Answered, or abandoned. ``waker`` (the one attached) is forgotten
        unless a newer poll's replaced it."""
        if self.state is not _IDLE:
            self._move(_IDLE)
        if self.waker is waker or waker is None:
            self.waker = None
