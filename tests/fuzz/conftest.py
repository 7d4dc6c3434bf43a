"""Shared set-up of the hardening tests: a Hypothesis profile and a loopback server.

The ``fuzz`` profile is the default: no per-example deadline (the machine is
shared, so timing says nothing here), no example database left in the tree,
and few enough examples that the folder stays fast. ``HYPOTHESIS_PROFILE=deep``
runs many more for a longer hunt.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, settings

import realtime

settings.register_profile(
    "fuzz",
    deadline=None,
    database=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("deep", parent=settings.get_profile("fuzz"), max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fuzz"))


class Running:
    """A server listening on a random loopback port."""

    def __init__(self, target: Any, port: int) -> None:
        self.target = target
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str = "/socket.io/", **query: str) -> str:
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
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        return Running(target, server.sockets[0].getsockname()[1])

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
