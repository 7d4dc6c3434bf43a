"""What the log says: at DEBUG the whole life of a connection (never a
payload), with ``log_connections`` one INFO line per connection, and every
refusal names what refused it and the option that decides."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio
from services import front_door

import realtime


@pytest.fixture
async def served() -> AsyncIterator[tuple[realtime.Server, int]]:
    sio = realtime.Server(cors_allowed_origins=["https://app.example"], log_connections=True)

    @sio.on("hello")
    def hello(socket: realtime.Socket, data: Any) -> str:
        return "hi"

    runner, port = await front_door(sio)
    try:
        yield sio, port
    finally:
        await runner.cleanup()


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("realtime")]


async def until_logged(caplog: pytest.LogCaptureFixture, text: str) -> None:
    for _ in range(200):
        if any(text in message for _, message in lines(caplog)):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never logged: {text!r}")


async def test_debug_tells_a_connection_s_whole_life_without_its_payloads(
    served: tuple[realtime.Server, int], caplog: pytest.LogCaptureFixture
) -> None:
    _, port = served
    caplog.set_level(logging.DEBUG, logger="realtime")
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
    sid = client.get_sid()
    assert await client.call("hello", {"secret": "hunter2"}, timeout=5) == "hi"
    await client.disconnect()
    await until_logged(caplog, "left /")
    text = "\n".join(message for _, message in lines(caplog))
    assert "open, EIO4 websocket from 127.0.0.1" in text
    assert f"socket {sid} connected to /" in text
    assert "event 'hello' on /, 1 argument(s), ack 1 asked" in text
    assert f"socket {sid} left /: " in text  # the reason: whichever of its goodbyes came first
    assert "hunter2" not in text


async def test_log_connections_gives_one_info_line_per_connection(
    served: tuple[realtime.Server, int], caplog: pytest.LogCaptureFixture
) -> None:
    _, port = served
    caplog.set_level(logging.INFO, logger="realtime")
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(f"http://127.0.0.1:{port}", transports=["polling"])
    await client.disconnect()
    await until_logged(caplog, "closed:")
    closing = [m for level, m in lines(caplog) if "closed:" in m and level == logging.INFO]
    assert len(closing) == 1
    assert " EIO4 polling from 127.0.0.1, " in closing[0]
    assert closing[0].endswith("closed: transport close")


async def test_refusals_name_the_origin_and_the_deciding_option(
    served: tuple[realtime.Server, int], caplog: pytest.LogCaptureFixture
) -> None:
    _, port = served
    caplog.set_level(logging.DEBUG, logger="realtime")
    url = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        for origin in ("https://evil-one.example", "https://evil-two.example"):
            async with http.get(url, headers={"Origin": origin}) as resp:
                assert resp.status in (400, 403)
        async with http.get(url + "&sid=gone-already") as resp:
            assert resp.status == 400
        async with http.get(url.replace("polling", "pigeon")) as resp:
            assert resp.status == 400
    logged = lines(caplog)
    for origin in ("https://evil-one.example", "https://evil-two.example"):
        (line,) = [m for _, m in logged if origin in m]
        assert "cors_allowed_origins=['https://app.example']" in line
    unknown = [(level, m) for level, m in logged if "gone-already" in m]
    assert unknown and all(level == logging.DEBUG for level, _ in unknown)
    assert any("transports=('polling', 'websocket')" in m for _, m in logged)
