"""Requests that collect an answer from every node (fetch sockets, all
rooms, server-side emits with replies, the client counts of a broadcast
with acks) are not kept waiting by a node that is gone: stopped (it
unsubscribes), killed (Redis drops its connection; a request that reached
it just before is settled by the next count), leaving while the request is
on its way (it answers what reached it), or a dynamic child that went.

Each node here has a ``requests_timeout`` of a minute, over the tests' step
limit: a request settled by the timer fails the step, and the adapter's
counters say which way each request ended."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import socketio
from services import RedisServer, free_port, realtime_cli, wait_until_serving

import realtime
from realtime.bus.cluster import Channels

from .harness import STEP_LIMIT, PyNode
from .test_node_cluster import StartNode

HERE = Path(__file__).parent
PATIENT = 60.0
"""requests_timeout of the nodes under test: longer than STEP_LIMIT."""


async def subscribers_become(adapter: realtime.RedisAdapter, channel: str, count: int) -> None:
    """Until Redis counts ``count`` subscribers of ``channel`` (PUBSUB NUMSUB)."""

    async def poll() -> None:
        while await adapter.server_count(channel) != count:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), STEP_LIMIT)


async def client_of(url: str) -> socketio.AsyncClient:
    """A client that answers "question" with its own sid."""
    client = socketio.AsyncClient(reconnection=False)
    client.on("question", lambda: client.get_sid())
    await client.connect(url, transports=["websocket"], wait_timeout=STEP_LIMIT)
    return client


def request_channel(node: PyNode) -> str:
    return node.server.of("/").adapter.channels.request  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "stopped"])
async def test_requests_do_not_wait_for_a_node_that_is_gone(
    redis_server: RedisServer, py_node: StartNode, signum: int
) -> None:
    ours = await py_node(redis_server.url, requests_timeout=PATIENT)
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_server.url, "PYTHONPATH": str(HERE)}
    other = await realtime_cli("workers_app:sio", "--port", str(port), cwd=HERE, env=env)
    clients: list[socketio.AsyncClient] = []
    try:
        await wait_until_serving(port, other)
        await subscribers_become(ours.adapter, request_channel(ours), 2)
        mine = await client_of(ours.url)
        theirs = await client_of(f"http://127.0.0.1:{port}")
        clients += [mine, theirs]
        both = {mine.get_sid(), theirs.get_sid()}
        fetched = await asyncio.wait_for(ours.server.fetch_sockets(), STEP_LIMIT)
        assert {s.id for s in fetched} == both
        assert await ours.server.of("/").server_side_call("where") == [other.pid]
        replies = await asyncio.wait_for(ours.server.call("question", timeout=PATIENT), STEP_LIMIT)
        assert set(replies) == both

        other.send_signal(signum)  # by pid: the process this test started
        await asyncio.wait_for(other.wait(), STEP_LIMIT)
        # Redis counts it out: it unsubscribed, or its connection dropped.
        await subscribers_become(ours.adapter, request_channel(ours), 1)

        fetched = await asyncio.wait_for(ours.server.fetch_sockets(), STEP_LIMIT)
        assert [s.id for s in fetched] == [mine.get_sid()]
        rooms = await asyncio.wait_for(ours.server.of("/").adapter.all_rooms(), STEP_LIMIT)  # type: ignore[attr-defined]
        assert rooms == {mine.get_sid()}
        replies = await asyncio.wait_for(ours.server.of("/").server_side_call("where"), STEP_LIMIT)
        assert replies == []
        # A broadcast collecting acks counts the client counts of the nodes
        # it reached: this one's only.
        replies = await asyncio.wait_for(ours.server.call("question", timeout=PATIENT), STEP_LIMIT)
        assert replies == [mine.get_sid()]
        assert (ours.adapter.requests_answered, ours.adapter.requests_timed_out) == (5, 0)
        if signum == signal.SIGTERM:
            assert other.returncode == 0
            assert other.stderr is not None
            assert b"leave_timeout" not in await other.stderr.read()
    finally:
        for client in clients:
            await client.disconnect()
        if other.returncode is None:
            other.kill()
            await other.wait()


async def test_a_node_leaving_answers_what_reached_it_and_is_not_waited_for(
    redis_server: RedisServer, py_node: StartNode
) -> None:
    ours = await py_node(redis_server.url, requests_timeout=PATIENT)
    leaving = await py_node(redis_server.url, requests_timeout=PATIENT)
    mine = await client_of(ours.url)
    theirs = await client_of(leaving.url)
    try:
        await subscribers_become(ours.adapter, request_channel(ours), 2)
        both = {mine.get_sid(), theirs.get_sid()}
        # Asked while the other node leaves: it either got the request before
        # it unsubscribed, and answers, or it is not counted.
        asking = [asyncio.ensure_future(ours.server.fetch_sockets()) for _ in range(5)]
        # And it asks too, just before: the answer of ours still reaches it.
        its_own = asyncio.ensure_future(leaving.server.fetch_sockets())
        await asyncio.sleep(0)
        await leaving.close()
        for fetched in await asyncio.wait_for(asyncio.gather(*asking), STEP_LIMIT):
            assert mine.get_sid() in {s.id for s in fetched}
        fetched = await asyncio.wait_for(its_own, STEP_LIMIT)
        assert {s.id for s in fetched} == both
        assert (leaving.adapter.requests_answered, leaving.adapter.requests_timed_out) == (1, 0)
        # Once it is leaving, its requests get its own answer at once.
        assert await leaving.server.fetch_sockets() == []
        assert await ours.adapter.server_count(request_channel(ours)) == 1
        fetched = await asyncio.wait_for(ours.server.fetch_sockets(), STEP_LIMIT)
        assert [s.id for s in fetched] == [mine.get_sid()]
        assert (ours.adapter.requests_answered, ours.adapter.requests_timed_out) == (6, 0)
    finally:
        await mine.disconnect()
        await theirs.disconnect()


async def test_a_cluster_of_one_answers_from_the_count(
    redis_server: RedisServer, py_node: StartNode
) -> None:
    alone = await py_node(redis_server.url, requests_timeout=PATIENT)
    client = await client_of(alone.url)
    try:
        fetched = await asyncio.wait_for(alone.server.fetch_sockets(), STEP_LIMIT)
        assert [s.id for s in fetched] == [client.get_sid()]
        replies = await asyncio.wait_for(alone.server.of("/").server_side_call("x"), STEP_LIMIT)
        assert replies == []
        assert (alone.adapter.requests_answered, alone.adapter.requests_timed_out) == (2, 0)
    finally:
        await client.disconnect()


async def test_requests_do_not_wait_for_a_child_namespace_that_went(
    redis_server: RedisServer, py_node: StartNode
) -> None:
    """A dynamic child goes with its last socket and unsubscribes; a request
    Redis delivered to it before is answered (with nobody), so asking while
    it goes never waits for the timer."""
    asking = await py_node(redis_server.url, requests_timeout=PATIENT)
    emptying = await py_node(redis_server.url, requests_timeout=PATIENT)
    for node in (asking, emptying):
        node.server.of(re.compile(r"^/room-\d+$"))
    channel = Channels(asking.adapter.key_prefix, "/room-1").request
    stays = socketio.AsyncClient(reconnection=False)
    await stays.connect(asking.url, namespaces=["/room-1"], transports=["websocket"])
    try:
        for _ in range(3):  # the same name, created and removed again
            goes = socketio.AsyncClient(reconnection=False)
            await goes.connect(emptying.url, namespaces=["/room-1"], transports=["websocket"])
            await subscribers_become(asking.adapter, channel, 2)
            leaving = asyncio.ensure_future(goes.disconnect())
            while await asking.adapter.server_count(channel) != 1:
                fetched = await asyncio.wait_for(asking.server.fetch_sockets("/room-1"), STEP_LIMIT)
                assert stays.get_sid("/room-1") in {s.id for s in fetched}
            await leaving
        assert asking.adapter.requests_timed_out == 0
        assert asking.adapter.requests_answered > 0
    finally:
        await stays.disconnect()


@pytest.mark.parametrize("operation", ["fetch_sockets", "call"])
async def test_a_node_killed_while_the_request_reached_it_is_counted_out(
    redis_server: RedisServer, py_node: StartNode, operation: str
) -> None:
    """The request reached a subscriber that will never answer (a process
    killed just then); once Redis drops its connection, the recount of the
    nodes still subscribed settles the request (for a broadcast with acks:
    the gone node counts as one that reached no client)."""
    ours = await py_node(redis_server.url, requests_timeout=PATIENT)
    mine = await client_of(ours.url)
    silent = aioredis.Redis.from_url(redis_server.url)
    pubsub = silent.pubsub()
    try:
        await pubsub.subscribe(request_channel(ours))
        await subscribers_become(ours.adapter, request_channel(ours), 2)
        if operation == "call":
            asking = asyncio.ensure_future(ours.server.call("question", timeout=PATIENT))
        else:
            asking = asyncio.ensure_future(ours.server.fetch_sockets())
        # The request is delivered to the silent subscriber, which then dies.
        message = None
        while message is None or message["type"] != "message":
            message = await asyncio.wait_for(pubsub.get_message(timeout=None), STEP_LIMIT)
        assert not asking.done()
        await pubsub.aclose()
        answer = await asyncio.wait_for(asking, STEP_LIMIT)
        if operation == "call":
            assert answer == [mine.get_sid()]
        else:
            assert [s.id for s in answer] == [mine.get_sid()]
            assert (ours.adapter.requests_answered, ours.adapter.requests_timed_out) == (1, 0)
    finally:
        await pubsub.aclose()
        await silent.aclose()
        await mine.disconnect()
