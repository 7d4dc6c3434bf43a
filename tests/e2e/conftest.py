"""Serve an Engine or Server on a loopback port inside the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import realtime


class Running:
    def __init__(self, target: Any, runner: web.AppRunner, port: int) -> None:
        self.target = target
        self.runner = runner
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str = "/engine.io/", **query: str) -> str:
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.base}{path}?{qs}" if qs else f"{self.base}{path}"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Any], Any]]:
    runners: list[web.AppRunner] = []

    async def start(target: Any) -> Running:
        app = web.Application()
        realtime.attach(target, app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return Running(target, runner, port)

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
