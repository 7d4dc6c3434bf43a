"""python-socketio's aiohttp example, ported (``example_app.py``), driven by
python-socketio's own client over polling and over WebSocket: what
docs/migrating.md promises, tried as a python-socketio user would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
import socketio  # type: ignore[import-untyped]

from . import example_app
from .harness import served

pytestmark = pytest.mark.asyncio(loop_scope="module")

STEP = 5.0  # liveness bound for one awaited event, not a speed check


class Client:
    """python-socketio's AsyncClient whose ``my_response`` events queue up."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.responses: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.gone: asyncio.Queue[Any] = asyncio.Queue()
        self.sio.on("my_response", self.responses.put)
        self.sio.on("disconnect", self.gone.put)

    async def response(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.responses.get(), STEP)

    async def nothing_pending(self) -> bool:
        """No response queued once a round trip has come back (the server
        handles one client's events in order, and answers in order)."""
        await self.sio.call("whoami", timeout=STEP)
        return self.responses.empty()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def url() -> AsyncIterator[str]:
    example_app.TICK = 0.05
    async with served(example_app.app) as url:
        yield url


@pytest_asyncio.fixture(loop_scope="module", params=["polling", "websocket"])
async def connect(
    url: str, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[[], Awaitable[Client]]]:
    clients: list[Client] = []

    async def open_client() -> Client:
        client = Client()
        await client.sio.connect(url, transports=[request.param], wait_timeout=STEP)
        clients.append(client)
        # The connect handler's greeting comes first; the server's ticks may follow.
        assert await client.response() == {"data": "Connected", "count": 0}
        return client

    yield open_client
    for client in clients:
        await client.sio.disconnect()


async def _skip_ticks(client: Client) -> dict[str, Any]:
    while True:
        response = await client.response()
        if response["data"] != "Server generated event":
            return response


async def test_my_event_answers_the_sender_only(connect: Callable[[], Awaitable[Client]]) -> None:
    a, b = await connect(), await connect()
    await a.sio.emit("my_event", {"data": "hello"})
    assert await _skip_ticks(a) == {"data": "hello"}
    await b.sio.call("whoami", timeout=STEP)
    assert all(r["data"] == "Server generated event" for r in _drain(b))


async def test_broadcast_reaches_everyone(connect: Callable[[], Awaitable[Client]]) -> None:
    a, b = await connect(), await connect()
    await a.sio.emit("my_broadcast_event", {"data": "to all"})
    assert await _skip_ticks(a) == {"data": "to all"}
    assert await _skip_ticks(b) == {"data": "to all"}


async def test_rooms_join_room_event_leave_and_close(
    connect: Callable[[], Awaitable[Client]],
) -> None:
    a, b, c = await connect(), await connect(), await connect()
    for client in (a, b):
        await client.sio.emit("join", {"room": "blue"})
        assert await _skip_ticks(client) == {"data": "Entered room: blue"}
    await a.sio.emit("my_room_event", {"room": "blue", "data": "psst"})
    assert await _skip_ticks(b) == {"data": "psst"}  # skip_sid: not back to a
    await a.sio.call("whoami", timeout=STEP)
    await c.sio.call("whoami", timeout=STEP)
    assert [r for r in _drain(a) + _drain(c) if r["data"] != "Server generated event"] == []
    await b.sio.emit("leave", {"room": "blue"})
    assert await _skip_ticks(b) == {"data": "Left room: blue"}
    await c.sio.emit("close_room", {"room": "blue"})
    assert await _skip_ticks(a) == {"data": "Room blue is closing."}
    await a.sio.emit("my_room_event", {"room": "blue", "data": "anyone?"})
    await a.sio.call("whoami", timeout=STEP)
    await b.sio.call("whoami", timeout=STEP)
    assert [r for r in _drain(a) + _drain(b) if r["data"] != "Server generated event"] == []


async def test_sessions_and_acks(connect: Callable[[], Awaitable[Client]]) -> None:
    a, b = await connect(), await connect()
    assert await a.sio.call("whoami", timeout=STEP) is None
    assert await a.sio.call("login", "ann", timeout=STEP) is True
    assert await b.sio.call("login", "bob", timeout=STEP) is True
    assert await a.sio.call("whoami", timeout=STEP) == "ann"
    assert await b.sio.call("whoami", timeout=STEP) == "bob"
    session = await example_app.sio.get_session(a.sio.get_sid())
    assert session == {"username": "ann", "asked": 1}  # login replaced the first session


async def test_disconnect_request(connect: Callable[[], Awaitable[Client]]) -> None:
    a = await connect()
    sid = a.sio.get_sid()
    await a.sio.emit("disconnect_request")
    reason = await asyncio.wait_for(a.gone.get(), STEP)
    assert reason == a.sio.reason.SERVER_DISCONNECT
    assert example_app.sio.get_socket(sid) is None


async def test_server_generated_events(connect: Callable[[], Awaitable[Client]]) -> None:
    a = await connect()
    counts = []
    while len(counts) < 2:
        response = await a.response()
        assert response["data"] == "Server generated event"
        counts.append(response["count"])
    assert counts[1] == counts[0] + 1


def _drain(client: Client) -> list[dict[str, Any]]:
    found = []
    while not client.responses.empty():
        found.append(client.responses.get_nowait())
    return found
