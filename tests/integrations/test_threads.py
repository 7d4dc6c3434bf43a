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
TICKER: dict[str, Any] = {}
TICKED = threading.Event()


def build_server() -> realtime.Server:
    sio = realtime.Server(ping_interval=60, ping_timeout=60)

    def job(socket: realtime.Socket, ticked_here: bool) -> None:
        sid = socket.id
        assert threading.get_ident() != LOOP_THREAD["id"]
        sio.emit("from-thread", "server", to=sid)
        sio.to(sid).emit("from-thread", "operator")
        socket.emit("from-thread", "socket")
        emitted = threading.Event()

        def background() -> None:  # a plain function: a thread of its own
            socket.emit("from-thread", "background")
            emitted.set()

        sio.start_background_task(background)
        sio.sleep(0.01)  # a thread's sleep waits right here
        promise = sio.call("question", "2+2", to=sid, timeout=15)
        assert isinstance(promise, ThreadPromise)
        replies = promise.result(15)
        # What other threads hand over reaches the loop before this thread's next calls:
        assert emitted.wait(15)
        if ticked_here:
            assert TICKED.wait(15)
        socket.join("lobby")  # handed over in order: the next emit finds it in the room
        sio.emit("from-thread", "room", to="lobby")
        sio.emit("answer", replies, to=sid)
        socket.disconnect()

    def ticker() -> None:
        # A plain function started before the server runs: it gets a thread of
        # its own, where sio.sleep waits (on the loop it would never yield).
        while "sid" not in TICKER:
            sio.sleep(0.01)
        sio.emit("from-thread", "ticker", to=TICKER.pop("sid"))
        TICKED.set()  # after its emit was handed over: what the job hands over next comes later

    sio.start_background_task(ticker)

    @sio.on("start")
    def start(socket: realtime.Socket) -> None:
        LOOP_THREAD["id"] = threading.get_ident()
        ticked_here = not TICKER.get("used")  # one ticker for the module: the first test's
        if ticked_here:
            TICKER.update(sid=socket.id, used=True)
        threading.Thread(target=job, args=(socket, ticked_here), daemon=True).start()

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
    vias = sorted(line["via"] for line in lines if "via" in line and line["via"] != "ticker")
    assert vias == ["background", "operator", "room", "server", "socket"], lines
    if transport == "websocket":  # the module's first test
        assert {"via": "ticker"} in lines, lines
    assert lines[-2:] == [{"answer": [4]}, {"disconnect": "io server disconnect"}], lines
    assert client.returncode == 0
