"""Ack bookkeeping on the deadline heap, with a hand-moved clock."""

from __future__ import annotations

from typing import Any

from realtime.bus import AckTable
from realtime.bus.acks import OnFail
from realtime.errors import AckTimeout, Disconnected
from realtime.protocol.deadlines import Deadlines
from realtime.protocol.socketio import MAX_ACK_ID


class Waiter:
    def __init__(self) -> None:
        self.acked: list[list[Any]] = []
        self.failed: list[BaseException] = []

    def ack(self, args: list[Any]) -> None:
        self.acked.append(args)

    def fail(self, exc: BaseException) -> None:
        self.failed.append(exc)


def test_ids_count_up_and_resolve_once() -> None:
    table = AckTable(Deadlines())
    w = Waiter()
    assert [table.add(w.ack, w.fail) for _ in range(3)] == [0, 1, 2]
    assert table.resolve(1, ["x"]) is True
    assert table.resolve(1, ["again"]) is False
    assert table.resolve(99, []) is False
    assert w.acked == [["x"]] and len(table) == 2


def test_timeout_fires_on_the_deadline_and_not_before() -> None:
    deadlines = Deadlines()
    table = AckTable(deadlines)
    w = Waiter()
    ack_id = table.add(w.ack, w.fail, deadline=105.0)
    deadlines.fire(104.9)
    assert w.failed == []
    deadlines.fire(105.0)
    assert len(w.failed) == 1 and isinstance(w.failed[0], AckTimeout)
    assert table.resolve(ack_id, ["late"]) is False
    assert w.acked == []


def test_answer_cancels_the_timer() -> None:
    deadlines = Deadlines()
    table = AckTable(deadlines)
    w = Waiter()
    ack_id = table.add(w.ack, w.fail, deadline=10.0)
    table.resolve(ack_id, [])
    assert deadlines.next_deadline() is None
    assert deadlines.fire(100.0) == 0
    assert w.failed == [] and w.acked == [[]]


def test_fail_all_tells_every_waiter_once() -> None:
    deadlines = Deadlines()
    table = AckTable(deadlines)
    w = Waiter()
    table.add(w.ack, w.fail, deadline=10.0)
    table.add(w.ack, w.fail)
    table.add(w.ack)  # a callback without failure handler is just dropped
    table.fail_all()
    assert [type(e) for e in w.failed] == [Disconnected, Disconnected]
    assert deadlines.fire(100.0) == 0
    table.fail_all()
    assert len(w.failed) == 2 and len(table) == 0


def test_timeouts_share_the_heap_in_deadline_order() -> None:
    deadlines = Deadlines()
    table = AckTable(deadlines)
    order: list[float] = []

    def expiry(when: float) -> OnFail:
        return lambda exc: order.append(when)

    for when in (30.0, 10.0, 20.0):
        table.add(lambda args: None, expiry(when), deadline=when)
    deadlines.fire(25.0)
    assert order == [10.0, 20.0]


def test_ids_wrap_before_leaving_the_javascript_safe_range() -> None:
    table = AckTable(Deadlines())
    table._ids._next = MAX_ACK_ID
    assert table.add(lambda args: None) == MAX_ACK_ID
    assert table.add(lambda args: None) == 0
