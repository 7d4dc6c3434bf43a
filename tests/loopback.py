"""Serve an Engine or Server on a loopback port inside the test's event loop.

Shared by the end-to-end and the hardening tests; their conftests expose
``serve`` and ``http`` as fixtures. Every test using ``serve`` runs twice:
behind the front door (``realtime.run``'s own HTTP/1.1, the default) and
mounted on a plain aiohttp site (``realtime.attach`` in a user's app).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import realtime
from realtime.integrations.aiohttp import FrontDoorSite


class Running:
    """A server listening on a random loopback port."""

    def __init__(self, target: Any, port: int) -> None:
        self.target = target
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str | None = None, **query: str) -> str:
        """A URL on the server; the path defaults to the target's endpoint."""
        path = path if path is not None else self.target.engine.path + "/"
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.base}{path}?{qs}" if qs else f"{self.base}{path}"


@pytest.fixture(params=["door", "aiohttp"])
async def serve(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[Any], Any]]:
    runners: list[tuple[web.AppRunner, web.TCPSite]] = []

    async def start(target: Any) -> Running:
        app = web.Application()
        realtime.attach(target, app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        if request.param == "door":
            site: web.TCPSite = FrontDoorSite(runner, "127.0.0.1", 0)
        else:
            site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append((runner, site))
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        return Running(target, server.sockets[0].getsockname()[1])

    yield start
    for runner, site in runners:
        await runner.cleanup()
        if isinstance(site, FrontDoorSite):
            site.close_all()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
