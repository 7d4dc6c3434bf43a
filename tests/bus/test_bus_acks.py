"""Ack bookkeeping on the deadline heap, with a hand-moved clock."""

from __future__ import annotations

from typing import Any

from realtime.bus import AckTable
from realtime.bus.acks import AckIds, BroadcastAcks, OnFail
from realtime.errors import AckTimeout, BroadcastAckTimeout, Disconnected
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


def test_a_shared_id_source_keeps_ids_apart_across_tables() -> None:
    ids = AckIds()
    one, two = AckTable(Deadlines(), ids), AckTable(Deadlines(), ids)
    assert [one.add(lambda a: None), two.add(lambda a: None), one.add(lambda a: None)] == [0, 1, 2]


def test_an_expected_id_resolves_and_forget_is_silent() -> None:
    table = AckTable(Deadlines())
    w = Waiter()
    table.expect(7, w.ack)
    table.expect(8, w.ack)
    table.forget(8)
    assert table.resolve(8, ["late"]) is False
    assert table.resolve(7, ["x"]) is True
    table.fail_all()
    assert w.acked == [["x"]] and w.failed == []


def test_broadcast_acks_wait_for_servers_counts_and_replies() -> None:
    done: list[tuple[BaseException | None, list[Any]]] = []
    acks = BroadcastAcks(lambda err, replies: done.append((err, list(replies))))
    acks.on_count(2)
    acks.on_reply("a")
    acks.on_reply("b")
    assert done == []  # how many servers answer is not known yet
    acks.expect_servers(2)
    assert done == []  # the second server has not counted
    acks.on_count(0)
    assert done == [(None, ["a", "b"])]
    acks.on_reply("late")
    acks.expire()
    assert len(done) == 1


def test_broadcast_acks_expire_with_the_replies_that_came() -> None:
    done: list[tuple[BaseException | None, list[Any]]] = []
    deadlines = Deadlines()
    acks = BroadcastAcks(lambda err, replies: done.append((err, list(replies))))
    acks.timer = deadlines.schedule(5.0, acks.expire)
    acks.expect_servers(1)
    acks.on_count(3)
    acks.on_reply(1)
    deadlines.fire(5.0)
    [(err, replies)] = done
    assert isinstance(err, BroadcastAckTimeout) and err.replies == [1] and replies == [1]
    acks.on_reply(2)
    assert len(done) == 1 and acks.done
