"""Events, acks both ways, ordering, malformed input and disconnection."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from helpers_sio import FakeConnection, Gate, connect, make_server, sid_of, socket_of

from realtime import AckTimeout, Disconnected
from realtime.server import Socket

# -- client -> server ------------------------------------------------------------


async def test_handler_gets_socket_and_args_and_its_return_answers_the_ack() -> None:
    sio, _ = make_server()
    received: list[tuple[str, tuple[Any, ...]]] = []

    @sio.on("message")
    def on_message(socket: Socket, *args: Any) -> str:
        received.append((socket.id, args))
        return "got it"

    conn = connect(sio)
    sid = sid_of(conn.take()[0])
    conn.receive('2["message","hi",{"n":1}]', '27["message"]')
    assert received == [(sid, ("hi", {"n": 1})), (sid, ())]
    assert conn.take() == ['37["got it"]']  # only the event with an id is answered


@pytest.mark.parametrize(
    ("returned", "ack"),
    [
        (None, "31[]"),
        (("a", 2, None), '31["a",2,null]'),
        ([1, 2], "31[[1,2]]"),
        ({"ok": True}, '31[{"ok":true}]'),
    ],
)
async def test_return_value_shapes(returned: Any, ack: str) -> None:
    sio, _ = make_server()
    sio.on("q", lambda socket: returned)
    conn = connect(sio)
    conn.take()
    conn.receive('21["q"]')
    assert conn.take() == [ack]


async def test_binary_return_value_is_a_binary_ack() -> None:
    sio, runtime = make_server()

    @sio.on("file")
    async def on_file(socket: Socket, name: str) -> tuple[str, bytes]:
        return name, b"\x00\x01"

    conn = connect(sio, nsp="/")
    conn.take()
    conn.receive('23["file","a.bin"]')
    await runtime.settle()
    assert conn.take() == ['61-3["a.bin",{"_placeholder":true,"num":0}]', b"\x00\x01"]


async def test_binary_event_from_the_client_is_reassembled() -> None:
    sio, _ = make_server()
    got: list[Any] = []
    sio.on("upload", lambda socket, *args: got.append(args))
    conn = connect(sio)
    conn.take()
    conn.receive('52-["upload",{"a":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":0}]')
    assert got == []
    conn.receive(b"zero")
    assert got == []
    conn.receive(b"one")
    assert got == [({"a": b"one"}, b"zero")]


async def test_catch_all_gets_events_without_a_handler() -> None:
    sio, _ = make_server()
    caught: list[tuple[Any, ...]] = []
    sio.on("known", lambda socket: "known")

    @sio.on("*")
    def catch_all(socket: Socket, event: str, *args: Any) -> str:
        caught.append((event, *args))
        return "caught"

    conn = connect(sio)
    conn.take()
    conn.receive('21["known"]', '22["other",1,2]')
    assert caught == [("other", 1, 2)]
    assert conn.take() == ['31["known"]', '32["caught"]']


async def test_event_without_any_handler_is_dropped_quietly() -> None:
    sio, _ = make_server()
    conn = connect(sio)
    conn.take()
    conn.receive('21["nobody"]')
    assert conn.take() == [] and not conn.closed


async def test_crashing_handler_is_logged_and_not_acked(caplog: pytest.LogCaptureFixture) -> None:
    sio, _ = make_server()

    def broken(socket: Socket) -> None:
        raise ValueError("boom")

    sio.on("broken", broken)
    sio.on("fine", lambda socket: "ok")
    conn = connect(sio)
    conn.take()
    with caplog.at_level(logging.ERROR, "realtime"):
        conn.receive('21["broken"]', '22["fine"]')
    assert conn.take() == ['32["ok"]']
    assert "broken" in caplog.text and "boom" in caplog.text


async def test_events_of_one_socket_run_one_after_another() -> None:
    sio, runtime = make_server()
    log: list[tuple[str, str]] = []
    gate = Gate()

    @sio.on("slow")
    async def slow(socket: Socket) -> None:
        log.append((socket.id, "slow start"))
        await gate.wait()
        log.append((socket.id, "slow end"))

    @sio.on("fast")
    def fast(socket: Socket) -> None:
        log.append((socket.id, "fast"))

    a = connect(sio)
    b = connect(sio)
    a_id, b_id = sid_of(a.take()[0]), sid_of(b.take()[0])
    a.receive('2["slow"]', '2["fast"]')
    b.receive('2["fast"]')  # another socket is not held up by a's slow handler
    await runtime.settle()
    assert sorted(log) == sorted([(a_id, "slow start"), (b_id, "fast")])
    gate.open()
    await runtime.settle()
    assert [what for sid, what in log if sid == a_id] == ["slow start", "slow end", "fast"]


async def test_events_sent_while_connecting_wait_for_the_connect_handler() -> None:
    sio, runtime = make_server()
    gate = Gate()
    log: list[str] = []

    @sio.on("connect")
    async def on_connect(socket: Socket, auth: dict[str, Any]) -> None:
        await gate.wait()
        log.append("connected")

    sio.on("early", lambda socket: log.append("early"))
    conn = connect(sio)
    conn.receive('2["early"]')
    await runtime.settle()
    assert log == []
    gate.open()
    await runtime.settle()
    assert log == ["connected", "early"]


async def test_events_of_a_refused_socket_never_run() -> None:
    sio, runtime = make_server()
    gate = Gate()
    log: list[str] = []

    @sio.on("connect")
    async def on_connect(socket: Socket, auth: dict[str, Any]) -> bool:
        await gate.wait()
        return False

    sio.on("early", lambda socket: log.append("early"))
    conn = connect(sio)
    conn.receive('2["early"]')
    gate.open()
    await runtime.settle()
    assert log == []
    assert conn.take() == ['4{"message":"Connection refused"}']


async def test_reserved_event_names_close_the_connection_and_reach_no_handler() -> None:
    sio, _ = make_server()
    lifecycle: list[str] = []
    sio.on("connect", lambda socket, auth: lifecycle.append("connect"))
    sio.on("disconnect", lambda socket, reason: lifecycle.append(reason))
    sio.on("*", lambda socket, event, *args: lifecycle.append("catch-all " + event))
    for name in ("connect", "disconnect", "connect_error", "disconnecting", "newListener"):
        lifecycle.clear()
        conn = connect(sio)
        conn.receive(f'2["{name}"]')
        assert conn.closed and conn.close_reason == "parse error"
        assert lifecycle == ["connect", "parse error"]


async def test_malformed_packets_close_and_are_logged_once_per_kind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sio, _ = make_server()
    with caplog.at_level(logging.DEBUG, "realtime"):
        for bad in ('2{"not":"an array"}', '2{"not":"an array"}', "9", b"\x00"):
            conn = connect(sio)
            conn.receive(bad)
            assert conn.closed and conn.close_reason == "parse error"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    kinds = [r.getMessage() for r in warnings]
    assert sum("invalid payload" in k for k in kinds) <= 1  # once per kind, even across tests
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks for peers' faults
    assert any("invalid payload" in r.getMessage() for r in caplog.records)


async def test_too_many_attachments_is_configurable() -> None:
    sio, _ = make_server(max_attachments=1)
    conn = connect(sio)
    conn.receive('52-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
    assert conn.closed


async def test_client_connect_error_packet_is_a_protocol_violation() -> None:
    sio, _ = make_server()
    conn = connect(sio)
    conn.receive('4{"message":"x"}')
    assert conn.closed


async def test_packets_for_a_namespace_not_joined_are_ignored() -> None:
    sio, _ = make_server()
    sio.of("/admin").on("x", lambda socket: "no")
    conn = connect(sio)
    conn.take()
    conn.receive('2/admin,1["x"]')
    assert conn.take() == [] and not conn.closed


# -- server -> client acks -------------------------------------------------------


async def test_call_inside_a_handler_is_answered_by_the_client_ack() -> None:
    sio, runtime = make_server()
    answers: list[Any] = []

    @sio.on("start")
    async def start(socket: Socket) -> str:
        answers.append(await socket.call("question", 42))
        answers.append(await socket.call("two"))
        return "done"

    conn = connect(sio)
    conn.take()
    conn.receive('25["start"]')
    await runtime.settle()
    assert conn.take() == ['20["question",42]']
    conn.receive('30["yes"]')  # resolved at once, not queued behind "start"
    await runtime.settle()
    assert conn.take() == ['21["two"]']
    conn.receive('31["a",{"b":2}]')
    await runtime.settle()
    assert answers == ["yes", ("a", {"b": 2})]
    assert conn.take() == ['35["done"]']


async def test_call_times_out_on_the_deadline_heap() -> None:
    sio, runtime = make_server()
    outcome: list[Any] = []

    @sio.on("start")
    async def start(socket: Socket) -> None:
        try:
            await socket.call("question", timeout=5)
        except AckTimeout as exc:
            outcome.append(exc)

    conn = connect(sio)
    conn.receive('2["start"]')
    await runtime.settle()
    runtime.advance(4.9, sio.engine.deadlines)
    await runtime.settle()
    assert outcome == []
    runtime.advance(0.2, sio.engine.deadlines)
    await runtime.settle()
    assert len(outcome) == 1 and isinstance(outcome[0], TimeoutError)
    conn.receive('30["too late"]')  # a late ack is ignored
    assert not conn.closed


async def test_call_fails_with_disconnected_when_the_socket_goes() -> None:
    sio, _runtime = make_server()
    conn = connect(sio)
    socket = socket_of(sio, conn)
    pending = socket.call("question")
    conn.lost("ping timeout")
    with pytest.raises(Disconnected):
        await pending
    with pytest.raises(Disconnected):
        await socket.call("again")


async def test_emit_callback_gets_the_ack_arguments() -> None:
    sio, runtime = make_server()
    got: list[tuple[Any, ...]] = []
    conn = connect(sio)
    socket = socket_of(sio, conn)

    async def on_ack(*args: Any) -> None:
        got.append(args)

    socket.emit("q", 1, callback=on_ack)
    socket.emit("q", 2, callback=lambda *args: got.append(args))
    assert conn.take() == ['20["q",1]', '21["q",2]']
    conn.receive('31["b"]', '30["a",1]')
    await runtime.settle()
    assert sorted(got) == [("a", 1), ("b",)]


async def test_emit_callback_with_timeout_learns_of_the_timeout_once() -> None:
    sio, runtime = make_server()
    got: list[Any] = []
    conn = connect(sio)
    socket = socket_of(sio, conn)
    socket.emit("q", callback=lambda *args: got.append(args), timeout=1)
    runtime.advance(2, sio.engine.deadlines)
    conn.receive("30[]")  # too late: the callback already had its error
    await runtime.settle()
    assert len(got) == 1 and len(got[0]) == 1 and isinstance(got[0][0], AckTimeout)


async def test_emit_callback_with_timeout_is_error_first_when_answered() -> None:
    sio, runtime = make_server()
    got: list[Any] = []
    conn = connect(sio)
    socket = socket_of(sio, conn)
    socket.emit("q", callback=lambda *args: got.append(args), timeout=5)
    socket.emit("q", callback=lambda *args: got.append(args), timeout=5)
    conn.receive('30["a",1]')
    conn.close()  # the second one never gets its answer
    await runtime.settle()
    assert got[0] == (None, "a", 1)
    assert len(got) == 2 and isinstance(got[1][0], Disconnected)
    socket.emit("q", callback=lambda *args: got.append(args), timeout=5)  # already gone
    await runtime.settle()
    assert len(got) == 3 and isinstance(got[2][0], Disconnected)


async def test_emit_with_a_reserved_name_is_refused() -> None:
    sio, _ = make_server()
    conn = connect(sio)
    socket = socket_of(sio, conn)
    with pytest.raises(ValueError):
        socket.emit("disconnect")
    with pytest.raises(ValueError):
        sio.emit("connect")


# -- disconnection ---------------------------------------------------------------


@pytest.mark.parametrize("reason", ["transport close", "ping timeout", "transport error"])
async def test_engine_close_reason_reaches_every_socket_of_the_connection(reason: str) -> None:
    sio, runtime = make_server()
    seen: list[tuple[str, str]] = []
    sio.on("disconnect", lambda socket, why: seen.append(("/", why)))
    sio.of("/admin").on("disconnect", lambda socket, why: seen.append(("/admin", why)))
    conn = connect(sio)
    conn.receive("0/admin,")
    conn.lost(reason)
    await runtime.settle()
    assert sorted(seen) == [("/", reason), ("/admin", reason)]
    assert not sio.of("/").sockets and not sio.of("/admin").sockets


async def test_client_namespace_disconnect_keeps_the_other_namespaces() -> None:
    sio, _runtime = make_server()
    reasons: list[str] = []
    sio.of("/admin").on("disconnect", lambda socket, why: reasons.append(why))
    conn = connect(sio)
    conn.receive("0/admin,")
    conn.take()
    conn.receive("1/admin,")
    assert reasons == ["client namespace disconnect"]
    assert not conn.closed and len(sio.of("/").sockets) == 1
    conn.receive("0/admin,")  # and may come back
    assert conn.take()[0].startswith('0/admin,{"sid":')


async def test_server_disconnect_tells_the_client_and_runs_the_handler() -> None:
    sio, runtime = make_server()
    reasons: list[str] = []

    @sio.on("disconnect")
    async def on_disconnect(socket: Socket, reason: str) -> None:
        reasons.append(reason)

    conn = connect(sio)
    sid = sid_of(conn.take()[0])
    sio.disconnect(sid)
    await runtime.settle()
    assert conn.take() == ["1"]
    assert reasons == ["server namespace disconnect"]
    assert not conn.closed
    assert sio.get_socket(sid) is None


async def test_disconnect_with_close_ends_the_connection() -> None:
    sio, _runtime = make_server()
    conn = connect(sio)
    socket = socket_of(sio, conn)
    socket.disconnect(close=True)
    assert conn.closed and conn.close_reason == "forced server close"


async def test_disconnect_handler_runs_after_pending_events() -> None:
    sio, runtime = make_server()
    gate = Gate()
    log: list[str] = []

    @sio.on("work")
    async def work(socket: Socket) -> None:
        await gate.wait()
        log.append("work done")

    sio.on("disconnect", lambda socket, reason: log.append("disconnect"))
    conn = connect(sio)
    conn.receive('2["work"]')
    conn.lost()
    gate.open()
    await runtime.settle()
    assert log == ["work done", "disconnect"]


async def test_shutdown_disconnects_everyone_with_its_reason() -> None:
    sio, runtime = make_server()
    reasons: list[str] = []
    sio.on("disconnect", lambda socket, why: reasons.append(why))
    conns = [connect(sio), connect(sio), FakeConnection(sio, 3).open()]
    sio.shutdown()
    await runtime.settle()
    assert reasons == ["server shutting down"] * 3
    assert all(c.closed and c.close_reason == "server shutting down" for c in conns)
    late = FakeConnection(sio, 4).open()
    assert late.closed


async def test_sending_to_a_closed_socket_is_a_no_op() -> None:
    sio, _ = make_server()
    conn = connect(sio)
    socket = socket_of(sio, conn)
    conn.lost()
    socket.emit("x")
    socket.join("room")
    assert conn.outbox == [] and socket.rooms == frozenset()


async def test_a_client_outrunning_its_handler_is_closed_and_others_carry_on() -> None:
    sio, runtime = make_server(max_pending_events=5)
    gate = Gate()
    handled: list[int] = []
    gone: list[str] = []

    @sio.on("work")
    async def work(socket: Socket, n: int) -> None:
        await gate.wait()
        handled.append(n)

    @sio.on("disconnect")
    def disconnect(socket: Socket, reason: str) -> None:
        gone.append(reason)

    flooder, other = connect(sio), connect(sio)
    flooder.take(), other.take()
    await runtime.settle()
    # One event runs (blocked at the gate), five wait: the limit. The next is one too many.
    flooder.receive(*(f'2["work",{n}]' for n in range(6)))
    assert not flooder.closed
    flooder.receive('2["work",6]')
    assert flooder.closed and flooder.close_reason == "event backlog"
    other.receive('2["work",100]')
    gate.open()
    await runtime.settle()
    # What was accepted is handled, in order, then the disconnect handler; the
    # event over the limit never is. The other client is untouched.
    assert handled == [0, 1, 2, 3, 4, 5, 100]
    # The handler hears Node's word; the finer reason stays on the connection.
    assert gone == ["forced server close"] and not other.closed


# -- timings (what realtime.metrics turns on) ----------------------------------------


async def test_timings_observe_handlers_and_acks_only_once_enabled() -> None:
    sio, _ = make_server()
    sio.on("work", lambda socket: "done")
    conn = connect(sio)
    socket = socket_of(sio, conn)
    conn.receive('21["work"]')
    assert sio.timings is None  # nothing timed, nothing held
    timings = sio.enable_timings()
    late = connect(sio)  # sockets connected from now on time their acks too
    late_socket = socket_of(sio, late)
    late.take()
    late.receive('22["work"]')
    pending = late_socket.call("question", timeout=5)
    (sent,) = [m for m in late.take() if m.startswith("2")]
    late.receive("3" + sent[1:].split("[", 1)[0] + '["yes"]')
    assert await pending == "yes"
    socket.emit("q", callback=lambda *args: None)
    conn.receive("30[]")  # connected before: handlers timed, this ack not
    assert timings.handlers.count == 1
    assert timings.acks.count == 1
    assert timings.acks.sum >= 0 and timings.handlers.sum >= 0
