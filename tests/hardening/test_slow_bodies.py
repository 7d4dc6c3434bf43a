"""Request bodies that arrive too slowly, or never: every read has a deadline.

A chunked body is not read by the front door: the connection is handed to
aiohttp, whose request reaches the engine through the aiohttp integration.
Both there and on a plain aiohttp site, a body trickled in one chunk at a
time is answered with 408 and the connection closed once ``body_timeout``
has passed, and a client hanging up mid-body leaves no error in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

import realtime
from realtime.integrations.aiohttp import FrontDoorSite

Start = Callable[[str], Awaitable[int]]


@pytest.fixture
async def serve() -> AsyncIterator[Start]:
    """Starts an echo engine with a short ``body_timeout`` behind the front
    door (``"door"``) or on a plain aiohttp site (``"aiohttp"``); the port."""
    runners: list[tuple[web.AppRunner, web.TCPSite]] = []

    async def start(kind: str) -> int:
        engine = realtime.Engine(path="/socket.io")

        @engine.on("message")
        def echo(conn: Any, data: Any) -> None:
            conn.send(data)

        app = web.Application()
        realtime.attach(engine, app, body_timeout=0.5)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        site: web.TCPSite = (
            FrontDoorSite(runner, "127.0.0.1", 0, keepalive_timeout=0.5)
            if kind == "door"
            else web.TCPSite(runner, "127.0.0.1", 0)
        )
        await site.start()
        runners.append((runner, site))
        return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    yield start
    for runner, site in runners:
        await runner.cleanup()
        if isinstance(site, FrontDoorSite):
            site.close_all()


async def _request(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode() + body)
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return int(answer.split(b" ", 2)[1]), answer.partition(b"\r\n\r\n")[2]


async def _open_session(port: int) -> str:
    status, body = await _request(
        port,
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    assert status == 200
    sid: str = json.loads(body[1:])["sid"]
    return sid


def _chunked_head(sid: str) -> bytes:
    return (
        f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
        "Host: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()


@pytest.mark.parametrize("kind", ["door", "aiohttp"])
@pytest.mark.parametrize("known_sid", [True, False])
async def test_a_trickled_chunked_body_is_cut_off(serve: Start, kind: str, known_sid: bool) -> None:
    port = await serve(kind)
    sid = await _open_session(port) if known_sid else "unknown"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(_chunked_head(sid))

    async def trickle() -> None:
        # One byte-sized chunk every 50 ms for up to 20 s: endless, as far as
        # the 0.5 s deadline is concerned.
        for _ in range(400):
            writer.write(b"1\r\n4\r\n")
            await asyncio.sleep(0.05)
        raise AssertionError("still being read after 20 s")

    dripping = asyncio.ensure_future(trickle())
    answer = b""
    try:
        async with asyncio.timeout(15):
            while chunk := await reader.read(65536):
                answer += chunk
    except ConnectionResetError:
        pass  # closed with our chunks unread: the 408 may be lost to the reset
    finally:
        dripping.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await dripping
        writer.close()
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")
    # The reads above ended: the server closed the connection, and it still
    # serves everyone else.
    assert (await _open_session(port)) != sid


@pytest.mark.parametrize("kind", ["door", "aiohttp"])
async def test_a_client_hanging_up_mid_body_logs_no_error(
    serve: Start, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = await serve(kind)
    sid = await _open_session(port)
    caplog.set_level(logging.ERROR)
    for _ in range(3):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_chunked_head(sid) + b"5\r\n4ab")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.transport.abort()
    # A round trip on a fresh connection lets the server handle the losses.
    await _open_session(port)
    await asyncio.sleep(0.1)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
