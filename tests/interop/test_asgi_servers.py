"""The ASGI host under hypercorn and granian: socket.io-client 4.x runs the
whole scenario list over polling, WebSocket and the upgrade (the other
clients run against uvicorn, tests/interop/test_interop.py). Each server
runs in a process of its own, as its command line starts it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from services import free_port, wait_until_serving

from .check_names import CHECKS
from .harness import assert_complete, assert_passed, client_command, run_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

TESTS = Path(__file__).parent.parent
APP = "interop.asgi_app:app"


def command(server: str, port: int) -> list[str]:
    if server == "hypercorn":
        return [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", APP]
    return [
        *(sys.executable, "-m", "granian", "--interface", "asgi", "--workers", "1"),
        *("--host", "127.0.0.1", "--port", str(port), "--no-log", APP),
    ]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["hypercorn", "granian"])
async def url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *command(request.param, port),
        cwd=TESTS,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_until_serving(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize("mode", ["polling", "websocket", "upgrade"])
async def test_socket_io_client_4(url: str, mode: str) -> None:
    run = await run_client(client_command("sioc4", mode, url))
    assert_complete(run, CHECKS)
    for check in CHECKS:
        assert_passed(run, check)
