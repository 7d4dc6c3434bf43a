"""The session store alone, against a model: whatever the broadcasts, the rooms
and the moment the transport died, a restored session replays exactly the
stored packets its client missed, in order; and it is refused only when a cap
made that impossible."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from realtime.bus.recovery import (
    ENTRY_OVERHEAD,
    ConnectionStateRecovery,
    SessionState,
    SessionStore,
)
from realtime.bus.requests import EVERYONE, BroadcastOptions
from realtime.protocol.engineio import Message
from realtime.protocol.socketio import Packet, PacketType

ROOMS = ("a", "b", "c")


class Timers:
    """``schedule`` for the store: the test fires timers by hand."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []

    def schedule(self, delay: float, callback: Callable[[], None]) -> Any:
        self.pending.append(callback)
        timers = self

        class Handle:
            def cancel(self) -> None:
                if callback in timers.pending:
                    timers.pending.remove(callback)

        return Handle()


def _store(max_packets: int = 1000, max_bytes: int = 10**9) -> tuple[SessionStore, Timers]:
    timers = Timers()
    options = ConnectionStateRecovery(max_packets=max_packets, max_bytes=max_bytes)
    return SessionStore(options, Message, timers.schedule), timers


def _reaches(rooms: frozenset[str], options: BroadcastOptions) -> bool:
    included = not options.rooms or bool(rooms & options.rooms)
    return included and not rooms & options.except_rooms


options_st = st.builds(
    BroadcastOptions,
    st.frozensets(st.sampled_from(ROOMS), max_size=2),
    st.frozensets(st.sampled_from(ROOMS), max_size=1),
)


@given(
    rooms=st.frozensets(st.sampled_from(ROOMS), max_size=2),
    before_join=st.lists(options_st, max_size=4),
    while_connected=st.lists(options_st, max_size=8),
    unread=st.integers(min_value=0, max_value=8),
    while_away=st.lists(options_st, max_size=8),
    max_packets=st.integers(min_value=1, max_value=12),
)
def test_a_restore_replays_exactly_what_was_missed(
    rooms: frozenset[str],
    before_join: list[BroadcastOptions],
    while_connected: list[BroadcastOptions],
    unread: int,
    while_away: list[BroadcastOptions],
    max_packets: int,
) -> None:
    store, _ = _store(max_packets=max_packets)
    rooms = rooms | {"sid"}
    n = 0

    def broadcast(options: BroadcastOptions) -> tuple[int, str]:
        nonlocal n
        n += 1
        messages = store.keep(Packet(PacketType.EVENT, "/", ["e", n]), options)
        text = messages[0].data
        assert isinstance(text, str)
        return n, text[text.rindex(",") + 2 : -2]  # the offset, last argument

    for options in before_join:
        broadcast(options)
    mark = store.mark()
    reached = [broadcast(o) for o in while_connected if _reaches(rooms, o)]
    # The client read all but the last `unread` of what reached it.
    read = reached[: max(0, len(reached) - unread)]
    offset = read[-1][1] if read else None
    seen = read[-1][0] if read else len(before_join)
    at_loss = n
    store.persist(SessionState("sid", "pid", rooms, {"k": 1}, mark))
    away = [broadcast(o) for o in while_away if _reaches(rooms, o)]
    expected = [number for number, _ in (reached[len(read) :] + away)]

    restored = store.restore("pid", offset)
    if restored is None:
        # Refused only when a cap kept it from holding every missed packet:
        # more missed than a session keeps, or the log had let go of some
        # packet after the client's offset by the time the transport died.
        assert len(expected) > max_packets or at_loss - seen > max_packets
    else:
        got = [m.data for m in restored.missed]
        assert [int(str(text).split(",")[1]) for text in got] == expected
        assert restored.sid == "sid" and restored.rooms == rooms and restored.data == {"k": 1}
    assert store.sessions == 0  # used up either way


@given(sizes=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=30))
def test_the_log_and_a_session_hold_at_most_their_caps(sizes: list[int]) -> None:
    store, _ = _store(max_packets=5, max_bytes=1500)
    store.persist(SessionState("sid", "pid", frozenset({"sid"}), None, store.mark()))
    total_bytes = 0
    for i, size in enumerate(sizes):
        messages = store.keep(Packet(PacketType.EVENT, "/", ["e", "x" * size, i]), EVERYONE)
        total_packets = i + 1
        total_bytes += sum(len(m.data) for m in messages) + ENTRY_OVERHEAD
        packets, held = store.log_held
        assert packets <= 5 and held <= 1500
        # Every packet was missed: the session goes once they no longer fit.
        over = total_packets > 5 or total_bytes > 1500
        session = store.session_held("pid")
        assert (session is None) == over
        assert session is None or session == (total_packets, total_bytes)
    assert store.dropped == (1 if store.session_held("pid") is None else 0)


def test_expiry_forgets_the_session_and_its_room_index() -> None:
    store, timers = _store()
    store.persist(SessionState("sid", "pid", frozenset({"sid", "a"}), None, store.mark()))
    assert store.sessions == 1 and len(timers.pending) == 1
    timers.pending.pop()()
    assert store.sessions == 0
    store.keep(Packet(PacketType.EVENT, "/", ["e"]), BroadcastOptions(frozenset({"a"})))
    assert store.session_held("pid") is None and store.restore("pid", None) is None


def test_a_mark_of_another_store_is_not_kept() -> None:
    store, _ = _store()
    other, _ = _store()
    store.persist(SessionState("sid", "pid", frozenset({"sid"}), None, other.mark()))
    assert store.sessions == 0
