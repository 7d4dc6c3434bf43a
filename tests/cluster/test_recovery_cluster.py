"""Connection state recovery across nodes: the official socket.io-client 4.x
drops on node A and comes back to node B inside the window, and gets its
socket (id, rooms, data) and the broadcasts both nodes sent meanwhile. The
scenario is tests/interop/recovery_move.js, the servers those of
tests/interop/recovery_app.py on a RedisAdapter each, sharing a real
redis-server that holds the sessions and the stream."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from interop.harness import HERE as INTEROP
from interop.harness import assert_complete, assert_passed, run_client, served
from interop.recovery_app import recovery_server
from services import RedisServer

import realtime

from .harness import STEP_LIMIT, NodePeer, PyNode

CHECK = "moved_from_a_to_b_with_missed_events"


async def test_a_client_moving_from_node_a_to_b_gets_its_socket_and_missed_packets(
    redis_server: RedisServer,
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed")
    adapters = [realtime.RedisAdapter(redis_server.url) for _ in range(2)]
    async with contextlib.AsyncExitStack() as stack:
        urls = []
        for adapter in adapters:
            stack.push_async_callback(adapter.aclose)
            app = web.Application()
            sio = recovery_server("/socket.io", realtime.ConnectionStateRecovery(), adapter=adapter)
            realtime.attach(sio, app)
            urls.append(await stack.enter_async_context(served(app)))
            await asyncio.wait_for(adapter.ready(), STEP_LIMIT)
        command = [node, str(INTEROP / "recovery_move.js"), "--client", "4"]
        run = await run_client([*command, "--a", urls[0], "--b", urls[1]])
        assert_complete(run, [CHECK])
        assert_passed(run, CHECK)


async def test_node_nodes_get_our_recovering_broadcasts_without_the_offset(
    redis_server: RedisServer, peer: NodePeer, py_node: Callable[..., Awaitable[PyNode]]
) -> None:
    """The offset rides as a fourth element that Node's adapter does not read:
    a Node node's client gets the event as it was emitted, ours gets the
    offset too; and a Node node's broadcast reaches ours unstamped."""
    ours = await py_node(redis_server.url, recovery=True)
    theirs = await peer.call("server", id="n1", redis=redis_server.url)
    await peer.client("on-py", ours.url)
    await peer.client("on-node", theirs["url"])
    for client in ("on-py", "on-node"):
        assert await peer.join(client, "room") == "joined"
    ours.server.emit("hello", {"n": 1}, to="room")
    assert await peer.received("on-node", "hello") == [{"n": 1}]
    value, offset = await peer.received("on-py", "hello")
    assert value == {"n": 1} and isinstance(offset, str) and offset
    await peer.call("server-emit", server="n1", to=["room"], event="hi", args=[2])
    assert await peer.received("on-py", "hi") == [2]
