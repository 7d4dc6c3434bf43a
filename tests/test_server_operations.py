"""Server-wide operations through the adapter: fetch, join, leave, disconnect,
close_room, broadcast acks, server-side emit, local and volatile, on one
server and on a cluster of servers linked in process."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from helpers_sio import FakeConnection, TestRuntime, connect, make_server, sid_of
from linked_adapter import Cluster

from realtime import AckTimeout, BroadcastAckTimeout, Disconnected
from realtime.bus.requests import FetchSockets, SocketsJoin
from realtime.server import RemoteSocket, Server, Socket


def _join(sio: Server, n: int, nsp: str = "/") -> list[tuple[FakeConnection, Socket]]:
    out = []
    for _ in range(n):
        conn = connect(sio, nsp=nsp, query={"EIO": "4", "user": str(len(out))})
        sid = sid_of(conn.take()[0])
        socket = sio.get_socket(sid, nsp)
        assert socket is not None
        out.append((conn, socket))
    return out


# -- one server -----------------------------------------------------------------------


async def test_fetch_sockets_describes_each_socket_and_acts_on_it() -> None:
    sio, _ = make_server()
    (a, sa), (b, sb), (c, _sc) = _join(sio, 3)
    sa.join("red")
    sb.join(["red", "blue"])
    sa.data["name"] = "ann"
    found = await sio.in_("red").fetch_sockets()
    assert [s.id for s in found] == [sa.id, sb.id]
    first = found[0]
    assert isinstance(first, RemoteSocket)
    assert first.rooms == {sa.id, "red"}
    assert first.data == {"name": "ann"} and first.data is sa.data  # local: the live object
    assert first.handshake.query["user"] == "0" and first.handshake.address == "127.0.0.1"
    first.emit("hi", 1)
    assert a.take() == ['2["hi",1]'] and b.take() == [] and c.take() == []
    first.join("green")
    first.leave("red")
    assert sa.rooms == {sa.id, "green"}
    found[1].disconnect()
    assert b.take() == ["1"] and not sb.connected
    assert [s.id for s in await sio.fetch_sockets()] == [sa.id, _sc.id]


async def test_operator_join_leave_disconnect_and_close_room() -> None:
    sio, _ = make_server()
    (a, sa), (b, sb), (c, sc) = _join(sio, 3)
    sio.except_(sc).join(["lobby", "news"])
    assert sa.rooms == sb.rooms - {sb.id} | {sa.id} == {sa.id, "lobby", "news"}
    assert sc.rooms == {sc.id}
    sio.in_("lobby").leave("news")
    assert "news" not in sa.rooms | sb.rooms
    sio.close_room("lobby")
    assert sa.rooms == {sa.id} and sb.rooms == {sb.id}
    sa.join("doomed")
    sio.in_("doomed").disconnect_sockets(close=True)
    assert a.closed and a.close_reason == "forced server close"
    assert not b.closed and not c.closed


async def test_call_collects_every_reply() -> None:
    sio, _ = make_server()
    (a, sa), (b, sb), (c, _) = _join(sio, 3)
    sa.join("room")
    sb.join("room")
    pending = sio.call("vote", "?", to="room", timeout=5)
    sent_a, sent_b = a.take(), b.take()
    assert sent_a == sent_b  # one packet, one ack id, for every recipient
    assert c.take() == []
    ack_id = sent_a[0][1 : sent_a[0].index("[")]
    a.receive(f'3{ack_id}["yes",1]')
    b.receive(f"3{ack_id}[]")
    assert await pending == ["yes", None]  # each reply is the first ack argument


async def test_call_to_nobody_resolves_at_once() -> None:
    sio, _ = make_server()
    assert await sio.call("x", to="empty") == []


async def test_call_timeout_reports_the_replies_that_came() -> None:
    sio, runtime = make_server()
    (a, _), (b, _) = _join(sio, 2)
    pending = sio.call("vote", timeout=2)
    ack_id = a.take()[0][1:].split("[")[0]
    a.receive(f'3{ack_id}["yes"]')
    runtime.advance(3, sio.engine.deadlines)
    with pytest.raises(BroadcastAckTimeout) as caught:
        await pending
    assert caught.value.replies == ["yes"]
    assert isinstance(caught.value, AckTimeout)
    b.receive(f'3{ack_id}["late"]')  # nobody listens any more, and nothing breaks
    assert all(len(s._acks) == 0 for s in sio.of("/").sockets.values())


async def test_emit_callback_form_is_error_first() -> None:
    sio, runtime = make_server()
    (a, _), (b, _) = _join(sio, 2)
    got: list[tuple[Any, ...]] = []
    sio.emit("q", callback=lambda err, replies: got.append((err, replies)), timeout=1)
    ack_id = a.take()[0][1:].split("[")[0]
    a.receive(f"3{ack_id}[1]")
    b.receive(f"3{ack_id}[2]")
    await runtime.settle()
    assert got == [(None, [1, 2])]
    sio.timeout(1).emit("q", callback=lambda err, replies: got.append((err, replies)))
    runtime.advance(2, sio.engine.deadlines)
    await runtime.settle()
    assert isinstance(got[1][0], BroadcastAckTimeout) and got[1][1] == []


async def test_server_side_emit_alone_has_no_other_server() -> None:
    sio, _ = make_server()
    heard: list[Any] = []
    sio.on_server_side_emit("ping", lambda *args: heard.append(args))
    sio.server_side_emit("ping", 1)
    assert await sio.server_side_call("ping", 2) == []
    assert heard == []  # as in Node: a server does not hear its own server-side emits


async def test_volatile_is_dropped_where_not_writable_and_counted() -> None:
    sio, _ = make_server()
    (a, sa), (b, sb) = _join(sio, 2)
    b.writable = False
    sio.volatile.emit("tick", 1)
    assert a.take() == ['2["tick",1]'] and b.take() == []
    assert sio.of("/").volatile_dropped == 1
    assert sb.volatile.emit("tock") is False and sa.volatile.emit("tock") is True
    assert a.take() == ['2["tock"]'] and b.take() == []
    assert sio.of("/").volatile_dropped == 2
    sio.emit("kept")  # not volatile: queued for when it can be written
    assert b.take() == ['2["kept"]']


async def test_volatile_broadcast_with_acks_counts_only_the_sent() -> None:
    sio, _ = make_server()
    (a, _), (b, _) = _join(sio, 2)
    b.writable = False
    pending = sio.volatile.call("q", timeout=5)
    ack_id = a.take()[0][1:].split("[")[0]
    a.receive(f"3{ack_id}[1]")
    assert await pending == [1]


# -- a cluster of servers ------------------------------------------------------------


def _cluster(n: int) -> tuple[Cluster, list[tuple[Server, TestRuntime]]]:
    cluster = Cluster()
    return cluster, [make_server(adapter=cluster.adapter_class()) for _ in range(n)]


async def test_cluster_fetch_sockets_reaches_other_servers_unless_local() -> None:
    cluster, [(one, _), (two, _)] = _cluster(2)
    ((_, s1),) = _join(one, 1)
    ((c2, s2),) = _join(two, 1)
    s1.join("room")
    s2.join("room")
    s2.data["n"] = 2
    found = await one.in_("room").fetch_sockets()
    assert [s.id for s in found] == [s1.id, s2.id]
    remote = found[1]
    assert remote.data == {"n": 2} and remote.data is not s2.data
    assert remote.rooms == {s2.id, "room"}
    assert any(isinstance(r, FetchSockets) for r in cluster.published)
    assert [s.id for s in await one.local.fetch_sockets()] == [s1.id]
    remote.emit("hello")  # reaches the socket on the other server
    assert c2.take() == ['2["hello"]']
    remote.join("elsewhere")
    assert "elsewhere" in s2.rooms
    remote.disconnect()
    assert not s2.connected


async def test_cluster_room_operations_and_local_flag() -> None:
    cluster, [(one, _), (two, _)] = _cluster(2)
    ((c1, s1),) = _join(one, 1)
    ((c2, s2),) = _join(two, 1)
    one.local.emit("mine")
    assert c1.take() == ['2["mine"]'] and c2.take() == []
    one.emit("all")
    assert c1.take() == ['2["all"]'] and c2.take() == ['2["all"]']
    one.in_(s2.id).join("vip")
    assert s2.rooms == {s2.id, "vip"}
    assert any(isinstance(r, SocketsJoin) for r in cluster.published)
    one.close_room("vip")
    assert s2.rooms == {s2.id}
    one.local.disconnect_sockets()
    assert not s1.connected and s2.connected


async def test_cluster_call_waits_for_every_server_and_client() -> None:
    _, [(one, _), (two, _)] = _cluster(2)
    ((c1, _),) = _join(one, 1)
    (c2, _), (c3, _) = _join(two, 2)
    pending = one.call("vote", timeout=5)
    for conn, answer in ((c3, "c"), (c1, "a"), (c2, "b")):
        ack_id = conn.take()[0][1:].split("[")[0]
        conn.receive(f'3{ack_id}["{answer}"]')
    assert sorted(await pending) == ["a", "b", "c"]


async def test_cluster_call_on_an_adapter_that_does_not_count_asks_server_count() -> None:
    cluster = Cluster()
    linked = cluster.adapter_class()

    class Silent(linked):  # type: ignore[valid-type, misc]
        """An adapter of the older shape: broadcast_with_ack returns None."""

        def broadcast_with_ack(self, *args: Any) -> None:
            super().broadcast_with_ack(*args)

    (one, r1), (two, _) = (make_server(adapter=Silent) for _ in range(2))
    ((c1, _),) = _join(one, 1)
    ((c2, _),) = _join(two, 1)
    pending = one.call("vote", timeout=5)
    for conn, answer in ((c1, "a"), (c2, "b")):
        ack_id = conn.take()[0][1:].split("[")[0]
        conn.receive(f'3{ack_id}["{answer}"]')
    await r1.settle()
    assert sorted(await asyncio.wait_for(pending, 10)) == ["a", "b"]  # 10 s: a hang bound


async def test_cluster_server_side_emit_reaches_the_other_servers_handlers() -> None:
    _, [(one, _), (two, r2), (three, r3)] = _cluster(3)
    heard: list[tuple[str, Any]] = []

    @two.on_server_side_emit("count")
    def two_count(n: int) -> int:
        heard.append(("two", n))
        return n + 2

    @three.on_server_side_emit("count")
    async def three_count(n: int) -> int:
        heard.append(("three", n))
        return n + 3

    one.on_server_side_emit("count", lambda n: heard.append(("one", n)))
    assert sorted(await one.server_side_call("count", 10)) == [12, 13]
    one.server_side_emit("count", 1)
    await r2.settle()
    await r3.settle()
    assert sorted(heard) == [("three", 1), ("three", 10), ("two", 1), ("two", 10)]


async def test_socket_call_still_raises_disconnected() -> None:
    sio, _ = make_server()
    ((conn, socket),) = _join(sio, 1)
    pending = socket.call("q")
    conn.close()
    with pytest.raises(Disconnected):
        await pending
