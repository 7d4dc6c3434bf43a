"""realtime.WSGIApp: Flask on eventlet's WSGI server, plain ``def`` handlers,
with python-socketio's client on each transport (the server runs in its own
process: eventlet and asyncio do not share one)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

APP = Path(__file__).with_name("eventlet_app.py")
BOUND = 10.0  # a hang guard only: every wait below ends on an event


@pytest.fixture
async def url() -> AsyncIterator[str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(APP),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), BOUND)
    if not line.strip().isdigit():
        proc.kill()
        _, err = await proc.communicate()
        pytest.fail(f"the eventlet app did not start: {err.decode(errors='replace')}")
    try:
        yield f"http://127.0.0.1:{int(line)}"
    finally:
        proc.kill()
        await proc.wait()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


@pytest.mark.parametrize(
    ("transports", "expected"),
    [
        (["polling"], "polling"),
        (["websocket"], "websocket"),
        (["polling", "websocket"], "websocket"),
    ],
)
async def test_def_handlers_on_eventlet(url: str, transports: list[str], expected: str) -> None:
    client = socketio.AsyncClient(reconnection=False)
    news: asyncio.Queue[Any] = asyncio.Queue()
    slow_done: asyncio.Queue[Any] = asyncio.Queue()
    client.on("news", news.put_nowait)
    client.on("slow_done", slow_done.put_nowait)
    client.on("question", lambda n: n * 2)
    await client.connect(url, transports=transports, wait_timeout=BOUND)
    try:
        await asyncio.wait_for(upgraded(client, expected), BOUND)
        echo = await client.call("echo", {"n": 1}, timeout=BOUND)
        assert echo == {"echo": {"n": 1}, "transport": expected}
        # a handler that blocks its green thread, then emits and answers
        assert await client.call("slow", 3, timeout=BOUND) == 3
        assert await asyncio.wait_for(slow_done.get(), BOUND) == 3
        # the server asks the client and waits for its ack in a def handler
        assert await client.call("ask_me", timeout=BOUND) == {"reply": 42}
        # an emit from a Flask view reaches the client; other paths are Flask's
        assert await get(url + "/broadcast/hi") == (200, "sent")
        assert await asyncio.wait_for(news.get(), BOUND) == "hi"
        # and so do the emits of a plain OS thread, and its background task
        assert await get(url + "/from-thread/yo") == (200, "started")
        assert await asyncio.wait_for(news.get(), BOUND) == "yo"
        assert await asyncio.wait_for(news.get(), BOUND) == "yo again"
        assert await get(url + "/hello") == (200, "hello from flask")
    finally:
        await client.disconnect()


async def upgraded(client: socketio.AsyncClient, transport: str) -> None:
    while client.transport() != transport:
        await asyncio.sleep(0.01)


async def test_engine_answers_its_own_errors(url: str) -> None:
    status, body = await get(url + "/socket.io/?EIO=4&transport=carrier-pigeon")
    assert status == 400 and "Transport unknown" in body
    status, body = await get(url + "/socket.io/realtime.min.js")
    assert status == 200 and "io" in body
