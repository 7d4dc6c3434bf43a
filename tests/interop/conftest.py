"""Serve the interop app once per module and host; run each client once per
mode.

The app is served on each host: as ``realtime.run`` serves it (behind the
front door, the runtime's own HTTP/1.1) and as ``realtime.ASGIApp`` under
uvicorn, both on uvloop (the aiohttp-mounted path and asyncio's own loop
have the loopback suites), and as ``realtime.WSGIApp`` on eventlet's WSGI
server, on gevent's (monkey-patched) and on werkzeug's threaded one, each in a
process of its own.

A (client, mode) run is cached so that every check becomes a test of its own
without running the client again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
import uvloop

import realtime

from .app import build_app, build_server
from .harness import ClientRun, client_command, run_client, served, served_asgi, served_process


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    return {"uvloop": uvloop.new_event_loop}


HOSTS = ["front-door", "uvicorn", "eventlet", "gevent", "threads"]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=HOSTS)
async def interop_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "front-door":
        serving = served(build_app())
    elif request.param == "uvicorn":
        serving = served_asgi(realtime.ASGIApp(build_server()))
    else:
        serving = served_process(f"{request.param}_server.py")
    async with serving as url:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client_run(interop_url: str) -> Callable[[str, str], Awaitable[ClientRun]]:
    """``await client_run(client, mode)``: that pair's results, run once."""
    runs: dict[tuple[str, str], asyncio.Task[ClientRun]] = {}

    def get(client: str, mode: str) -> Awaitable[ClientRun]:
        key = (client, mode)
        if key not in runs:
            runs[key] = asyncio.ensure_future(run_client(client_command(client, mode, interop_url)))
        return runs[key]

    return get
