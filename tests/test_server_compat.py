"""python-socketio's way in: what its users write is accepted where that is
unambiguous (an awaitable emit, ``room=``, ``skip_sid=``, sessions), and a
handler of its shape is refused when registered, with the difference named."""

from __future__ import annotations

from typing import Any

import pytest
from helpers_sio import connect, make_server, sid_of, socket_of

from realtime import HandlerSignatureError, RealtimeError, UnknownSocket
from realtime.server import Socket

# -- an emit that may be awaited -----------------------------------------------------


async def test_awaiting_emit_sends_and_keeps_the_handlers_ack() -> None:
    sio, runtime = make_server()

    @sio.event
    async def question(socket: Socket, text: str) -> str:
        await sio.emit("echo", text, room=socket.id)
        await sio.send("plain", to=socket.id)
        return "answered"

    conn = connect(sio)
    conn.take()
    conn.receive('21["question","hi"]')
    await runtime.settle()
    assert conn.take() == ['2["echo","hi"]', '2["message","plain"]', '31["answered"]']


async def test_room_and_skip_sid_are_to_and_skip() -> None:
    sio, _ = make_server()
    first, second = connect(sio), connect(sio)
    a, b = socket_of(sio, first), socket_of(sio, second)
    a.join("lobby")
    b.join("lobby")
    sio.emit("hello", room="lobby", skip_sid=a.id)
    assert first.take() == [] and second.take() == ['2["hello"]']
    sio.emit("to_a", room=a.id)
    assert first.take() == ['2["to_a"]'] and second.take() == []
    with pytest.raises(TypeError, match="same argument"):
        sio.emit("x", to="lobby", room="lobby")
    with pytest.raises(TypeError, match="same argument"):
        sio.emit("x", skip=a.id, skip_sid=a.id)


async def test_room_operations_may_be_awaited() -> None:
    sio, _ = make_server()
    conn = connect(sio)
    sid = socket_of(sio, conn).id
    await sio.enter_room(sid, "r")
    assert "r" in sio.rooms(sid)
    await sio.emit("in_room", room="r")
    await sio.leave_room(sid, "r")
    assert "r" not in sio.rooms(sid)
    await sio.enter_room(sid, "s")
    await sio.close_room("s")
    assert sio.rooms(sid) == {sid}
    await sio.disconnect(sid)
    assert conn.take() == ['2["in_room"]', "1"]
    assert sio.get_socket(sid) is None


async def test_a_broadcast_callback_of_python_socketio_shape_is_refused() -> None:
    sio, _ = make_server()
    conn = connect(sio)
    sid = socket_of(sio, conn).id

    def answer(reply: Any) -> None:  # python-socketio calls it with the ack's arguments
        raise AssertionError("never called")

    with pytest.raises(HandlerSignatureError, match=r"callback\(err, replies\)"):
        sio.emit("question", to=sid, callback=answer)
    assert conn.take() == []  # refused before anything was sent


# -- sessions ----------------------------------------------------------------------


async def test_sessions_are_socket_data() -> None:
    sio, runtime = make_server()
    seen: list[Any] = []

    @sio.event
    async def login(socket: Socket, user: str) -> None:
        await sio.save_session(socket.id, {"user": user})

    @sio.event
    async def whoami(socket: Socket) -> None:
        session = await sio.get_session(socket.id)
        seen.append(session["user"])
        async with sio.session(socket.id) as session:
            session["visits"] = session.get("visits", 0) + 1

    conn = connect(sio)
    socket = socket_of(sio, conn)
    conn.receive('2["login","ann"]', '2["whoami"]', '2["whoami"]')
    await runtime.settle()
    assert seen == ["ann", "ann"]
    assert socket.data == {"user": "ann", "visits": 2}


async def test_a_session_block_that_raises_saves_nothing() -> None:
    sio, _ = make_server()
    socket = socket_of(sio, connect(sio))
    await sio.save_session(socket.id, {"n": 1})
    with pytest.raises(RuntimeError):
        async with sio.session(socket.id) as session:
            session = {"n": 2}  # a new dict, never saved
            raise RuntimeError(session)
    assert await sio.get_session(socket.id) == {"n": 1}


async def test_the_session_of_an_unknown_socket_is_a_key_error() -> None:
    sio, _ = make_server()
    for attempt in (
        sio.get_session("nobody"),
        sio.save_session("nobody", {}),
        sio.session("nobody").__aenter__(),
    ):
        with pytest.raises(UnknownSocket, match="nobody") as caught:
            await attempt
        assert isinstance(caught.value, KeyError) and isinstance(caught.value, RealtimeError)


async def test_sessions_are_per_namespace() -> None:
    sio, _ = make_server()
    sio.of("/admin")
    conn = connect(sio)
    sid = sid_of(conn.take()[0])
    conn.receive("0/admin,")
    admin_sid = sid_of(conn.take()[0])
    await sio.save_session(sid, {"where": "/"})
    await sio.save_session(admin_sid, {"where": "/admin"}, namespace="/admin")
    assert await sio.get_session(sid) == {"where": "/"}
    assert await sio.get_session(admin_sid, namespace="/admin") == {"where": "/admin"}
    with pytest.raises(UnknownSocket):
        await sio.get_session(sid, namespace="/admin")


# -- handlers of python-socketio's shape -------------------------------------------


def _connect_environ_auth(sid: str, environ: dict[str, Any], auth: Any) -> None: ...
def _connect_environ(sid: str, environ: dict[str, Any]) -> None: ...
def _connect_socket_environ(socket: Any, environ: Any) -> None: ...
def _message(sid: str, data: Any) -> None: ...
def _catch_all(event: str, sid: str, data: Any) -> None: ...
def _disconnect_sid(sid: str) -> None: ...
def _disconnect_one_argument(socket: Any) -> None: ...
def _connect_three_required(socket: Any, auth: Any, extra: Any) -> None: ...


@pytest.mark.parametrize(
    ("event", "handler", "message"),
    [
        ("connect", _connect_environ_auth, r"connect\(sid, environ, auth\).*socket\.handshake"),
        ("connect", _connect_environ, r"connect\(sid, environ, auth\)"),
        ("connect", _connect_socket_environ, r"connect\(sid, environ, auth\)"),
        ("message", _message, r"takes a sid .*socket\.id"),
        ("*", _catch_all, r"takes a sid"),
        ("disconnect", _disconnect_sid, r"takes a sid"),
        ("disconnect", _disconnect_one_argument, r"disconnect\(socket, reason\)"),
        ("connect", _connect_three_required, r"connect\(socket, auth\)"),
    ],
)
async def test_a_handler_realtime_cannot_call_rightly_is_refused_when_registered(
    event: str, handler: Any, message: str
) -> None:
    sio, _ = make_server()
    with pytest.raises(HandlerSignatureError, match=message) as caught:
        sio.on(event, handler)
    assert isinstance(caught.value, TypeError)
    assert event not in sio.of("/").handlers


async def test_event_decorator_checks_too() -> None:
    sio, _ = make_server()
    with pytest.raises(HandlerSignatureError, match="takes a sid"):

        @sio.event
        async def chat(sid: str, data: Any) -> None: ...


@pytest.mark.parametrize(
    ("event", "handler"),
    [
        ("connect", lambda socket, auth: None),
        ("connect", lambda socket, auth=None: None),
        ("connect", lambda *args: None),
        ("disconnect", lambda socket, reason: None),
        ("message", lambda socket: None),
        ("message", lambda socket, data, *rest: None),
        ("*", lambda socket, event, *args: None),
        ("error", lambda socket, exc: None),
    ],
)
async def test_handlers_of_our_shape_register(event: str, handler: Any) -> None:
    sio, _ = make_server()
    assert sio.on(event, handler) is handler
