"""The adapter against a hostile or failing Redis: garbage on its channels,
a password or an ACL user, and a redis-server that stops and comes back.

Two realtime nodes share the Redis; their clients are the official
socket.io-client 4.x (the Node peer). No step waits for a time: each awaits
the event it causes.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import msgpack
import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from services import RedisServer

from realtime import metrics

from .harness import STEP_LIMIT, NodePeer, PyNode
from .test_node_cluster import StartNode

GARBAGE = [
    b"",
    b"\xc1",  # a byte msgpack never uses
    b"{not json",
    b"\x93\xa6abcdef",  # a truncated [uid, packet, opts]
    msgpack.packb(["x", {"type": 2, "data": "not a list", "nsp": "/"}, {}]),
    msgpack.packb(["x", {"type": 0, "data": ["connect"], "nsp": "/"}, {}]),
    msgpack.packb(["x", {"type": 2, "data": ["e"], "nsp": "/other"}, {"rooms": []}]),
    msgpack.packb(["x", {"type": 2, "data": ["e"], "nsp": "/"}, {"rooms": [{"a": 1}]}]),
    msgpack.packb(msgpack.ExtType(42, b"pickle?")),
    b"\x80\x04\x95" + b"cos\nsystem\n(S'echo pwned'\ntR.",  # a pickle
]
REQUEST_GARBAGE = [
    b"{}",
    b'{"type": 5}',  # a fetch without a requestId
    b'{"type": 99, "requestId": "r"}',
    b'{"type": 2, "rooms": ["x"], "sid": "s"}',  # a join of one socket id, pre-4.x
    b'{"type": 6, "data": "no list"}',
    msgpack.packb({"type": 7, "requestId": "r", "packet": None, "opts": {}}),
]


async def pair(redis_url: str, peer: NodePeer, py_node: StartNode) -> tuple[PyNode, PyNode]:
    a = await py_node(redis_url)
    b = await py_node(redis_url)
    await peer.client("a", a.url)
    await peer.client("b", b.url)
    for client in ("a", "b"):
        assert await peer.join(client, "room") == "joined"
    return a, b


async def test_garbage_on_every_channel_is_dropped_and_the_listener_lives(
    redis_server: RedisServer,
    peer: NodePeer,
    py_node: StartNode,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = await pair(redis_server.url, peer, py_node)
    caplog.set_level(logging.DEBUG, logger="realtime")
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        for data in GARBAGE:
            await client.publish("socket.io#/#", data)
            await client.publish("socket.io#/#room#", data)
        for data in REQUEST_GARBAGE:
            await client.publish("socket.io-request#/#", data)
            await client.publish("socket.io-response#/#", data)
    finally:
        await client.aclose()
    a.server.emit("after", "garbage", to="room")
    assert await peer.received("b", "after") == ["garbage"]
    assert await peer.received("a", "after") == ["garbage"]
    assert peer.got("b", "e") == [] and peer.got("a", "connect") == []
    dropped = [r for r in caplog.records if "dropped a message" in r.getMessage()]
    assert dropped, "the garbage was not reported"
    assert a.adapter.connected and b.adapter.connected
    assert a.adapter.malformed > 0 and b.adapter.malformed > 0  # what the metric reports


@pytest.mark.parametrize("kind", ["requirepass", "acl-user"])
async def test_redis_with_a_password_or_an_acl_user(
    tmp_path: Path, peer: NodePeer, py_node: StartNode, kind: str
) -> None:
    server = RedisServer(tmp_path, password="s3cret", acl_user="app" if kind == "acl-user" else "")
    await server.start()
    try:
        a, _ = await pair(server.url, peer, py_node)
        a.server.emit("secured", 1, to="room")
        assert await peer.received("b", "secured") == [1]
        # And without the password, the server says no.
        anonymous = aioredis.Redis.from_url(f"redis://127.0.0.1:{server.port}/0")
        with pytest.raises(RedisError, match=r"(?i)auth|noperm"):
            await anonymous.publish("socket.io#/#", b"x")
        await anonymous.aclose()
    finally:
        await server.stop()


async def test_redis_over_tls(tmp_path: Path, peer: NodePeer, py_node: StartNode) -> None:
    server = RedisServer(tmp_path, tls=True)
    await server.start()
    try:
        assert server.url.startswith("rediss://")
        a = await py_node(server.url, ssl_ca_certs=str(server.certificate))
        b = await py_node(server.url, ssl_ca_certs=str(server.certificate))
        await peer.client("a", a.url)
        await peer.client("b", b.url)
        for client in ("a", "b"):
            assert await peer.join(client, "room") == "joined"
        a.server.emit("sealed", 1, to="room")
        assert await peer.received("b", "sealed") == [1]
        # Plain TCP to the TLS port gets nowhere.
        plain = aioredis.Redis.from_url(f"redis://127.0.0.1:{server.port}/0", socket_timeout=2)
        with pytest.raises(RedisError):
            await plain.ping()
        await plain.aclose()
    finally:
        await server.stop()


async def test_redis_restart_local_delivery_goes_on_and_the_cluster_comes_back(
    redis_server: RedisServer, peer: NodePeer, py_node: StartNode
) -> None:
    a, b = await pair(redis_server.url, peer, py_node)
    a.server.emit("before", to="room")
    assert await peer.received("b", "before") == []
    generations = a.adapter.generation, b.adapter.generation

    await redis_server.stop()
    # Redis is gone: each node still serves its own clients.
    a.server.emit("during", "local", to="room")
    assert await peer.received("a", "during") == ["local"]
    assert a.adapter.unpublished >= 1  # the broadcast that stayed local, as the metric says

    await redis_server.start()  # the same port, nothing kept
    await asyncio.wait_for(a.adapter.ready(after=generations[0]), STEP_LIMIT)
    await asyncio.wait_for(b.adapter.ready(after=generations[1]), STEP_LIMIT)
    a.server.emit("after", "restart", to="room")
    assert await peer.received("b", "after") == ["restart"]
    b.server.emit("back", to="room")
    assert await peer.received("a", "back") == []
    # What was published during the outage reached only the publisher's clients.
    assert peer.got("b", "during") == []


async def test_the_adapters_health_is_in_the_scrape(
    redis_server: RedisServer, py_node: StartNode
) -> None:
    node = await py_node(redis_server.url)
    collector = metrics.ServerCollector(lambda: [node.server], metrics.LoopLag())

    def scrape() -> dict[str, float]:
        return {
            sample.name: sample.value
            for family in collector.collect()
            if family.name.startswith("realtime_redis")
            for sample in family.samples
        }

    assert scrape() == {
        "realtime_redis_connected": 1,
        "realtime_redis_publishing": 1,
        "realtime_redis_subscriptions_total": 1,
        "realtime_redis_pending_publishes": 0,
        "realtime_redis_unpublished_total": 0,
        "realtime_redis_malformed_messages_total": 0,
    }
    await redis_server.stop()

    async def down() -> None:
        while node.adapter.connected:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(down(), STEP_LIMIT)
    node.server.emit("lost", to="room")  # published into the outage, or refused at once
    for _ in range(int(STEP_LIMIT / 0.01)):
        if node.adapter.unpublished:
            break
        await asyncio.sleep(0.01)
    health = scrape()
    assert health["realtime_redis_connected"] == 0
    assert health["realtime_redis_unpublished_total"] >= 1
