"""Mixed clusters: realtime nodes and Node socket.io 4.8 nodes on one Redis.

Every client is the official socket.io-client 4.x; the Node nodes run
@socket.io/redis-adapter 8.x. Nothing here waits for a time: each step awaits
the event it causes (bounded only to turn a hang into a failure).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services import RedisServer

from .harness import NodePeer, PyNode

StartNode = Callable[..., Awaitable[PyNode]]


async def two_nodes(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> tuple[PyNode, str]:
    """One realtime node and one Node node; a client on each, both in "room"."""
    ours = await py_node(redis_server.url)
    theirs = await peer.call("server", id="n1", redis=redis_server.url)
    await peer.client("on-py", ours.url)
    await peer.client("on-node", theirs["url"])
    for client in ("on-py", "on-node"):
        assert await peer.join(client, "room") == "joined"
    return ours, theirs["url"]


async def test_room_broadcast_from_our_node_reaches_node_clients(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> None:
    ours, _ = await two_nodes(redis_server, peer, py_node)
    ours.server.emit("hello", {"n": 1}, b"\x00\xffbin", to="room")
    assert await peer.received("on-node", "hello") == [{"n": 1}, b"\x00\xffbin"]
    assert await peer.received("on-py", "hello") == [{"n": 1}, b"\x00\xffbin"]


async def test_room_broadcast_from_node_reaches_our_clients(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> None:
    await two_nodes(redis_server, peer, py_node)
    await peer.call("server-emit", server="n1", to=["room"], event="hi", args=[1, {"$bin": "AAE="}])
    assert await peer.received("on-py", "hi") == [1, b"\x00\x01"]
    assert await peer.received("on-node", "hi") == [1, b"\x00\x01"]
