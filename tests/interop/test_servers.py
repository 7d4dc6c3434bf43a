"""The ASGI host under hypercorn and granian, and the WSGI host under
gunicorn's gthread and gevent workers: socket.io-client 4.x runs the whole
scenario list over polling, WebSocket and the upgrade (the other clients run
against uvicorn, eventlet, gevent.pywsgi and werkzeug,
tests/interop/test_interop.py). Each server runs in a process of its own, as
its command line starts it, and is stopped by its pid."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from services import free_port, wait_until_serving

from .check_names import CHECKS
from .harness import assert_complete, assert_passed, client_command, run_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

TESTS = Path(__file__).parent.parent
APP = "interop.asgi_app:app"
WSGI_APP = "interop.wsgi_app:app"
GUNICORN_RUNTIMES = {"gunicorn-gthread": "threads", "gunicorn-gevent": "gevent"}
"""The runtime WSGIApp's ``mode="auto"`` must pick under each gunicorn worker."""


def command(server: str, port: int) -> list[str]:
    if server == "hypercorn":
        return [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", APP]
    if server == "granian":
        return [
            *(sys.executable, "-m", "granian", "--interface", "asgi", "--workers", "1"),
            *("--host", "127.0.0.1", "--port", str(port), "--no-log", APP),
        ]
    # As docs/hosting.md says to run it: one worker (sessions live in its
    # memory); gthread with a thread for each parked poll and WebSocket.
    worker = server.removeprefix("gunicorn-")
    threads = ["--threads", "100"] if worker == "gthread" else []
    return [
        *(sys.executable, "-m", "gunicorn", "-k", worker, *threads, "--workers", "1"),
        *("--bind", f"127.0.0.1:{port}", "--graceful-timeout", "2", WSGI_APP),
    ]


@pytest_asyncio.fixture(
    scope="module", loop_scope="module", params=["hypercorn", "granian", *GUNICORN_RUNTIMES]
)
async def served(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, str]]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *command(request.param, port),
        cwd=TESTS,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_until_serving(port, proc)
        yield request.param, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize("mode", ["polling", "websocket", "upgrade"])
async def test_socket_io_client_4(served: tuple[str, str], mode: str) -> None:
    _, url = served
    run = await run_client(client_command("sioc4", mode, url))
    assert_complete(run, CHECKS)
    for check in CHECKS:
        assert_passed(run, check)


async def test_gunicorn_runs_the_runtime_of_its_worker(served: tuple[str, str]) -> None:
    server, url = served
    if server not in GUNICORN_RUNTIMES:
        pytest.skip("an ASGI server: one runtime, the server's loop")
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/socket.io/?EIO=4&transport=polling") as opened:
            assert opened.status == 200  # the first Socket.IO request starts the runtime
        async with http.get(url + "/which-runtime") as answer:
            assert await answer.text() == GUNICORN_RUNTIMES[server]
