"""``sio.presence`` on two realtime nodes sharing one redis-server: a user
with a tab on each node counts once on both, online and offline fire once
in the cluster, and a node killed by SIGKILL takes its users offline after
``presence_expiry``."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import socketio
from services import RedisServer, free_port, realtime_cli, wait_until_serving

import realtime

from .harness import STEP_LIMIT

HERE = Path(__file__).parent
EXPIRY = 1.0
"""presence_expiry of the nodes: short, so that the dead node's users go
offline within the test (the wait for it is bounded by STEP_LIMIT)."""
PATIENT = 4 * STEP_LIMIT
"""presence_expiry of nodes whose users must never be reaped within a test."""


class Node:
    def __init__(self, name: str, port: int, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.url = f"http://127.0.0.1:{port}"
        self.proc = proc


async def start_nodes(redis_server: RedisServer, expiry: float) -> AsyncIterator[dict[str, Node]]:
    started: dict[str, Node] = {}
    try:
        for name in ("A", "B"):
            port = free_port()
            env = {
                **os.environ,
                "REDIS_URL": redis_server.url,
                "PRESENCE_EXPIRY": str(expiry),
                "NODE_NAME": name,
                "PYTHONPATH": str(HERE),
            }
            proc = await realtime_cli("presence_app:sio", "--port", str(port), cwd=HERE, env=env)
            started[name] = Node(name, port, proc)
            await wait_until_serving(port, proc)
        yield started
    finally:
        for node in started.values():
            if node.proc.returncode is None:
                node.proc.kill()
            await node.proc.wait()


@pytest.fixture
async def nodes(redis_server: RedisServer) -> AsyncIterator[dict[str, Node]]:
    async for started in start_nodes(redis_server, EXPIRY):
        yield started


@pytest.fixture
async def patient_nodes(redis_server: RedisServer) -> AsyncIterator[dict[str, Node]]:
    """Nodes whose ``presence_expiry`` is over STEP_LIMIT: a user that goes
    offline within a step was taken offline by its node, not reaped."""
    async for started in start_nodes(redis_server, PATIENT):
        yield started


async def until(test: Callable[[], Any], what: str) -> None:
    async def poll() -> None:
        while not await test():
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(poll(), STEP_LIMIT)
    except asyncio.TimeoutError:
        raise AssertionError(f"never: {what}") from None


async def connect(
    url: str, user: str | None = None, transport: str = "websocket"
) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, auth={"user": user} if user else {}, transports=[transport])
    return client


async def counted(client: aioredis.Redis, users: dict[str, int]) -> bool:
    """Whether Redis counts exactly ``users`` (user -> nodes with a socket of theirs) in "/"."""
    counts = await client.hgetall("socket.io#presence#/#users")
    return {user.decode(): int(n) for user, n in counts.items()} == users


async def close_all(client: aioredis.Redis, tabs: list[socketio.AsyncClient]) -> None:
    await client.aclose()
    for tab in tabs:
        await tab.disconnect()


async def observe(url: str) -> tuple[socketio.AsyncClient, list[list[str]], list[str]]:
    """A tab with no user, and what it hears: the presence changes that the
    nodes broadcast, and the nodes that answered its ``flush``."""
    changes: list[list[str]] = []
    flushed: list[str] = []
    observer = await connect(url)
    observer.on("presence", changes.append)
    observer.on("flushed", flushed.append)
    return observer, changes, flushed


async def test_one_user_on_two_nodes_counts_once_and_a_killed_node_expires(
    nodes: dict[str, Node], redis_server: RedisServer
) -> None:
    a, b = nodes["A"], nodes["B"]
    observer, changes, flushed = await observe(b.url)
    on_a = await connect(a.url)
    tabs: list[socketio.AsyncClient] = [observer, on_a]

    async def who(client: socketio.AsyncClient) -> dict[str, Any]:
        reply: dict[str, Any] = await client.call("who", ["sam", "ana"], timeout=STEP_LIMIT)
        return reply

    async def both_see(users: list[str]) -> bool:
        readings = [await who(observer), await who(on_a)]
        return all(r["online"] == users and r["count"] == len(users) for r in readings)

    async def settled() -> None:
        """Every change either node broadcast so far has reached the observer."""
        flushed.clear()
        for client in (observer, on_a):
            await client.emit("flush")
        await until(lambda: asyncio.sleep(0, len(flushed) == 2), "both nodes flushed")

    try:
        sam_a = await connect(a.url, "sam")
        sam_b = await connect(b.url, "sam")
        ana_a = await connect(a.url, "ana")
        tabs += [sam_a, sam_b, ana_a]
        await until(lambda: both_see(["ana", "sam"]), "both nodes count sam once, and ana")
        await settled()
        # Once each, from the node whose change reached Redis first (sam's two
        # tabs race: either node may be the one).
        assert sorted(change[:2] for change in changes) == [["online", "ana"], ["online", "sam"]]
        assert ["online", "ana", "A"] in changes
        assert (await who(observer))["last_seen"] == {"sam": None, "ana": None}

        # sam's tab on B goes: still online (the tab on A); nothing fires.
        await sam_b.disconnect()
        await settled()
        assert await both_see(["ana", "sam"])
        assert len(changes) == 2

        # A dies without a word: after the expiry, B reaps its users, once.
        a.proc.send_signal(signal.SIGKILL)
        await a.proc.wait()
        await until(
            lambda: asyncio.sleep(0, len(changes) == 4), "sam and ana offline after the expiry"
        )
        assert sorted(changes[2:]) == [["offline", "ana", "B"], ["offline", "sam", "B"]]
        reading = await who(observer)
        assert reading["online"] == [] and reading["count"] == 0
        assert all(isinstance(t, float) and t > 0 for t in reading["last_seen"].values())

        # B's own user: online and offline once, and nothing of A is left in Redis.
        ana_b = await connect(b.url, "ana")
        tabs.append(ana_b)
        await until(lambda: asyncio.sleep(0, len(changes) == 5), "ana online again on B")
        await ana_b.disconnect()
        await until(lambda: asyncio.sleep(0, len(changes) == 6), "ana offline again")
        assert changes[4:] == [["online", "ana", "B"], ["offline", "ana", "B"]]
        client = aioredis.Redis.from_url(redis_server.url)
        try:
            nodes_alive = await client.zcard("socket.io#presence#/#nodes")
            node_sets = await client.keys("socket.io#presence#/#node#*")
            assert nodes_alive == 1 and len(node_sets) <= 1
            assert await client.hgetall("socket.io#presence#/#users") == {}
        finally:
            await client.aclose()
    finally:
        for tab in tabs:
            await tab.disconnect()


async def test_a_node_stopped_cleanly_takes_its_users_offline_at_once(
    patient_nodes: dict[str, Node], redis_server: RedisServer
) -> None:
    """SIGTERM: the node's users leave the count before it goes, with the
    time they left as their last seen; a user with a tab on the other node
    stays online. The expiry is longer than the test may wait."""
    a, b = patient_nodes["A"], patient_nodes["B"]
    observer, changes, flushed = await observe(b.url)
    tabs = [observer]
    client = aioredis.Redis.from_url(redis_server.url)

    async def who() -> dict[str, Any]:
        reply: dict[str, Any] = await observer.call("who", ["sam", "ana"], timeout=STEP_LIMIT)
        return reply

    async def sees(users: list[str]) -> bool:
        return (await who())["online"] == users

    try:
        # ana on long-polling: her session ends with the drain, not with a close frame.
        tabs += [await connect(a.url, "sam"), await connect(a.url, "ana", "polling")]
        tabs.append(await connect(b.url, "sam"))
        await until(lambda: counted(client, {"ana": 1, "sam": 2}), "Redis counts every tab's node")
        await until(lambda: sees(["ana", "sam"]), "B sees ana and sam")
        await until(lambda: asyncio.sleep(0, len(changes) == 2), "both online, once each")

        before = time.time()
        a.proc.send_signal(signal.SIGTERM)  # by pid: the process this test started
        assert await a.proc.wait() == 0
        await until(lambda: sees(["sam"]), "ana offline on B, sam still online")
        await until(lambda: asyncio.sleep(0, len(changes) == 3), "the offline handler ran")
        flushed.clear()
        await observer.emit("flush")
        await until(lambda: asyncio.sleep(0, flushed == ["B"]), "B flushed")
        # Once in the cluster, from A as it left; nothing for sam.
        assert changes[2:] == [["offline", "ana", "A"]]
        reading = await who()
        assert reading["count"] == 1 and reading["last_seen"]["sam"] is None
        # Redis counts in whole milliseconds (rounded down).
        assert int(before * 1000) / 1000 <= reading["last_seen"]["ana"] <= time.time()

        assert await counted(client, {"sam": 1})
        assert await client.zcard("socket.io#presence#/#nodes") == 1
        assert len(await client.keys("socket.io#presence#/#node#*")) == 1
    finally:
        await close_all(client, tabs)


async def test_a_leaving_node_takes_its_users_out_before_their_sockets_close(
    redis_server: RedisServer, py_node: Callable[..., Any]
) -> None:
    """The adapter leaves while its sockets are still open (their
    disconnections come after it, as they may in a drain): its users go out
    of the count all the same, once, in every namespace, and what comes
    after is not sent."""
    leaving = await py_node(redis_server.url, presence_expiry=PATIENT)
    staying = await py_node(redis_server.url, presence_expiry=PATIENT)
    offline: dict[str, list[tuple[str, str]]] = {"leaving": [], "staying": []}
    for name, node in (("leaving", leaving), ("staying", staying)):
        server = node.server
        for nsp in ("/", "/chat"):
            server.on(
                "connect",
                lambda socket, auth, server=server: server.presence.track(socket, auth["user"]),
                namespace=nsp,
            )
        server.presence.on("offline")(
            lambda user, namespace, name=name: offline[name].append((user, namespace))
        )
    tabs = [await connect(leaving.url, user) for user in ("sam", "ana")]
    tabs.append(await connect(staying.url, "ana"))
    in_chat = socketio.AsyncClient(reconnection=False)
    tabs.append(in_chat)
    await in_chat.connect(
        leaving.url, namespaces=["/chat"], auth={"user": "sam"}, transports=["websocket"]
    )
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        await until(lambda: counted(client, {"ana": 2, "sam": 1}), "ana on both nodes, sam on one")
        await until(
            lambda: asyncio.sleep(0, staying.server.presence.online() == ["ana", "sam"]),
            "the staying node sees ana and sam",
        )
        await until(
            lambda: asyncio.sleep(0, staying.server.presence.online("/chat") == ["sam"]),
            "the staying node sees sam in /chat",
        )
        before = int(time.time() * 1000) / 1000  # Redis counts whole milliseconds
        await leaving.adapter.aclose()
        assert leaving.server.presence.socket_ids("sam")  # still connected here
        await until(
            lambda: asyncio.sleep(0, staying.server.presence.online() == ["ana"]),
            "sam offline on the staying node",
        )
        await until(
            lambda: asyncio.sleep(0, staying.server.presence.online("/chat") == []),
            "sam offline in /chat too",
        )
        assert before <= (staying.server.presence.last_seen("sam") or 0) <= time.time()
        await leaving.close()  # now its sockets go: nothing more is sent
        await until(lambda: asyncio.sleep(0, not tabs[0].connected), "sam's tab closed")
        assert sorted(offline["leaving"]) == [("sam", "/"), ("sam", "/chat")]
        assert offline["staying"] == []
        assert await counted(client, {"ana": 1})
        assert await client.zcard("socket.io#presence#/#nodes") == 1
    finally:
        await close_all(client, tabs)


async def test_a_node_waiting_to_retry_redis_still_leaves_when_stopped(
    redis_server: RedisServer, py_node: Callable[..., Any]
) -> None:
    """Redis refuses a presence change (scripts denied to the node's user for
    a moment) and the node waits a minute before it tries again; stopped
    meanwhile, it leaves at once instead of after that minute (which
    leave_timeout would cut short, leaving its users to the expiry)."""
    node = await py_node(
        redis_server.url,
        presence_expiry=PATIENT,
        reconnect_delay=PATIENT,
        reconnect_delay_max=PATIENT,
    )
    server = node.server
    server.on("connect", lambda socket, auth: server.presence.track(socket, auth["user"]))
    store = server.presence.store
    client = aioredis.Redis.from_url(redis_server.url)
    tabs = [await connect(node.url, "sam")]
    try:
        await until(lambda: counted(client, {"sam": 1}), "sam counted")
        await client.execute_command("ACL", "SETUSER", "default", "-evalsha", "-eval")
        tabs.append(await connect(node.url, "ana"))  # refused: the node backs off
        # Private, as no public reading says that a retry is pending.
        await until(lambda: asyncio.sleep(0, store._backoff is not None), "the node backs off")
        await client.execute_command("ACL", "SETUSER", "default", "+@all")
        await node.adapter.aclose()
        assert await counted(client, {})
        assert await client.zcard("socket.io#presence#/#nodes") == 0
    finally:
        await close_all(client, tabs)


async def test_redis_restarting_empty_gets_every_node_s_users_again(
    redis_server: RedisServer, py_node: Callable[..., Any]
) -> None:
    """Redis comes back with nothing (no persistence): each node gives it its
    users again, and the nodes' readings come back to the truth. The
    presence here is made after the nodes serve (the later subscription)."""
    first, second = await py_node(redis_server.url), await py_node(redis_server.url)
    for node in (first, second):
        server = node.server
        server.on(
            "connect",
            lambda socket, auth, server=server: server.presence.track(socket, auth["user"]),
        )
    tabs = [await connect(first.url, "sam"), await connect(second.url, "ana")]

    async def both_count(users: list[str]) -> bool:
        return all(node.server.presence.online() == users for node in (first, second))

    try:
        await until(lambda: both_count(["ana", "sam"]), "both nodes see sam and ana")
        generations = first.adapter.generation, second.adapter.generation
        await redis_server.restart()
        await asyncio.wait_for(first.adapter.ready(after=generations[0]), STEP_LIMIT)
        await asyncio.wait_for(second.adapter.ready(after=generations[1]), STEP_LIMIT)
        client = aioredis.Redis.from_url(redis_server.url)
        try:

            async def in_redis() -> bool:
                users = await client.hgetall("socket.io#presence#/#users")
                return users == {b"ana": b"1", b"sam": b"1"}

            await until(in_redis, "Redis counts sam and ana again, once each")
            # Garbage on the presence channel is dropped; the nodes go on.
            for junk in (b"\x00\xff", b"[1,2]", b'["/", "x", "online", "eve", 0]'):
                await client.publish("socket.io#presence", junk)
        finally:
            await client.aclose()
        await until(lambda: both_count(["ana", "sam"]), "both nodes read them again")
        await tabs[0].disconnect()
        await until(lambda: both_count(["ana"]), "sam offline on both nodes")
    finally:
        for tab in tabs:
            await tab.disconnect()


def test_presence_expiry_must_be_positive() -> None:
    with pytest.raises(ValueError, match="presence_expiry"):
        realtime.RedisAdapter(presence_expiry=0)
