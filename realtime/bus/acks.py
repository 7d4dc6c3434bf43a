"""Acknowledgements the server waits for: ids, callbacks, deadlines.

One table per socket. An entry ends in exactly one of three ways: the peer
answers (:meth:`AckTable.resolve`), its deadline passes (``on_fail`` gets
:class:`~realtime.errors.AckTimeout`), or the socket goes away
(:meth:`AckTable.fail_all` gives :class:`~realtime.errors.Disconnected`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import AckTimeout, Disconnected
from ..protocol.deadlines import Deadlines, Timer
from ..protocol.socketio import MAX_ACK_ID

OnAck = Callable[[list[Any]], None]
OnFail = Callable[[BaseException], None]


class _Pending:
    __slots__ = ("on_ack", "on_fail", "timer")

    def __init__(self, on_ack: OnAck, on_fail: OnFail | None) -> None:
        self.on_ack = on_ack
        self.on_fail = on_fail
        self.timer: Timer | None = None


class AckTable:
    def __init__(self, deadlines: Deadlines) -> None:
        self._deadlines = deadlines
        self._next_id = 0
        self._pending: dict[int, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def add(
        self, on_ack: OnAck, on_fail: OnFail | None = None, deadline: float | None = None
    ) -> int:
        """Register a wait; returns the ack id to put in the outgoing packet."""
        ack_id = self._next_id
        # Wrapping keeps ids inside what a JavaScript peer can represent.
        self._next_id = 0 if ack_id >= MAX_ACK_ID else ack_id + 1
        entry = _Pending(on_ack, on_fail)
        if deadline is not None:
            entry.timer = self._deadlines.schedule(
                deadline, lambda now: self._expire(ack_id, entry)
            )
        self._pending[ack_id] = entry
        return ack_id

    def resolve(self, ack_id: int, args: list[Any]) -> bool:
        """The peer answered; False for an id nobody waits for (late or bogus)."""
        entry = self._pending.pop(ack_id, None)
        if entry is None:
            return False
        if entry.timer is not None:
            entry.timer.cancel()
        entry.on_ack(args)
        return True

    def fail_all(self) -> None:
        """The socket is gone: every waiter learns it, once."""
        pending, self._pending = self._pending, {}
        for entry in pending.values():
            if entry.timer is not None:
                entry.timer.cancel()
            if entry.on_fail is not None:
                entry.on_fail(Disconnected("the socket disconnected before acknowledging"))

    def _expire(self, ack_id: int, entry: _Pending) -> None:
        if self._pending.get(ack_id) is not entry:
            return
        del self._pending[ack_id]
        if entry.on_fail is not None:
            entry.on_fail(AckTimeout(f"no acknowledgement for ack id {ack_id}"))
