"""Acknowledgements the server waits for: ids, callbacks, deadlines.

One table per socket. An entry ends in exactly one of three ways: the peer
answers (:meth:`AckTable.resolve`), its deadline passes (``on_fail`` gets
:class:`~realtime.errors.AckTimeout`), or the socket goes away
(:meth:`AckTable.fail_all` gives :class:`~realtime.errors.Disconnected`).

Ids come from one :class:`AckIds` per namespace, as in Node: a broadcast that
waits for acks sends ONE packet (one id) to every recipient, so the id must
be free in each recipient's table. Such a wait (:meth:`AckTable.expect`)
has no timer of its own; :class:`BroadcastAcks` gathers the replies of all
recipients, on every node, under one deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import AckTimeout, BroadcastAckTimeout, Disconnected
from ..protocol.counters import Timings
from ..protocol.deadlines import Deadlines, Timer
from ..protocol.socketio import MAX_ACK_ID

OnAck = Callable[[list[Any]], None]
OnFail = Callable[[BaseException], None]


class _Pending:
    __slots__ = ("on_ack", "on_fail", "sent", "timer")

    def __init__(self, on_ack: OnAck, on_fail: OnFail | None, sent: float) -> None:
        self.on_ack = on_ack
        self.on_fail = on_fail
        self.sent = sent  # Timings.clock() when the server has timings, else 0.0
        self.timer: Timer | None = None


class AckIds:
    """The ack ids of one namespace, counted up and wrapped inside what a
    JavaScript peer can represent."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next = 0

    def next(self) -> int:
        ack_id = self._next
        self._next = 0 if ack_id >= MAX_ACK_ID else ack_id + 1
        return ack_id


class AckTable:
    def __init__(
        self, deadlines: Deadlines, ids: AckIds | None = None, timings: Timings | None = None
    ) -> None:
        self._deadlines = deadlines
        self._ids = ids if ids is not None else AckIds()
        self._pending: dict[int, _Pending] = {}
        self._timings = timings  # ack latency, when metrics are on

    def __len__(self) -> int:
        return len(self._pending)

    def expect(self, ack_id: int, on_ack: OnAck) -> None:
        """Wait for an ack of an id chosen elsewhere (a broadcast's), no timer."""
        timings = self._timings
        self._pending[ack_id] = _Pending(on_ack, None, timings.clock() if timings else 0.0)

    def forget(self, ack_id: int) -> None:
        """Stop waiting for ``ack_id`` without telling anyone (its owner timed out)."""
        entry = self._pending.pop(ack_id, None)
        if entry is not None and entry.timer is not None:
            entry.timer.cancel()

    def add(
        self, on_ack: OnAck, on_fail: OnFail | None = None, deadline: float | None = None
    ) -> int:
        """Register a wait; returns the ack id to put in the outgoing packet."""
        ack_id = self._ids.next()
        timings = self._timings
        entry = _Pending(on_ack, on_fail, timings.clock() if timings else 0.0)
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
        if self._timings is not None:
            self._timings.ack_done(entry.sent)
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


OnReplies = Callable[[BaseException | None, list[Any]], None]


class BroadcastAcks:
    """The replies to one broadcast that waits for acks, as Node's broadcast
    operator counts them: done when every node has said how many clients it
    reached (``on_count``) and that many replies came (``on_reply``), or when
    the deadline passes first. ``on_done(err, replies)`` is called exactly
    once: ``err`` None, or a :class:`~realtime.errors.BroadcastAckTimeout`
    holding the replies that did come (a late reply is never silent: its
    broadcast has already reported the timeout)."""

    __slots__ = ("_clients", "_done", "_nodes", "_on_done", "_replies", "_servers", "timer")

    def __init__(self, on_done: OnReplies) -> None:
        self._on_done = on_done
        self._servers: int | None = None  # unknown until the adapter says
        self._nodes = 0
        self._clients = 0
        self._replies: list[Any] = []
        self._done = False
        self.timer: Timer | None = None

    @property
    def done(self) -> bool:
        return self._done

    def expect_servers(self, count: int) -> None:
        self._servers = count
        self._check()

    def on_count(self, clients: int) -> None:
        self._nodes += 1
        self._clients += clients
        self._check()

    def on_reply(self, value: Any) -> None:
        if not self._done:
            self._replies.append(value)
            self._check()

    def expire(self, now: float = 0.0) -> None:
        if self._done:
            return
        self._finish(
            BroadcastAckTimeout(
                f"{len(self._replies)} of {self._clients} clients acknowledged in time",
                self._replies,
            )
        )

    def _check(self) -> None:
        if (
            not self._done
            and self._servers is not None
            and self._nodes >= self._servers
            and len(self._replies) >= self._clients
        ):
            self._finish(None)

    def _finish(self, err: BaseException | None) -> None:
        self._done = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self._on_done(err, self._replies)
