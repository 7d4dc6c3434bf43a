"""What one client can make the server hold, measured on the pure core.

Each test floods one input and asserts on held state (deadline-heap entries,
outbox items and bytes, parse results), never on time.
"""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from helpers_sio import connect, make_server, socket_of
from protocol.test_engine_core import (
    Clock,
    Recorder,
    get,
    handshake,
    post,
    request,
    upgrade_socket,
)

from realtime import Disconnected
from realtime.engine import Engine
from realtime.http import HttpResponse
from realtime.protocol.deadlines import COMPACT_MIN, Deadlines
from realtime.protocol.session import ITEM_OVERHEAD, Upgrade
from realtime.protocol.socketio import Decoder, MalformedPacket
from realtime.transports import http1
from realtime.transports.websocket import MAX_FRAGMENTS, FrameError, FrameReader


def _engine() -> tuple[Engine, Clock]:
    engine = Engine(ping_interval=25, ping_timeout=20, listener=Recorder(), max_payload=10**7)
    return engine, Clock(engine)


def test_unsolicited_pongs_add_no_deadline_entries() -> None:
    engine, clock = _engine()
    sid = handshake(engine, clock, "4")
    before = len(engine.deadlines)
    for _ in range(200):
        post(engine, clock, sid, "\x1e".join(["3"] * 500))
    # 100,000 PONGs nobody asked for: the heap holds what it held before.
    assert len(engine.deadlines) == before
    assert engine.sessions[sid].state.value == "open"


@pytest.mark.parametrize(("eio", "packet"), [("4", "3\x1e"), ("3", "1:6")])
def test_a_post_of_many_small_packets_is_decoded_one_at_a_time(eio: str, packet: str) -> None:
    engine = Engine(listener=Recorder(), max_payload=10**7, max_post_packets=None)
    clock = Clock(engine)
    sid = handshake(engine, clock, eio)
    body = (packet * 100_000).rstrip("\x1e").encode()  # 100,000 PONGs or NOOPs
    tracemalloc.start()
    try:
        answer = engine.handle_request(
            request("POST", body, EIO=eio, transport="polling", sid=sid), clock.now
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(answer, HttpResponse) and answer.status == 200
    # The decoded text (300 KB at most) and one packet at a time; a list of
    # every part and packet first would peak above 6 MB.
    assert peak < len(body) + 300_000
    assert engine.sessions[sid].state.value == "open"


@pytest.mark.parametrize(("eio", "packet"), [("4", "3\x1e"), ("3", "1:6")])
def test_a_post_of_more_packets_than_max_post_packets_is_refused(eio: str, packet: str) -> None:
    engine = Engine(listener=Recorder(), max_post_packets=100)
    clock = Clock(engine)
    sid = handshake(engine, clock, eio)
    assert post(engine, clock, sid, (packet * 100).rstrip("\x1e"), eio=eio).status == 200
    refused = post(engine, clock, sid, (packet * 101).rstrip("\x1e"), eio=eio)
    assert refused.status == 400 and b"Too many packets" in refused.body
    assert sid not in engine.sessions or engine.sessions[sid].state.value != "open"


def test_max_post_packets_has_a_default_that_admits_an_event_burst() -> None:
    engine = Engine(listener=Recorder())
    assert engine.max_post_packets == 10_000
    with pytest.raises(ValueError, match="max_post_packets"):
        Engine(listener=Recorder(), max_post_packets=0)


def test_max_pending_acks_must_admit_one() -> None:
    with pytest.raises(ValueError, match="max_pending_acks"):
        make_server(max_pending_acks=0)


def test_an_answering_pong_still_rearms_the_heartbeat() -> None:
    engine, clock = _engine()
    sid = handshake(engine, clock, "4")
    clock.advance(25)  # the server pings
    assert get(engine, clock, sid) == "2"
    post(engine, clock, sid, "3")
    clock.advance(25 + 19)  # answered: no ping timeout, a new ping instead
    assert engine.sessions[sid].state.value == "open"


def test_eio3_pings_never_read_keep_one_pong_queued() -> None:
    engine, clock = _engine()
    sid = handshake(engine, clock, "3")
    session = engine.sessions[sid]
    session.take()  # whatever on_open queued
    body = "1:2" * 10_000
    for _ in range(20):
        post(engine, clock, sid, body, eio="3")
    items = session.take()
    assert len(items) == 1
    assert session._outbox_size == 0


def test_outbox_counts_per_item_overhead() -> None:
    engine, clock = _engine()
    sid = handshake(engine, clock, "4")
    session = engine.sessions[sid]
    session.take()
    for _ in range(1000):
        session.send("")
    assert session._outbox_size == 1000 * ITEM_OVERHEAD
    session.take(10)
    assert session._outbox_size == 990 * ITEM_OVERHEAD


def test_empty_items_cannot_hide_under_max_buffer() -> None:
    listener = Recorder()
    engine = Engine(listener=listener, max_buffer=100 * ITEM_OVERHEAD)
    clock = Clock(engine)
    sid = handshake(engine, clock, "4")
    session = engine.sessions[sid]
    for _ in range(1000):
        session.send("")
    assert listener.closed == ["buffer overflow"]
    # what was queued, then dropped with the session (the OPEN's followers included)
    assert engine.counters.dropped_overflow >= 100


@pytest.mark.parametrize("text", ['50-["e"]', "60-1[]", '50-/nsp,["e"]'])
def test_binary_packet_with_zero_attachments_is_refused(text: str) -> None:
    with pytest.raises(MalformedPacket, match="bad attachment count"):
        Decoder(5).feed(text)


def test_binary_packet_with_attachments_still_decodes() -> None:
    decoder = Decoder(5)
    assert decoder.feed('51-["e",{"_placeholder":true,"num":0}]') is None
    packet = decoder.feed(b"\x01")
    assert packet is not None and packet.data == ["e", b"\x01"]


def _head(value: str) -> bytes:
    return f"GET /x HTTP/1.1\r\nHost: h\r\nX-Long: {value}\r\n\r\n".encode("latin-1")


def test_header_values_with_long_blank_runs_parse_and_strip() -> None:
    for value in (" " * 8000, "a" + " " * 8000 + "b", " " * 4000 + "a" + " " * 3000):
        reader = http1.RequestReader(max_head=16_384)
        reader.feed(_head(value))
        head = reader.head()
        assert head is not None
        assert head.headers["x-long"] == value.strip(" ")


def test_malformed_line_with_leading_blanks_is_refused() -> None:
    reader = http1.RequestReader(max_head=16_384)
    reader.feed(_head(" " * 8000 + "\rx"))
    with pytest.raises(http1.HeadError):
        reader.head()


def test_field_pattern_cannot_backtrack_over_blanks() -> None:
    """By construction: the value may not start with a blank, so leading
    blanks have one way to match, and no lazy part retries the trailing run
    at each position (the quadratic shape)."""
    pattern = http1._FIELD_LINE.pattern
    assert "*?" not in pattern
    assert re.search(r"\(\?:\[\^\\r\\n\\0 \\t\]", pattern)


# -- WebSocket fragments ---------------------------------------------------------


def _fragment(opcode: int, payload: bytes, *, fin: bool) -> bytes:
    # Masked with a zero key: the payload travels as is.
    return bytes(((0x80 if fin else 0) | opcode, 0x80 | len(payload))) + b"\0\0\0\0" + payload


def test_one_byte_fragments_hold_their_bytes_not_an_object_each() -> None:
    reader = FrameReader(max_size=10**6, max_fragments=2000)
    stream = _fragment(0x2, b"x", fin=False) + _fragment(0x0, b"x", fin=False) * 1998
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        assert reader.feed(stream) == []
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # 1,999 payload bytes under way; a bytes object per fragment (33 bytes
    # each plus its list slot) would hold over 80 KB.
    assert held < 8_000
    assert reader.feed(_fragment(0x0, b"x", fin=True)) == [b"x" * 2000]


def test_a_message_in_too_many_fragments_is_refused() -> None:
    reader = FrameReader(max_size=10**6, max_fragments=100)
    stream = _fragment(0x1, b"4", fin=False) + _fragment(0x0, b"a", fin=False) * 99
    assert reader.feed(stream) == []
    with pytest.raises(FrameError) as refused:
        reader.feed(_fragment(0x0, b"a", fin=True))
    assert refused.value.code == 1008


def test_endless_empty_continuations_end_at_the_fragment_bound() -> None:
    reader = FrameReader(max_size=10**6)  # the default bound
    empty = _fragment(0x0, b"", fin=False)
    frames = 0
    with pytest.raises(FrameError) as refused:
        reader.feed(_fragment(0x1, b"4", fin=False))
        for _ in range(10**6):  # a million empty frames hold nothing but are refused early
            frames += 1
            reader.feed(empty * 64)
    assert refused.value.code == 1008
    assert frames * 64 <= MAX_FRAGMENTS + 64


def test_messages_after_a_fragmented_one_start_a_fresh_count() -> None:
    reader = FrameReader(max_size=10**6, max_fragments=3)
    message = (
        _fragment(0x1, b"4a", fin=False)
        + _fragment(0x0, b"b", fin=False)
        + _fragment(0x0, b"c", fin=True)
    )
    assert reader.feed(message * 50) == ["4abc"] * 50


def test_repeated_upgrade_probes_add_no_timers_nor_hold_the_upgrade() -> None:
    engine, clock = _engine()
    sid = handshake(engine, clock, "4")
    decision = upgrade_socket(engine, clock, sid)
    session = decision.session
    assert engine.receive_frame(session, "2probe", True, clock.now) == "3probe"
    before = len(engine.deadlines)
    for _ in range(10_000):
        clock.now += 0.0005  # five seconds of probes, within the upgrade timeout
        assert engine.receive_frame(session, "2probe", True, clock.now) == "3probe"
    assert len(engine.deadlines) == before
    clock.advance(10)  # the first probe's upgrade timeout, unmoved by the others
    assert session.upgrade is Upgrade.NONE and session.ws_waker is None


# -- the deadline heap -------------------------------------------------------------


def test_probe_sockets_opened_and_closed_leave_no_heap_of_cancelled_timers() -> None:
    engine, clock = _engine()
    sid = handshake(engine, clock, "4")
    session = engine.sessions[sid]
    before = len(engine.deadlines)
    for _ in range(20_000):  # each arms a 10 s upgrade timer that its close cancels
        upgrade_socket(engine, clock, sid)
        engine.websocket_closed(session, True, clock.now)
    # Without compaction the heap would hold 20,000 cancelled entries until
    # their time came; with it, at most COMPACT_MIN or as many as live ones.
    assert len(engine.deadlines) <= before + COMPACT_MIN + 1
    assert engine.deadlines.cancelled <= COMPACT_MIN
    assert session.state.value == "open"


def test_compaction_keeps_live_timers_and_their_order() -> None:
    deadlines = Deadlines()
    fired: list[float] = []

    def record(when: float) -> Callable[[float], None]:
        return lambda now: fired.append(when)

    live = [deadlines.schedule(float(n), record(float(n))) for n in range(6000, 0, -3)]
    for n in range(30_000):
        deadlines.schedule(1e9 + n, record(-1.0)).cancel()
    # Cancelled entries never outnumber live ones by more than COMPACT_MIN.
    assert len(deadlines) <= len(live) + max(len(live), COMPACT_MIN) + 1
    assert deadlines.next_deadline() == 3.0
    assert deadlines.fire(10**10) == len(live)
    assert fired == sorted(timer.when for timer in live)
    assert len(deadlines) == 0 and deadlines.cancelled == 0


def test_a_timer_cancelled_twice_or_after_firing_counts_once() -> None:
    deadlines = Deadlines()
    timer = deadlines.schedule(1.0, lambda now: None)
    timer.cancel()
    timer.cancel()
    assert deadlines.cancelled == 1
    fired = deadlines.schedule(0.5, lambda now: None)
    deadlines.fire(0.6)
    fired.cancel()
    assert deadlines.cancelled == 1
    assert deadlines.next_deadline() is None and deadlines.cancelled == 0


# -- acks the server waits for -----------------------------------------------------


async def test_acks_left_unanswered_are_bounded_per_socket() -> None:
    sio, _ = make_server(max_pending_acks=50)
    conn = connect(sio)
    socket = socket_of(sio, conn)
    got: list[Any] = []
    for _ in range(50):  # no timeout: without a bound, each would wait for ever
        socket.emit("q", callback=lambda *args: got.append(args))
    assert len(socket._acks) == 50 and not conn.closed
    waits = [socket.call("q", timeout=None)]
    # The 51st wait closes the client that answers none, and every waiter
    # with an error path hears of it; the table is empty.
    assert conn.close_reason == "ack backlog"
    assert len(socket._acks) == 0
    with pytest.raises(Disconnected):
        await waits[0]


async def test_acks_answered_in_time_never_reach_the_bound() -> None:
    sio, _ = make_server(max_pending_acks=5)
    conn = connect(sio)
    socket = socket_of(sio, conn)
    conn.take()
    for n in range(100):
        socket.emit("q", callback=lambda *args: None)
        conn.receive(f"3{n}[]")
    assert not conn.closed and len(socket._acks) == 0


async def test_broadcast_acks_count_toward_the_bound() -> None:
    sio, runtime = make_server(max_pending_acks=3)
    conn = connect(sio)
    socket = socket_of(sio, conn)
    done: list[Any] = []
    for _ in range(3):
        sio.timeout(60).emit("q", callback=lambda err, replies: done.append(err))
    assert len(socket._acks) == 3 and not conn.closed
    sio.timeout(60).emit("q", callback=lambda err, replies: done.append(err))
    assert conn.close_reason == "ack backlog" and len(socket._acks) == 0
    await runtime.settle()
    assert done[-1] is None  # the fourth found no recipient: done at once, nothing missing


def test_acks_a_client_asks_for_and_never_reads_are_bounded_by_count() -> None:
    """Every answer waits in the outbox, each item counting ITEM_OVERHEAD
    beside its bytes: at most max_buffer / ITEM_OVERHEAD of them, however
    small, before the client is cut off."""
    sio, _ = make_server(max_buffer=200 * ITEM_OVERHEAD, events_per_second=None)
    sio.on("e", lambda socket: None)  # answers each ack with no arguments: "3<id>[]"
    engine = sio.engine
    clock = Clock(engine)
    sid = handshake(engine, clock, "4")
    session = engine.sessions[sid]
    post(engine, clock, sid, "40")
    most = 0
    for n in range(0, 1000, 50):  # a thousand events asking for acks, never a GET
        post(engine, clock, sid, "\x1e".join(f'42{k}["e"]' for k in range(n, n + 50)))
        most = max(most, len(session._outbox))
    assert most <= 200
    assert session.close_reason == "buffer overflow"
