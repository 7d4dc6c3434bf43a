"""Connecting to namespaces: answers, auth, refusals, timeouts, both revisions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest
from helpers_sio import FakeConnection, Gate, connect, make_server, sid_of

import realtime
from realtime import ConnectionRefused
from realtime.server import Socket

# -- Socket.IO v5 (Engine.IO 4) --------------------------------------------------


async def test_v5_connect_answers_with_the_socket_id_and_passes_auth() -> None:
    sio, _runtime = make_server()
    seen: list[tuple[str, dict[str, Any]]] = []

    @sio.on("connect")
    def on_connect(socket: Socket, auth: dict[str, Any]) -> None:
        seen.append((socket.id, auth))

    conn = connect(sio, auth={"token": "abc"})
    [answer] = conn.take()
    sid = sid_of(answer)
    assert answer == f'0{{"sid":"{sid}"}}'
    assert seen == [(sid, {"token": "abc"})]
    assert sid != conn.id  # v5 socket ids are not the engine's
    socket = sio.get_socket(sid)
    assert socket is not None and socket.connected
    assert socket.handshake.auth == {"token": "abc"}
    assert socket.handshake.headers["user-agent"] == "test"
    assert socket.rooms == frozenset({sid})


async def test_v5_auth_defaults_to_an_empty_dict() -> None:
    sio, _ = make_server()
    auths: list[Any] = []
    sio.on("connect", lambda socket, auth: auths.append(auth))
    connect(sio)
    assert auths == [{}]


async def test_v5_socket_ids_differ_per_connection() -> None:
    sio, _ = make_server()
    ids = {sid_of(connect(sio).take()[0]) for _ in range(20)}
    assert len(ids) == 20


async def test_v5_other_namespace_answer_names_it() -> None:
    sio, _ = make_server()
    sio.of("/admin")
    conn = connect(sio, nsp="/admin")
    [answer] = conn.take()
    assert answer.startswith('0/admin,{"sid":"')


async def test_unknown_namespace_is_refused_and_the_connection_stays() -> None:
    sio, _ = make_server()
    conn = connect(sio, nsp="/nope")
    assert conn.take() == ['4/nope,{"message":"Invalid namespace"}']
    assert not conn.closed
    conn.receive("0")
    assert sid_of(conn.take()[0])


async def test_events_emitted_in_an_async_connect_handler_follow_the_answer() -> None:
    sio, runtime = make_server()
    gate = Gate()

    @sio.on("connect")
    async def on_connect(socket: Socket, auth: dict[str, Any]) -> None:
        socket.emit("first", 1)
        socket.join("lobby")
        sio.emit("room news", to="lobby")  # a broadcast reaching the connecting socket
        await gate.wait()
        socket.emit("second", 2)

    conn = connect(sio)
    assert conn.take() == []  # nothing, not even the answer, while the handler runs
    gate.open()
    await runtime.settle()
    answer, *events = conn.take()
    assert answer.startswith('0{"sid":')
    assert events == ['2["first",1]', '2["room news"]', '2["second",2]']


async def test_sync_connect_handler_output_follows_the_answer() -> None:
    sio, _ = make_server()
    sio.on("connect", lambda socket, auth: socket.emit("hello"))
    conn = connect(sio)
    answer, event = conn.take()
    assert answer.startswith("0{") and event == '2["hello"]'


async def test_refusal_in_the_connect_handler_sends_message_and_data() -> None:
    sio, runtime = make_server()
    disconnects: list[str] = []

    @sio.on("connect")
    async def on_connect(socket: Socket, auth: dict[str, Any]) -> None:
        socket.emit("never sent")
        raise ConnectionRefused("no token", {"retry": False})

    sio.on("disconnect", lambda socket, reason: disconnects.append(reason))
    conn = connect(sio)
    await runtime.settle()
    assert conn.take() == ['4{"message":"no token","data":{"retry":false}}']
    assert not sio.of("/").sockets
    assert disconnects == []  # a refused socket never connected


async def test_connect_handler_returning_false_refuses() -> None:
    sio, _ = make_server()
    sio.on("connect", lambda socket, auth: False)
    conn = connect(sio)
    assert conn.take() == ['4{"message":"Connection refused"}']


async def test_crashing_connect_handler_refuses_without_leaking_details() -> None:
    sio, _ = make_server()

    def on_connect(socket: Socket, auth: dict[str, Any]) -> None:
        raise KeyError("secret")

    sio.on("connect", on_connect)
    conn = connect(sio)
    assert conn.take() == ['4{"message":"Internal server error"}']


async def test_middlewares_run_in_order_and_can_refuse() -> None:
    sio, runtime = make_server()
    admin = sio.of("/admin")
    calls: list[str] = []

    @admin.use
    def first(socket: Socket, auth: dict[str, Any]) -> None:
        calls.append("first")

    @admin.use
    async def second(socket: Socket, auth: dict[str, Any]) -> None:
        calls.append("second")
        if auth.get("role") != "admin":
            raise ConnectionRefused("admins only")
        socket.data["role"] = "admin"

    @admin.on("connect")
    def on_connect(socket: Socket, auth: dict[str, Any]) -> None:
        calls.append("connect")

    refused = connect(sio)
    refused.receive('0/admin,{"role":"guest"}')
    await runtime.settle()
    assert refused.take()[-1] == '4/admin,{"message":"admins only"}'
    assert calls == ["first", "second"]

    calls.clear()
    accepted = connect(sio)
    accepted.receive('0/admin,{"role":"admin"}')
    await runtime.settle()
    answer = accepted.take()[-1]
    assert answer.startswith('0/admin,{"sid":')
    assert calls == ["first", "second", "connect"]
    socket = sio.get_socket(sid_of(answer), "/admin")
    assert socket is not None and socket.data == {"role": "admin"}


async def test_middleware_is_per_namespace() -> None:
    sio, _ = make_server()

    def deny(socket: Socket, auth: dict[str, Any]) -> None:
        raise ConnectionRefused("closed")

    sio.of("/private").use(deny)
    conn = connect(sio)
    assert conn.take()[0].startswith("0{")
    conn.receive("0/private,")
    assert conn.take() == ['4/private,{"message":"closed"}']


async def test_second_connect_to_the_same_namespace_is_ignored() -> None:
    sio, _ = make_server()
    connects: list[str] = []
    sio.on("connect", lambda socket, auth: connects.append(socket.id))
    conn = connect(sio)
    conn.receive("0")
    assert len(conn.take()) == 1
    assert len(connects) == 1


async def test_disconnect_inside_the_connect_handler_connects_then_disconnects() -> None:
    sio, runtime = make_server()
    reasons: list[str] = []

    @sio.on("connect")
    def on_connect(socket: Socket, auth: dict[str, Any]) -> None:
        socket.emit("bye")
        socket.disconnect()

    sio.on("disconnect", lambda socket, reason: reasons.append(reason))
    conn = connect(sio)
    await runtime.settle()
    answer, *rest = conn.take()
    assert answer.startswith("0{")
    assert rest == ['2["bye"]', "1"]
    assert reasons == ["server namespace disconnect"]


# -- dynamic namespaces ----------------------------------------------------------


async def test_regex_namespace_creates_children_sharing_handlers() -> None:
    sio, _runtime = make_server()
    tenants = sio.of(re.compile(r"^/tenant-\w+$"))
    joined: list[str] = []
    tenants.on("connect", lambda socket, auth: joined.append(socket.namespace.name))

    a = connect(sio, nsp="/tenant-a")
    b = connect(sio, nsp="/tenant-b")
    bad = connect(sio, nsp="/tenant-a/x")
    assert joined == ["/tenant-a", "/tenant-b"]
    assert bad.take() == ['4/tenant-a/x,{"message":"Invalid namespace"}']

    # Handlers registered on the parent later still reach existing children.
    tenants.on("ping", lambda socket: "pong")
    a.take()
    a.receive('2/tenant-a,5["ping"]')
    assert a.take() == ['3/tenant-a,5["pong"]']

    # The parent broadcasts to every child; a child only to its own sockets.
    b.take()
    tenants.emit("all")
    assert a.take() == ['2/tenant-a,["all"]'] and b.take() == ['2/tenant-b,["all"]']
    sio.emit("only a", namespace="/tenant-a")
    assert a.take() == ['2/tenant-a,["only a"]'] and b.take() == []
    assert set(tenants.sockets) == {s for s in sio.of("/tenant-a").sockets} | set(
        sio.of("/tenant-b").sockets
    )


async def test_one_connection_joins_at_most_max_namespaces() -> None:
    sio, _ = make_server(max_namespaces=3)
    sio.of(re.compile(r"^/tenant-\w+$"))
    conn = connect(sio, nsp="/tenant-0")
    for i in (1, 2, 3):
        conn.receive(f"0/tenant-{i},")
    answers = conn.take()
    assert [a.split(",")[0] for a in answers] == [
        "0/tenant-0",
        "0/tenant-1",
        "0/tenant-2",
        "4/tenant-3",
    ]
    assert answers[-1] == '4/tenant-3,{"message":"Too many namespaces"}'
    other = connect(sio, nsp="/tenant-3")  # the bound is per connection
    assert other.take()[0].startswith("0/tenant-3,")


def held_namespaces(sio: realtime.Server) -> set[str]:
    """The concrete namespaces the server holds, by name."""
    return {namespace.name for namespace in sio.namespaces()}


async def test_a_child_namespace_goes_with_its_last_socket() -> None:
    sio, runtime = make_server()
    rooms = sio.of(re.compile(r"^/room-\d+$"))
    left: list[str] = []
    rooms.on("disconnect", lambda socket, reason: left.append(socket.namespace.name))
    a = connect(sio, nsp="/room-1")
    b = connect(sio, nsp="/room-1")
    c = connect(sio, nsp="/room-2")
    assert held_namespaces(sio) == {"/", "/room-1", "/room-2"}
    assert set(rooms.children) == {"/room-1", "/room-2"}
    a.receive("1/room-1,")
    await runtime.settle()
    assert held_namespaces(sio) == {"/", "/room-1", "/room-2"}  # b is still in /room-1
    b.lost()
    c.receive("1/room-2,")
    await runtime.settle()
    assert held_namespaces(sio) == {"/"} and rooms.children == {}
    assert left == ["/room-1", "/room-1", "/room-2"]  # their handlers still ran
    # The name is matched again by the next CONNECT, into a fresh child.
    d = connect(sio, nsp="/room-1")
    assert d.take()[-1].startswith('0/room-1,{"sid":')
    assert held_namespaces(sio) == {"/", "/room-1"}
    # A namespace the application named is never removed.
    sio.of("/lobby")
    e = connect(sio, nsp="/lobby")
    e.lost()
    await runtime.settle()
    assert "/lobby" in held_namespaces(sio)


async def test_a_child_refused_by_middleware_does_not_stay() -> None:
    sio, runtime = make_server()
    rooms = sio.of(re.compile(r"^/room-\d+$"))

    def refuse(socket: Socket, auth: dict[str, Any]) -> None:
        raise ConnectionRefused("no")

    rooms.use(refuse)
    for i in range(50):
        conn = connect(sio, nsp=f"/room-{i}")
        await runtime.settle()
        assert conn.take()[-1] == f'4/room-{i},{{"message":"no"}}'
    assert held_namespaces(sio) == {"/"}


async def test_dynamic_namespaces_are_bounded_server_wide() -> None:
    sio, runtime = make_server(max_dynamic_namespaces=3)
    sio.of(re.compile(r"^/room-\d+$"))
    sio.of(lambda name, auth: name.startswith("/user-"))
    held = [connect(sio, nsp=name) for name in ("/room-1", "/user-a", "/room-2")]
    refused = connect(sio, nsp="/room-3")  # a different connection: the bound is server-wide
    assert refused.take() == ['4/room-3,{"message":"Too many namespaces"}']
    assert held_namespaces(sio) == {"/", "/room-1", "/user-a", "/room-2"}
    # An existing child is still joined at the bound; it creates nothing.
    again = connect(sio, nsp="/room-1")
    assert again.take()[-1].startswith('0/room-1,{"sid":')
    # Revision 4 clients hear the refusal their way (a plain string).
    old = FakeConnection(sio, 3).open()
    old.receive("0/user-b,")
    assert old.take()[-1] == '4/user-b,"Too many namespaces"'
    # Room again once a child goes.
    held[1].lost()
    await runtime.settle()
    fresh = connect(sio, nsp="/room-3")
    assert fresh.take()[-1].startswith('0/room-3,{"sid":')
    assert held_namespaces(sio) == {"/", "/room-1", "/room-2", "/room-3"}
    with pytest.raises(realtime.InvalidArgument):
        realtime.Server(max_dynamic_namespaces=0)


async def test_a_child_with_sessions_waiting_stays_until_they_expire() -> None:
    sio, runtime = make_server(
        max_dynamic_namespaces=1,
        connection_state_recovery=realtime.ConnectionStateRecovery(max_disconnection_duration=10),
    )
    sio.of(re.compile(r"^/room-\d+$"))
    conn = connect(sio, nsp="/room-1")
    conn.lost("transport close")  # a reason the client recovers from
    await runtime.settle()
    assert held_namespaces(sio) == {"/", "/room-1"}  # its session waits there
    refused = connect(sio, nsp="/room-2")
    assert refused.take() == ['4/room-2,{"message":"Too many namespaces"}']
    runtime.advance(11, sio.engine.deadlines)  # the session expires
    later = connect(sio, nsp="/room-2")
    assert later.take()[-1].startswith('0/room-2,{"sid":')
    assert held_namespaces(sio) == {"/", "/room-2"}


async def test_callable_namespace_sees_name_and_auth() -> None:
    sio, _ = make_server()
    asked: list[tuple[str, Mapping[str, Any]]] = []

    def allowed(name: str, auth: Mapping[str, Any]) -> bool:
        asked.append((name, auth))
        return auth.get("key") == "k"

    sio.of(allowed)
    ok = connect(sio)
    ok.receive('0/dyn,{"key":"k"}')
    assert ok.take()[-1].startswith('0/dyn,{"sid":')
    no = connect(sio)
    no.receive('0/other,{"key":"x"}')
    assert no.take()[-1] == '4/other,{"message":"Invalid namespace"}'
    assert asked == [("/dyn", {"key": "k"}), ("/other", {"key": "x"})]


async def test_crashing_namespace_predicate_refuses() -> None:
    sio, _ = make_server()

    def broken(name: str, auth: Mapping[str, Any]) -> bool:
        raise RuntimeError("bug")

    sio.of(broken)
    conn = connect(sio, nsp="/x")
    assert conn.take() == ['4/x,{"message":"Invalid namespace"}']


# -- connect timeout -------------------------------------------------------------


async def test_connection_without_connect_is_closed_after_connect_timeout() -> None:
    sio, runtime = make_server(connect_timeout=5)
    idle = FakeConnection(sio, 4).open()
    busy = connect(sio)
    runtime.advance(4.9, sio.engine.deadlines)
    assert not idle.closed
    runtime.advance(0.2, sio.engine.deadlines)
    assert idle.closed and idle.close_reason == "connect timeout"
    assert not busy.closed


async def test_refused_connection_is_closed_at_connect_timeout() -> None:
    sio, runtime = make_server(connect_timeout=5)
    sio.on("connect", lambda socket, auth: False)
    conn = connect(sio)
    runtime.advance(6, sio.engine.deadlines)
    assert conn.closed


async def test_connect_timeout_timer_is_dropped_when_the_connection_closes() -> None:
    sio, runtime = make_server(connect_timeout=5)
    conn = FakeConnection(sio, 4).open()
    conn.lost()
    assert runtime.advance(10, sio.engine.deadlines) == 0


# -- Socket.IO v4 (Engine.IO 3) --------------------------------------------------


async def test_v4_connects_the_default_namespace_unasked() -> None:
    sio, _ = make_server()
    sids: list[str] = []
    sio.on("connect", lambda socket, auth: sids.append(socket.id))
    conn = FakeConnection(sio, 3).open()
    assert conn.take() == ["0"]
    assert sids == [conn.id]  # v4 socket id of "/" is the engine sid


async def test_v4_other_namespace_query_becomes_auth_and_id_is_derived() -> None:
    sio, _ = make_server()
    seen: list[tuple[str, dict[str, Any]]] = []
    sio.of("/admin").on("connect", lambda socket, auth: seen.append((socket.id, auth)))
    conn = FakeConnection(sio, 3).open()
    conn.receive("0/admin?token=1234&uid=abcd,")
    assert conn.take() == ["0", "0/admin,"]
    assert seen == [(f"/admin#{conn.id}", {"token": "1234", "uid": "abcd"})]


async def test_v4_refusal_is_a_plain_string() -> None:
    sio, _ = make_server()

    def deny(socket: Socket, auth: dict[str, Any]) -> None:
        raise ConnectionRefused("Not authorized", {"dropped": True})

    sio.of("/admin").use(deny)
    conn = FakeConnection(sio, 3).open()
    conn.receive("0/admin,")
    conn.receive("0/missing,")
    assert conn.take() == ["0", '4/admin,"Not authorized"', '4/missing,"Invalid namespace"']


async def test_v4_connection_is_not_closed_by_connect_timeout() -> None:
    sio, runtime = make_server(connect_timeout=5)
    conn = FakeConnection(sio, 3).open()
    runtime.advance(60, sio.engine.deadlines)
    assert not conn.closed


async def test_public_names() -> None:
    assert realtime.Server is type(make_server()[0])
    assert realtime.Socket is Socket
    assert realtime.Namespace is type(make_server()[0].of("/"))
