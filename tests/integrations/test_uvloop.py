"""The server on uvloop, whose transports are not asyncio's classes: the
WebSocket hand-over, the frame path and polling must work there too, behind
the front door (``realtime.run``'s default loop) and mounted on aiohttp."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio
import uvloop
from aiohttp import web

import realtime
from realtime.integrations.aiohttp import FrontDoorSite, new_event_loop


async def _scenario(host: str) -> list[Any]:
    sio = realtime.Server()

    @sio.on("echo")
    def echo(socket: realtime.Socket, data: Any) -> Any:
        return data

    @sio.on("later")
    async def later(socket: realtime.Socket, data: Any) -> Any:
        await asyncio.sleep(0.01)  # suspends: runs in a task on uvloop's loop
        return ["later", data]

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = (FrontDoorSite if host == "door" else web.TCPSite)(runner, "127.0.0.1", 0)
    await site.start()
    port = site.port
    answers: list[Any] = []
    try:
        for transports in (["websocket"], ["polling"], ["polling", "websocket"]):
            client = socketio.AsyncClient(reconnection=False)
            await client.connect(f"http://127.0.0.1:{port}", transports=transports)
            answers.append(await client.call("echo", {"via": transports}, timeout=5))
            answers.append(await client.call("later", len(transports), timeout=5))
            await client.disconnect()
    finally:
        await runner.cleanup()
    return answers


@pytest.mark.parametrize("host", ["door", "aiohttp"])
def test_websocket_polling_and_upgrade_on_uvloop(host: str) -> None:
    loop = uvloop.new_event_loop()
    try:
        answers = loop.run_until_complete(_scenario(host))
    finally:
        loop.close()
    assert answers == [
        {"via": ["websocket"]},
        ["later", 1],
        {"via": ["polling"]},
        ["later", 1],
        {"via": ["polling", "websocket"]},
        ["later", 2],
    ]


def test_new_event_loop_kinds() -> None:
    for kind, expected in (("auto", uvloop.Loop), ("uvloop", uvloop.Loop)):
        loop = new_event_loop(kind)
        assert isinstance(loop, expected)
        loop.close()
    loop = new_event_loop("asyncio")
    assert not isinstance(loop, uvloop.Loop) and isinstance(loop, asyncio.AbstractEventLoop)
    loop.close()
    with pytest.raises(ValueError, match="trio"):
        new_event_loop("trio")
