"""Hooks against the official clients (socket.io-client 4.x and 2.x under
Node), over polling and over WebSocket: catch-all listeners both ways,
``@sio.event`` and a ``socket.use`` middleware. The scenarios are in
``hooks_client.js``, the server in ``hooks_app.py``; every check is a test of
its own, ``test_hooks_check[sioc4-websocket-middleware_refuses]``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from aiohttp import web

import realtime

from .harness import ClientRun, assert_complete, assert_passed, node_runs, served
from .hooks_app import build_hooks_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHECKS = (
    "event_by_name",
    "on_any_incoming",
    "on_any_outgoing",
    "middleware_changes_arguments",
    "middleware_refuses",
)
CLIENTS = ("4", "2")
MODES = ("polling", "websocket")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hooks_run() -> AsyncIterator[Callable[[str, str], Awaitable[ClientRun]]]:
    app = web.Application()
    realtime.attach(build_hooks_server(), app)
    async with served(app) as url:
        yield node_runs("hooks_client.js", url)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("client", CLIENTS)
async def test_hooks_run_reports_every_check(
    client: str, mode: str, hooks_run: Callable[[str, str], Awaitable[ClientRun]]
) -> None:
    assert_complete(await hooks_run(client, mode), CHECKS)


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("client", CLIENTS)
async def test_hooks_check(
    client: str, mode: str, check: str, hooks_run: Callable[[str, str], Awaitable[ClientRun]]
) -> None:
    assert_passed(await hooks_run(client, mode), check)
