"""Requests across a mixed cluster: fetch sockets, operator join/leave and
disconnect, server-side emits (with replies), all rooms, server count and
broadcasts whose acks come from the clients of every node, each asked from
our node and from a Node socket.io 4.8 node."""

from __future__ import annotations

from typing import Any

from services import RedisServer

from .harness import NodePeer
from .test_node_cluster import StartNode, two_nodes


async def test_server_count_and_all_rooms_both_ways(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> None:
    ours, _ = await two_nodes(redis_server, peer, py_node)
    assert await peer.join("on-node", "node-only") == "joined"
    adapter = ours.server.of("/").adapter
    assert await adapter.server_count() == 2
    assert await peer.call("server-call", server="n1", method="serverCount") == 2
    py_sid = ours.server.of("/").sockets.popitem()[0]
    rooms = await adapter.all_rooms()  # type: ignore[attr-defined]
    assert {"room", "node-only", py_sid} <= rooms
    theirs = await peer.call("server-call", server="n1", method="allRooms")
    assert {"room", "node-only", py_sid} <= set(theirs)


async def test_fetch_sockets_from_our_node_and_from_node(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> None:
    ours, _ = await two_nodes(redis_server, peer, py_node)
    node_sid = await peer.call("server-call", server="n1", method="fetchSockets", to=["room"])
    node_ids = {s["id"] for s in node_sid}
    assert len(node_ids) == 2  # ours and theirs, as Node sees them
    fetched = await ours.server.to("room").fetch_sockets()
    assert {s.id for s in fetched} == node_ids
    remote = next(s for s in fetched if s.id not in ours.server.of("/").sockets)
    assert remote.data == {"node": "n1"}  # Node's socket.data, across the cluster
    assert "room" in remote.rooms


async def test_operator_join_leave_and_disconnect_from_node_reach_our_sockets(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> None:
    ours, _ = await two_nodes(redis_server, peer, py_node)
    await peer.call("server-call", server="n1", method="socketsJoin", to=["room"], rooms=["vip"])
    # Node does even its own part of a join when the request comes back from
    # Redis; requests are ordered on the channel, so once a later request is
    # answered, the join was done on both nodes.
    await peer.call("server-call", server="n1", method="fetchSockets", to=["vip"])
    vip = await peer.call("server-call", server="n1", method="fetchSockets", to=["vip"])
    assert len(vip) == 2
    ours.server.to("vip").emit("in-vip")
    assert await peer.received("on-py", "in-vip") == []
    assert await peer.received("on-node", "in-vip") == []
    await peer.call("server-call", server="n1", method="socketsLeave", to=["room"], rooms=["vip"])
    await peer.call("server-call", server="n1", method="fetchSockets", to=["vip"])
    assert await peer.call("server-call", server="n1", method="fetchSockets", to=["vip"]) == []
    await peer.call("server-call", server="n1", method="disconnectSockets", to=["room"])
    for client in ("on-py", "on-node"):
        assert await peer.disconnected(client) == "io server disconnect"


async def test_operator_join_and_disconnect_from_our_node_reach_node_sockets(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> None:
    ours, _ = await two_nodes(redis_server, peer, py_node)
    ours.server.to("room").join("gold")
    # Our later request is answered after the join was served (one channel,
    # one publisher, in order); only then is Node asked, by Node.
    assert len(await ours.server.to("gold").fetch_sockets()) == 2
    gold = await peer.call("server-call", server="n1", method="fetchSockets", to=["gold"])
    assert len(gold) == 2
    ours.server.to("room").leave("gold")
    assert await ours.server.to("gold").fetch_sockets() == []
    assert await peer.call("server-call", server="n1", method="fetchSockets", to=["gold"]) == []
    ours.server.to("room").disconnect_sockets()
    for client in ("on-py", "on-node"):
        assert await peer.disconnected(client) == "io server disconnect"


async def test_server_side_emit_both_ways_with_replies(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> None:
    ours, _ = await two_nodes(redis_server, peer, py_node)
    got: list[Any] = []

    @ours.server.on_server_side_emit("ask")
    def ask(*args: Any) -> dict[str, Any]:
        got.append(list(args))
        return {"from": "py"}

    replies = await ours.server.of("/").server_side_call("ask", 1, "two")
    assert replies == [{"from": "n1", "got": [1, "two"]}]
    event = await peer.next_event(lambda e: e["event"] == "server-side")
    assert event["args"] == [1, "two"]
    answer = await peer.call(
        "server-call", server="n1", method="serverSideEmitWithAck", event="ask", args=[3]
    )
    assert answer == [{"from": "py"}]
    assert got == [[3]]


async def test_broadcast_acks_are_collected_from_every_node(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> None:
    ours, _ = await two_nodes(redis_server, peer, py_node)
    replies = await ours.server.to("room").call("question", 42)
    assert sorted(r["client"] for r in replies) == ["on-node", "on-py"]
    theirs = await peer.call(
        "server-call", server="n1", method="emitWithAck", to=["room"], event="question", args=[7]
    )
    assert sorted(r["client"] for r in theirs) == ["on-node", "on-py"]


async def test_our_emitter_reaches_the_clients_of_every_node(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> None:
    import realtime

    ours, node_url = await two_nodes(redis_server, peer, py_node)
    await peer.client("chat-node", node_url, nsp="/chat")
    await peer.client("chat-py", ours.url, nsp="/chat")
    with realtime.Emitter(redis_server.url) as emitter:
        emitter.to("room").emit("news", "hot", b"\x01")
        emitter.of("/chat").except_("nobody").emit("chat", {"x": 1})
        emitter.to("room").sockets_join("emitted")
    for client in ("on-py", "on-node"):
        assert await peer.received(client, "news") == ["hot", b"\x01"]
    for client in ("chat-py", "chat-node"):
        assert await peer.received(client, "chat") == [{"x": 1}]
    joined = await peer.call("server-call", server="n1", method="fetchSockets", to=["emitted"])
    assert len(joined) == 2
    with realtime.Emitter(redis_server.url) as emitter:
        emitter.to("emitted").disconnect_sockets()
    for client in ("on-py", "on-node"):
        assert await peer.disconnected(client) == "io server disconnect"


async def test_node_emitter_reaches_our_clients(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> None:
    ours, _ = await two_nodes(redis_server, peer, py_node)
    url = redis_server.url
    await peer.call(
        "emitter", redis=url, method="emit", to=["room"], event="e", args=[{"$bin": "/w=="}]
    )
    assert await peer.received("on-py", "e") == [b"\xff"]
    await peer.call("emitter", redis=url, method="socketsJoin", to=["room"], rooms=["from-emitter"])
    got: list[Any] = []
    ours.server.on_server_side_emit("news", lambda *args: got.append(args))
    await peer.call("emitter", redis=url, method="serverSideEmit", event="news", args=["x"])
    # One channel, in order: the join was served before the server-side emit.
    await peer.next_event(lambda e: e["event"] == "server-side" and e["args"] == ["x"])
    assert len(await ours.server.to("from-emitter").fetch_sockets()) == 2
