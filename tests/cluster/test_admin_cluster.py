"""The Admin UI on two realtime nodes sharing a real redis-server: a UI
connected to one node sees the other node's sockets, with their client id
and transport, and hears of the other node's connections as they happen."""

from __future__ import annotations

import socketio
from integrations.test_admin import Watcher
from services import RedisServer

import realtime

from .harness import PyNode


async def test_a_ui_on_one_node_sees_the_other_nodes_sockets(redis_server: RedisServer) -> None:
    nodes = []
    for name in ("node-a", "node-b"):
        node = PyNode(realtime.RedisAdapter(redis_server.url))
        node.server.instrument(auth=None, mode="development", server_id=name)
        nodes.append(await node.start())
    a, b = nodes
    try:
        early = socketio.AsyncClient(reconnection=False)
        await early.connect(b.url, transports=["polling"])
        admin = Watcher()
        await admin.connect(a.url, {})
        await admin.until(lambda: bool(admin.named("all_sockets")), "no all_sockets")
        ((everyone,),) = admin.named("all_sockets")
        (seen,) = [s for s in everyone if s["id"] == early.get_sid()]
        assert seen["transport"] == "polling" and len(seen["clientId"]) == 12
        assert seen["data"] == {}  # _admin is the UI's own, not shown as data

        late = socketio.AsyncClient(reconnection=False)
        await late.connect(b.url, transports=["websocket"])

        def connected() -> list[str]:
            return [args[0]["id"] for args in admin.named("socket_connected")]

        await admin.until(
            lambda: late.get_sid() in connected(), "no socket_connected from the other node"
        )
        await admin.until(
            lambda: {"node-a", "node-b"} <= {s[0]["serverId"] for s in admin.named("server_stats")},
            "server_stats of only one node",
        )
        for client in (early, late, admin.client):
            await client.disconnect()
    finally:
        for node in nodes:
            await node.close()
