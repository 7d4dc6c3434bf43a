"""Catch-all listeners both ways (on_any, on_any_outgoing), registration by
function name (@event) and per-packet middleware (socket.use)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers_sio import FakeConnection, Gate, connect, make_server, sid_of, socket_of

from realtime import EventRefused
from realtime.protocol.socketio import MAX_DEPTH_CEILING
from realtime.server import Server, Socket

# -- incoming ----------------------------------------------------------------------


async def test_on_any_sees_every_event_before_its_handler_and_acks_still_work() -> None:
    sio, _ = make_server()
    log: list[Any] = []

    @sio.on_any
    def anything(socket: Socket, event: str, *args: Any) -> str:
        log.append(("any", event, args))
        return "ignored"  # only a handler's return value acks

    @sio.on("chat")
    def chat(socket: Socket, text: str) -> str:
        log.append(("chat", text))
        return text.upper()

    conn = connect(sio)
    conn.take()
    conn.receive('21["chat","hi"]', '2["nobody",1,{"a":2}]', '22["nobody"]')
    assert log == [
        ("any", "chat", ("hi",)),
        ("chat", "hi"),
        ("any", "nobody", (1, {"a": 2})),
        ("any", "nobody", ()),
    ]
    # The handled event is answered; the unhandled one with an id is not.
    assert conn.take() == ['31["HI"]']


async def test_on_any_with_the_catch_all_handler() -> None:
    sio, _ = make_server()
    log: list[Any] = []
    sio.on_any(lambda socket, event, *args: log.append(("any", event, args)))
    sio.on("*", lambda socket, event, *args: (log.append(("*", event, args)), "ok")[1])
    conn = connect(sio)
    conn.take()
    conn.receive('27["what",1]')
    assert log == [("any", "what", (1,)), ("*", "what", (1,))]
    assert conn.take() == ['37["ok"]']


async def test_on_any_is_per_namespace_and_reaches_dynamic_children() -> None:
    sio, _ = make_server()
    log: list[Any] = []
    sio.on_any(lambda socket, event, *args: log.append(("/", event)))

    @sio.on_any(namespace="/admin")
    def admin_any(socket: Socket, event: str, *args: Any) -> None:
        log.append(("/admin", event))

    import re

    rooms = sio.of(re.compile(r"^/room-\d+$"))
    rooms.on_any(lambda socket, event, *args: log.append((socket.namespace.name, event)))
    plain = connect(sio)
    admin = connect(sio, nsp="/admin")
    child = connect(sio, nsp="/room-7")
    plain.receive('2["a"]')
    admin.receive('2/admin,["b"]')
    child.receive('2/room-7,["c"]')
    assert log == [("/", "a"), ("/admin", "b"), ("/room-7", "c")]


async def test_socket_on_any_is_that_sockets_only() -> None:
    sio, _ = make_server()
    log: list[Any] = []

    @sio.on("connect")
    def on_connect(socket: Socket, auth: Any) -> None:
        if auth.get("watch"):
            socket.on_any(lambda s, event, *args: log.append((s.id, event, args)))

    watched = connect(sio, auth={"watch": True})
    sid = sid_of(watched.take()[0])
    other = connect(sio, auth={})
    other.take()
    watched.receive('2["x",1]')
    other.receive('2["y",2]')
    assert log == [(sid, "x", (1,))]


async def test_an_async_listener_runs_in_order_with_the_handler() -> None:
    sio, runtime = make_server()
    log: list[Any] = []
    gate = Gate()

    @sio.on_any
    async def slow(socket: Socket, event: str, *args: Any) -> None:
        await gate.wait()
        log.append(("any", event))

    sio.on("e", lambda socket, n: log.append(("e", n)))
    conn = connect(sio)
    conn.receive('2["e",1]', '2["e",2]')
    await runtime.settle()
    assert log == []
    gate.open()
    await runtime.settle()
    assert log == [("any", "e"), ("e", 1), ("any", "e"), ("e", 2)]


async def test_a_failing_listener_is_logged_and_the_handler_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sio, _ = make_server()
    seen: list[Any] = []

    @sio.on_any
    def broken(socket: Socket, event: str, *args: Any) -> None:
        raise RuntimeError("listener bug")

    sio.on("e", lambda socket: seen.append("e"))
    conn = connect(sio)
    conn.receive('2["e"]')
    assert seen == ["e"]
    assert "any-event listener" in caplog.text


# -- outgoing ----------------------------------------------------------------------


async def test_no_outgoing_listener_leaves_the_broadcast_path_as_it_was() -> None:
    sio, _ = make_server()
    namespace = sio.of("/")
    assert namespace.adapter.deliver == namespace._deliver
    assert not namespace.watching


async def test_on_any_outgoing_sees_direct_broadcast_ack_and_volatile_emits() -> None:
    sio, _ = make_server()
    log: list[Any] = []
    sio.on_any_outgoing(lambda socket, event, *args: log.append((socket.id, event, args)))
    conn = connect(sio)
    socket = socket_of(sio, conn)
    socket.join("room")
    namespace = sio.of("/")
    assert namespace.adapter.deliver == namespace._deliver_watched

    socket.emit("direct", 1)
    sio.emit("to_room", {"a": 1}, b"\x00\x01", to="room")
    sio.emit("everyone")
    sio.call("question", 2, to="room")
    sio.volatile.emit("fast", 3)
    socket.volatile.emit("fast_direct")
    socket.call("ask")
    assert log == [
        (socket.id, "direct", (1,)),
        (socket.id, "to_room", ({"a": 1}, b"\x00\x01")),
        (socket.id, "everyone", ()),
        (socket.id, "question", (2,)),
        (socket.id, "fast", (3,)),
        (socket.id, "fast_direct", ()),
        (socket.id, "ask", ()),
    ]
    sent = conn.take()
    assert sent[0] == '2["direct",1]' and len(sent) == 8  # the binary event is two messages


async def test_an_emit_too_deep_to_decode_back_still_goes_out() -> None:
    # The outgoing listeners read a broadcast back through the decoder; past
    # its ceiling the packet is still sent, only not shown to them.
    sio, _ = make_server()
    log: list[Any] = []
    sio.on_any_outgoing(lambda socket, event, *args: log.append(event))
    conn = connect(sio)
    conn.take()  # the CONNECT answer
    deep: Any = []
    for _ in range(MAX_DEPTH_CEILING + 10):
        deep = [deep]
    sio.emit("deep", deep)
    sio.emit("shallow", [1])
    assert log == ["shallow"]
    assert [text[:8] for text in conn.take()] == ['2["deep"', '2["shall']


async def test_a_broadcast_is_decoded_once_for_every_outgoing_listener() -> None:
    sio, _ = make_server()
    seen: list[Any] = []
    sio.on_any_outgoing(lambda socket, event, *args: seen.append(args[0]))
    conns = [connect(sio) for _ in range(3)]
    sio.emit("ev", {"n": 1})
    assert seen == [{"n": 1}] * 3
    # The same decoded object for every recipient: one decoding per broadcast.
    assert seen[0] is seen[1] is seen[2]
    assert all(c.take()[-1] == '2["ev",{"n":1}]' for c in conns)


async def test_socket_on_any_outgoing_watches_until_the_socket_goes() -> None:
    sio, _ = make_server()
    log: list[Any] = []
    namespace = sio.of("/")

    @sio.on("connect")
    def on_connect(socket: Socket, auth: Any) -> None:
        if auth.get("watch"):
            socket.on_any_outgoing(lambda s, event, *args: log.append((s.id, event)))

    watched = connect(sio, auth={"watch": True})
    sid = sid_of(watched.take()[0])
    other = connect(sio, auth={})
    assert namespace.watching
    sio.emit("hello")
    assert log == [(sid, "hello")]
    watched.receive("1")  # the client leaves the namespace
    assert not namespace.watching
    assert namespace.adapter.deliver == namespace._deliver
    sio.emit("again")
    assert log == [(sid, "hello")]
    assert other.take()[-1] == '2["again"]'


async def test_outgoing_listener_of_a_dynamic_parent_sees_its_children() -> None:
    import re

    sio, _ = make_server()
    log: list[Any] = []
    parent = sio.of(re.compile(r"^/game-\d+$"))
    early = connect(sio, nsp="/game-1")
    parent.on_any_outgoing(lambda socket, event, *args: log.append((socket.namespace.name, event)))
    late = connect(sio, nsp="/game-2")
    parent.emit("tick")
    assert sorted(log) == [("/game-1", "tick"), ("/game-2", "tick")]
    assert early.take()[-1] == '2/game-1,["tick"]'
    assert late.take()[-1] == '2/game-2,["tick"]'


# -- @event --------------------------------------------------------------------------


async def test_event_registers_by_function_name() -> None:
    sio, _ = make_server()
    log: list[Any] = []

    @sio.event
    def chat_message(socket: Socket, text: str) -> str:
        log.append(text)
        return "ok"

    @sio.event(namespace="/admin")
    def kick(socket: Socket, who: str) -> None:
        log.append(("kick", who))

    assert sio.of("/").handlers["chat_message"] is chat_message
    conn = connect(sio)
    conn.take()
    conn.receive('21["chat_message","hi"]')
    admin = connect(sio, nsp="/admin")
    admin.receive('2/admin,["kick","bob"]')
    assert log == ["hi", ("kick", "bob")]
    assert conn.take() == ['31["ok"]']


async def test_event_registers_lifecycle_handlers_by_name() -> None:
    sio, _ = make_server()
    log: list[Any] = []

    @sio.event
    def connect(socket: Socket, auth: Any) -> None:
        log.append(("connect", auth))

    @sio.event
    def disconnect(socket: Socket, reason: str) -> None:
        log.append(("disconnect", reason))

    conn = FakeConnection(sio).open()
    conn.receive('0{"token":1}', "1")
    assert log == [("connect", {"token": 1}), ("disconnect", "client namespace disconnect")]


async def test_event_needs_a_named_function() -> None:
    sio, _ = make_server()
    with pytest.raises(TypeError, match="has none"):
        sio.event(lambda socket: None)


# -- socket.use ----------------------------------------------------------------------


def _guarded(sio: Server, middleware: Any) -> FakeConnection:
    @sio.on("connect")
    def on_connect(socket: Socket, auth: Any) -> None:
        socket.use(middleware)

    conn = connect(sio)
    conn.take()
    return conn


async def test_a_middleware_sees_each_event_and_may_change_its_arguments() -> None:
    sio, _ = make_server()
    log: list[Any] = []

    def middleware(socket: Socket, event: str, args: list[Any]) -> None:
        log.append(("use", event, list(args)))
        args.append("stamped")

    sio.on("chat", lambda socket, *args: (log.append(("chat", args)), "ok")[1])
    conn = _guarded(sio, middleware)
    conn.receive('21["chat","hi"]', '2["unhandled"]')
    assert log == [("use", "chat", ["hi"]), ("chat", ("hi", "stamped")), ("use", "unhandled", [])]
    assert conn.take() == ['31["ok"]']


async def test_a_refused_event_reaches_the_error_handler_and_is_not_answered() -> None:
    sio, _ = make_server()
    log: list[Any] = []

    def middleware(socket: Socket, event: str, args: list[Any]) -> None:
        if event == "secret":
            raise EventRefused("unauthorized event", {"event": event})

    sio.on("secret", lambda socket: log.append("secret ran"))
    sio.on("open", lambda socket: "fine")

    @sio.on("error")
    def on_error(socket: Socket, exc: Exception) -> None:
        assert isinstance(exc, EventRefused)
        log.append(("error", exc.message, exc.data))
        socket.emit("refused", exc.message)

    sio.on_any(lambda socket, event, *args: log.append(("any", event)))
    conn = _guarded(sio, middleware)
    conn.receive('21["secret"]', '22["open"]')
    # Node's order: any-listeners see the packet before the middlewares refuse it.
    assert log == [
        ("any", "secret"),
        ("error", "unauthorized event", {"event": "secret"}),
        ("any", "open"),
    ]
    assert conn.take() == ['2["refused","unauthorized event"]', '32["fine"]']


async def test_middlewares_run_in_order_and_the_first_refusal_stops_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sio, _ = make_server()
    log: list[Any] = []

    @sio.on("connect")
    def on_connect(socket: Socket, auth: Any) -> None:
        socket.use(lambda s, event, args: log.append("first"))
        socket.use(lambda s, event, args: 1 / 0)  # a bug refuses the event too
        socket.use(lambda s, event, args: log.append("never"))

    sio.on("e", lambda socket: log.append("handler"))
    conn = connect(sio)
    conn.receive('2["e"]')
    assert log == ["first"]
    assert "ZeroDivisionError" in caplog.text  # logged, as no error handler is set


async def test_an_async_middleware_holds_the_event_until_it_decides() -> None:
    sio, runtime = make_server()
    log: list[Any] = []
    gate = Gate()

    async def middleware(socket: Socket, event: str, args: list[Any]) -> None:
        await gate.wait()
        if args == [2]:
            raise EventRefused()

    sio.on("e", lambda socket, n: (log.append(n), n)[1])
    conn = _guarded(sio, middleware)
    conn.receive('21["e",1]', '22["e",2]', '23["e",3]')
    await runtime.settle()
    assert log == [] and conn.take() == []
    gate.open()
    await runtime.settle()
    assert log == [1, 3]
    assert conn.take() == ["31[1]", "33[3]"]


async def test_middlewares_are_per_socket() -> None:
    sio, _ = make_server()
    log: list[Any] = []

    @sio.on("connect")
    def on_connect(socket: Socket, auth: Any) -> None:
        if auth.get("guarded"):
            socket.use(lambda s, event, args: (_ for _ in ()).throw(EventRefused()))

    sio.on("e", lambda socket: log.append(socket.auth.get("guarded", False)))
    guarded = connect(sio, auth={"guarded": True})
    free = connect(sio, auth={})
    guarded.receive('2["e"]')
    free.receive('2["e"]')
    assert log == [False]


async def test_the_catch_all_handler_gets_what_middlewares_made_of_the_arguments() -> None:
    sio, _ = make_server()

    def middleware(socket: Socket, event: str, args: list[Any]) -> None:
        args[:] = [a * 10 for a in args]

    sio.on("*", lambda socket, event, *args: (event, *args))
    conn = _guarded(sio, middleware)
    conn.receive('21["any",1,2]')
    assert conn.take() == ['31["any",10,20]']


# -- every application function runs through the server's HandlerRunner -------


@pytest.mark.parametrize("kind", ["def", "async def"])
async def test_every_kind_of_handler_that_raises_is_counted_once_and_logged(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Connect, event, catch-all, any-event listener, packet middleware, error
    handler, disconnecting and disconnect: each failure goes through
    ``HandlerRunner.failed`` (one ``handler_errors``, one log line), and the
    runner decides inline or task whichever way the function is written."""
    sio, runtime = make_server()
    calls: list[str] = []

    def failing(name: str) -> Any:
        def fn(*args: Any) -> None:
            calls.append(name)
            raise RuntimeError(name)

        async def afn(*args: Any) -> None:
            calls.append(name)
            raise RuntimeError(name)

        return fn if kind == "def" else afn

    admin = sio.of("/admin")
    admin.on("connect", failing("connect"))
    sio.on("chat", failing("event"))
    sio.on("*", failing("catch-all"))
    sio.on("error", failing("error"))
    sio.on("disconnecting", failing("disconnecting"))
    sio.on("disconnect", failing("disconnect"))
    counters = sio.engine.counters
    assert sio.handler_runner.counters is counters

    conn = connect(sio, protocol=5)
    conn.receive("0")
    refused = connect(sio, protocol=5, nsp="/admin")
    await runtime.settle()
    assert refused.take()[-1] == '4/admin,{"message":"Internal server error"}'
    socket = socket_of(sio, conn)
    conn.receive('2["chat",1]', '2["other",2]')
    await runtime.settle()
    assert calls == ["connect", "event", "catch-all"]
    assert counters.handler_errors == 3

    socket.on_any(failing("any"))
    socket.use(failing("middleware"))  # refuses every event: the error handler hears it
    conn.receive('2["chat",3]')
    await runtime.settle()
    assert calls[3:] == ["any", "middleware", "error"]
    assert counters.handler_errors == 6

    conn.close("transport close")
    await runtime.settle()
    assert calls[6:] == ["disconnecting", "disconnect"]
    assert counters.handler_errors == 8
    assert runtime.failures == 0  # nothing escaped the runner to the socket's task runner
    logged = [r for r in caplog.records if r.levelname == "ERROR" and r.exc_info]
    assert len(logged) == 8
