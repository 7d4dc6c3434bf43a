"""A dynamic child namespace on the Redis adapter: its channels are
subscribed while it exists and unsubscribed once its last socket left, so
that names which come and go do not pile up subscriptions in Redis. Measured
on a real redis-server (PUBSUB NUMPAT and CHANNELS), with python-socketio's
client connecting to the children."""

from __future__ import annotations

import asyncio
import re

import redis.asyncio as aioredis
import socketio  # type: ignore[import-untyped]
from services import RedisServer

from .harness import STEP_LIMIT, PyNode
from .test_node_cluster import StartNode


async def subscriptions(redis: aioredis.Redis, nsp: str) -> tuple[int, list[bytes]]:
    """The patterns subscribed server-wide, and the channels that name ``nsp``."""
    numpat = int(await redis.execute_command("PUBSUB", "NUMPAT"))
    channels = await redis.execute_command("PUBSUB", "CHANNELS", f"*#{nsp}#*")
    return numpat, sorted(channels)


async def settled(redis: aioredis.Redis, nsp: str, numpat: int) -> tuple[int, list[bytes]]:
    """The subscriptions once NUMPAT is ``numpat`` (they change a round trip
    after the namespace does); a liveness bound, not a timing check."""

    async def poll() -> tuple[int, list[bytes]]:
        while (held := await subscriptions(redis, nsp))[0] != numpat:
            await asyncio.sleep(0.02)
        return held

    return await asyncio.wait_for(poll(), STEP_LIMIT)


async def test_a_removed_child_unsubscribes_its_channels(
    redis_server: RedisServer, py_node: StartNode
) -> None:
    node: PyNode = await py_node(redis_server.url)
    node.server.of(re.compile(r"^/room-\d+$"))
    redis = aioredis.Redis.from_url(redis_server.url)
    try:
        before, _ = await subscriptions(redis, "/room-1")
        for round_ in range(3):  # the same name, created and removed again
            client = socketio.AsyncClient(reconnection=False)
            await client.connect(node.url, namespaces=["/room-1"], transports=["websocket"])
            numpat, channels = await settled(redis, "/room-1", before + 1)
            assert numpat == before + 1 and len(channels) == 3, (round_, channels)
            assert {n.name for n in node.server.namespaces()} >= {"/room-1"}
            await client.disconnect()
            numpat, channels = await settled(redis, "/room-1", before)
            assert (numpat, channels) == (before, []), round_
            assert "/room-1" not in {n.name for n in node.server.namespaces()}
    finally:
        await redis.aclose()
