"""``max_sessions`` on the Redis adapter: past it, the session waiting
longest is dropped cluster-wide, and the namespace's index of sessions goes
with its last session. Sockets of our own server (in-memory connections)
drop and come back; what is kept is read in a real redis-server. No step
waits for a time: each polls Redis for what it caused, within STEP_LIMIT."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from helpers_sio import FakeConnection, connect, make_server
from services import RedisServer

import realtime
from realtime.server import Server

from .harness import STEP_LIMIT

SESSION = "socket.io#session#/#"
INDEX = "socket.io#sessions#/"


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def serve(
    redis_server: RedisServer,
) -> AsyncIterator[Callable[..., Awaitable[tuple[Server, realtime.RedisAdapter]]]]:
    """``await serve(options)``: a server on a RedisAdapter, subscribed."""
    adapters: list[realtime.RedisAdapter] = []

    async def start(
        options: realtime.ConnectionStateRecovery | None = None,
    ) -> tuple[Server, realtime.RedisAdapter]:
        adapter = realtime.RedisAdapter(redis_server.url)
        adapters.append(adapter)
        sio, _ = make_server(adapter=adapter, connection_state_recovery=options or False)
        await asyncio.wait_for(adapter.ready(), STEP_LIMIT)
        return sio, adapter

    yield start
    for adapter in adapters:
        await adapter.aclose()


def _answer(conn: FakeConnection) -> dict[str, Any] | None:
    """The CONNECT answer among what ``conn`` got so far, if it came."""
    for item in conn.outbox:
        data = item if isinstance(item, (str, bytes)) else item.data
        if isinstance(data, str) and data.startswith("0"):
            parsed: dict[str, Any] = json.loads(data[data.index("{") :])
            return parsed
    return None


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll ``check`` until it holds; a hang guard, not a timing check."""

    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), STEP_LIMIT)


async def drop_one(sio: Server, redis: aioredis.Redis) -> tuple[str, str]:
    """A socket that connects and loses its transport: its (sid, pid), once
    Redis holds its session."""
    conn = connect(sio)
    answer = _answer(conn)
    assert answer is not None
    sid, pid = str(answer["sid"]), str(answer["pid"])
    conn.lost("transport close")

    async def kept() -> bool:
        return bool(await redis.exists(SESSION + pid))

    await until(kept)
    return sid, pid


async def come_back(sio: Server, sid: str, pid: str) -> bool:
    """Whether the client of ``pid`` gets its socket ``sid`` back."""
    conn = connect(sio, auth={"pid": pid})

    async def answered() -> bool:
        return _answer(conn) is not None

    await until(answered)
    answer = _answer(conn)
    assert answer is not None
    return answer.get("pid") == pid and answer["sid"] == sid


async def sessions_held(redis: aioredis.Redis) -> list[str]:
    return sorted([key.decode()[len(SESSION) :] async for key in redis.scan_iter(SESSION + "*")])


async def test_past_max_sessions_the_one_waiting_longest_is_dropped_in_redis(
    serve: Callable[..., Awaitable[tuple[Server, realtime.RedisAdapter]]],
    redis: aioredis.Redis,
) -> None:
    sio, _ = await serve(realtime.ConnectionStateRecovery(max_sessions=2))
    # One after another: each persisted once Redis holds the one before.
    dropped = [await drop_one(sio, redis) for _ in range(3)]
    pids = [pid for _, pid in dropped]
    assert await sessions_held(redis) == sorted(pids[1:])
    assert await redis.zrange(INDEX, 0, -1) == [pid.encode() for pid in pids[1:]]
    recovered = [await come_back(sio, sid, pid) for sid, pid in dropped]
    assert recovered == [False, True, True]
    assert await sessions_held(redis) == []
    assert await redis.exists(INDEX) == 0  # restoring took the pids out of it


async def test_the_index_of_sessions_expires_with_the_last_session(
    serve: Callable[..., Awaitable[tuple[Server, realtime.RedisAdapter]]],
    redis: aioredis.Redis,
) -> None:
    # A window the two sessions are read well inside, however loaded the
    # machine (they are read within milliseconds of being kept); the waits
    # below are for Redis's own expiry.
    options = realtime.ConnectionStateRecovery(max_disconnection_duration=3.0, max_sessions=2)
    sio, _ = await serve(options)
    pids = [(await drop_one(sio, redis))[1] for _ in range(2)]
    pipe = redis.pipeline(transaction=True)
    pipe.exists(*(SESSION + pid for pid in pids))
    pipe.zcard(INDEX)
    pipe.pttl(INDEX)
    pipe.pttl(SESSION + pids[-1])
    held, indexed, ttl, newest = await pipe.execute()
    assert (held, indexed) == (2, 2)
    assert newest <= ttl <= 3000  # as long as the last session's, the window: not for ever

    async def sessions_gone() -> bool:
        return await redis.exists(*(SESSION + pid for pid in pids)) == 0

    async def index_gone() -> bool:
        return await redis.exists(INDEX) == 0

    await until(sessions_gone)
    await until(index_gone)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "alone"])
async def test_a_command_redis_refuses_does_not_hold_up_what_follows_it(
    serve: Callable[..., Awaitable[tuple[Server, realtime.RedisAdapter]]],
    redis: aioredis.Redis,
    caplog: pytest.LogCaptureFixture,
    batched: bool,
) -> None:
    """A script's error (a bug, a key of another type) is that command's
    answer: the publishes queued with it, or after it, still reach Redis,
    and the writer takes no outage for it."""
    caplog.set_level(logging.DEBUG, logger="realtime")
    _, adapter = await serve()
    listener = redis.pubsub()
    await listener.subscribe("probe")
    try:
        reached: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        adapter.command("EVAL", "return redis.error_reply('refused')", 0)
        if not batched:

            async def taken() -> bool:
                return bool(adapter.pending_publishes == 0)  # the writer sends it on its own

            await until(taken)
        adapter.publish("probe", b"after", reached.set_result)
        assert await asyncio.wait_for(reached, STEP_LIMIT) == 1
        assert adapter.unpublished == 0 and adapter.publishing
    finally:
        await listener.aclose()
    assert any("Redis refused a command" in r.getMessage() for r in caplog.records)
