"""Broadcast through rooms: who receives, and that it is encoded only once."""

from __future__ import annotations

from typing import Any

from helpers_sio import FakeConnection, connect, make_server, sid_of

from realtime.protocol.engineio import Message
from realtime.server import Server, Socket


def _join(sio: Server, n: int, protocol: int = 4) -> list[tuple[FakeConnection, Socket]]:
    out = []
    for _ in range(n):
        conn = connect(sio, protocol)
        if protocol == 4:
            sid = sid_of(conn.take()[0])
        else:
            conn.take()
            sid = conn.id
        socket = sio.get_socket(sid)
        assert socket is not None
        out.append((conn, socket))
    return out


async def test_broadcast_hands_the_same_message_objects_to_every_recipient() -> None:
    sio, _ = make_server()
    peers = _join(sio, 3) + _join(sio, 2, protocol=3)  # both revisions share the encoding
    sio.emit("news", {"n": 1}, b"\x01\x02")
    outboxes = [[m for m in conn.outbox if isinstance(m, Message)] for conn, _ in peers]
    first = outboxes[0]
    assert len(first) == 2 and all(len(conn.outbox) == 2 for conn, _ in peers)
    assert first[0].data == '51-["news",{"n":1},{"_placeholder":true,"num":0}]'
    assert first[1].data == b"\x01\x02"
    for outbox in outboxes[1:]:
        assert len(outbox) == 2
        assert outbox[0] is first[0] and outbox[1] is first[1]


async def test_broadcast_to_nobody_does_not_encode() -> None:
    sio, _ = make_server()
    # An unserializable payload proves encoding was skipped: it would raise.
    sio.emit("x", {1, 2}, to="empty room")


async def test_to_room_several_rooms_and_skip() -> None:
    sio, _ = make_server()
    (a, sa), (b, sb), (c, sc), (d, _sd) = _join(sio, 4)
    sa.join("red")
    sb.join(["red", "blue"])
    sc.join("blue")

    sio.emit("r", to="red")
    assert [x.take() for x in (a, b, c, d)] == [['2["r"]'], ['2["r"]'], [], []]

    sio.emit("rb", to=["red", "blue"])  # union, each socket once
    assert [x.take() for x in (a, b, c, d)] == [['2["rb"]'], ['2["rb"]'], ['2["rb"]'], []]

    sio.emit("all but", skip=sb)
    assert [x.take() for x in (a, b, c, d)] == [
        ['2["all but"]'],
        [],
        ['2["all but"]'],
        ['2["all but"]'],
    ]

    sio.emit("skip ids", to="blue", skip=[sb.id, "nobody"])
    assert [x.take() for x in (a, b, c, d)] == [[], [], ['2["skip ids"]'], []]

    sio.emit("skip room", skip="red")
    assert [x.take() for x in (a, b, c, d)] == [[], [], ['2["skip room"]'], ['2["skip room"]']]


async def test_socket_to_room_and_broadcast_exclude_the_sender() -> None:
    sio, _ = make_server()
    (a, sa), (b, sb), (c, _sc) = _join(sio, 3)
    sa.join("room")
    sb.join("room")
    sa.to("room").emit("from a")
    assert [x.take() for x in (a, b, c)] == [[], ['2["from a"]'], []]
    sa.broadcast.emit("everyone else")
    assert [x.take() for x in (a, b, c)] == [[], ['2["everyone else"]'], ['2["everyone else"]']]


async def test_leave_and_rooms() -> None:
    sio, _ = make_server()
    [(a, sa)] = _join(sio, 1)
    sio.enter_room(sa.id, "x")
    assert sio.rooms(sa.id) == frozenset({sa.id, "x"})
    sio.leave_room(sa.id, "x")
    sio.emit("gone", to="x")
    assert a.take() == []
    assert sio.rooms("unknown sid") == frozenset()


async def test_socket_id_is_a_room() -> None:
    sio, _ = make_server()
    (a, sa), (b, _) = _join(sio, 2)
    sio.emit("private", to=sa.id)
    assert a.take() == ['2["private"]'] and b.take() == []


async def test_namespaces_are_isolated() -> None:
    sio, _ = make_server()
    chat = sio.of("/chat")
    root = connect(sio)
    both = connect(sio)
    both.receive("0/chat,")
    root.take()
    both.take()
    chat.emit("hi")
    assert root.take() == [] and both.take() == ['2/chat,["hi"]']
    sio.emit("root")
    assert root.take() == ['2["root"]'] and both.take() == ['2["root"]']


async def test_emitting_to_an_unknown_namespace_reaches_nobody_and_creates_nothing() -> None:
    sio, _ = make_server()
    sio.emit("x", namespace="/ghost")
    conn = connect(sio, nsp="/ghost")
    assert conn.take() == ['4/ghost,{"message":"Invalid namespace"}']


async def test_namespace_operators() -> None:
    sio, _ = make_server()
    (a, sa), (b, sb) = _join(sio, 2)
    root = sio.of("/")
    sa.join("team")
    root.to("team").emit("t")
    root.except_(sa).emit("e")
    root.in_("team").send("m")
    assert a.take() == ['2["t"]', '2["message","m"]'] and b.take() == ['2["e"]']
    assert {s.id for s in root.to("team").sockets()} == {sa.id}
    root.to("team").disconnect_sockets()
    assert a.take() == ["1"] and sio.get_socket(sa.id) is None
    assert set(root.sockets) == {sb.id}


async def test_held_broadcast_reaches_a_connecting_socket_after_its_answer() -> None:
    sio, _runtime = make_server()
    peers: list[Any] = []

    @sio.on("connect")
    def on_connect(socket: Socket, auth: dict[str, Any]) -> None:
        socket.join("all")
        sio.emit("joined", socket.id, to="all")
        peers.append(socket)

    first = connect(sio)
    second = connect(sio)
    answer, own, other = first.take()
    assert answer.startswith("0{") and own == f'2["joined","{peers[0].id}"]'
    assert other == f'2["joined","{peers[1].id}"]'
    answer, own = second.take()
    assert answer.startswith("0{") and own == f'2["joined","{peers[1].id}"]'
