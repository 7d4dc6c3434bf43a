"""``python -m realtime MODULE:ATTR``: serves, and shuts down cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from services import free_port

import realtime

HERE = Path(__file__).parent


async def wait_until_serving(port: int, proc: asyncio.subprocess.Process) -> None:
    for _ in range(100):
        if proc.returncode is not None:
            break
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError("server did not start")


@pytest.mark.parametrize(
    ("sig", "loop"),
    [(signal.SIGTERM, "auto"), (signal.SIGINT, "auto"), (signal.SIGTERM, "asyncio")],
)
async def test_cli_serves_and_stops_cleanly(sig: signal.Signals, loop: str) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "realtime",
        "echo_app:engine",
        "--port",
        str(port),
        "--loop",
        loop,
        cwd=HERE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_until_serving(port, proc)
        async with aiohttp.ClientSession() as http:
            url = f"ws://127.0.0.1:{port}/engine.io/?EIO=4&transport=websocket"
            async with http.ws_connect(url) as ws:
                assert (await ws.receive_str()).startswith("0{")
                await ws.send_str("4ping me")
                assert await ws.receive_str() == "4ping me"
                proc.send_signal(sig)
                # the client is told: the WebSocket closes (engine.io sends no
                # CLOSE packet on WebSocket either)
                msg = await ws.receive(timeout=5)
                assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        out, err = await asyncio.wait_for(proc.communicate(), 10)
        assert proc.returncode == 0, err.decode()
        assert b"Traceback" not in err and b"Traceback" not in out
        assert f"http://127.0.0.1:{port}".encode() in out
        # uvloop is a dependency here, so "auto" picks it; the banner names
        # a compiled build, which the child imports like this process does
        build = b", compiled" if realtime.COMPILED else b""
        assert (b"(uvloop" if loop == "auto" else b"(asyncio") + build + b";" in out
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_cli_reports_a_bad_target() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "realtime",
        "echo_app:nothing",
        cwd=HERE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode != 0
    assert b"has no attribute 'nothing'" in err and b"Traceback" not in err
