"""Calls from another thread: a plain thread's emits, calls and background
tasks reach a real socket.io-client 4.x on the embedded server. The loop
sleeps meanwhile (the heartbeat is a minute away), so an emit that did not
wake it would never arrive while the client waits."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from interop.harness import served

import realtime
from realtime.crossing import ThreadPromise

HERE = Path(__file__).parent
LOOP_THREAD: dict[str, int] = {}


def build_server() -> realtime.Server:
    sio = realtime.Server(ping_interval=60, ping_timeout=60)

    def job(socket: realtime.Socket) -> None:
        sid = socket.id
        assert threading.get_ident() != LOOP_THREAD["id"]
        sio.emit("from-thread", "server", to=sid)
        sio.to(sid).emit("from-thread", "operator")
        socket.emit("from-thread", "socket")
        sio.start_background_task(socket.emit, "from-thread", "background")
        sio.sleep(0.01)  # a thread's sleep waits right here
        promise = sio.call("question", "2+2", to=sid, timeout=15)
        assert isinstance(promise, ThreadPromise)
        replies = promise.result(15)
        socket.join("lobby")  # handed over in order: the next emit finds it in the room
        sio.emit("from-thread", "room", to="lobby")
        sio.emit("answer", replies, to=sid)
        socket.disconnect()

    @sio.on("start")
    def start(socket: realtime.Socket) -> None:
        LOOP_THREAD["id"] = threading.get_ident()
        threading.Thread(target=job, args=(socket,), daemon=True).start()

    return sio


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def url() -> AsyncIterator[str]:
    app = web.Application()
    build_server().attach(app)
    async with served(app) as address:
        yield address


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_a_plain_threads_emits_reach_the_client(url: str, transport: str) -> None:
    node_js = shutil.which("node")
    assert node_js is not None, "this test needs Node and socket.io-client 4.x"
    client = await asyncio.create_subprocess_exec(
        node_js,
        str(HERE / "thread_client.js"),
        "--url",
        url,
        "--transport",
        transport,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(client.communicate(), 30)
    lines: list[dict[str, Any]] = [json.loads(line) for line in out.splitlines()]
    vias = sorted(line["via"] for line in lines if "via" in line)
    assert vias == ["background", "operator", "room", "server", "socket"], lines
    assert lines[-2:] == [{"answer": [4]}, {"disconnect": "io server disconnect"}], lines
    assert client.returncode == 0
