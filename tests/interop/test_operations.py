"""Server-wide operations against the official clients (socket.io-client 4.x
and 2.x under Node), over polling and over WebSocket: the scenarios are in
``ops_client.js``, the server side in ``ops_app.py``. Every check is a test
of its own, ``test_ops_check[sioc4-websocket-broadcast_call]``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from aiohttp import web

import realtime

from .harness import ClientRun, assert_complete, assert_passed, node_runs, served
from .ops_app import build_ops_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHECKS = (
    "fetch_sockets",
    "remote_socket_emit",
    "operator_join_leave",
    "broadcast_call",
    "broadcast_callback",
    "broadcast_call_timeout",
    "socket_emit_timeout",
    "server_side_emit",
    "volatile_and_local",
    "disconnect_sockets_and_disconnecting",
    "client_disconnect_reason",
)
CLIENTS = ("4", "2")
MODES = ("polling", "websocket")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ops_url() -> AsyncIterator[str]:
    app = web.Application()
    realtime.attach(build_ops_server(), app)
    async with served(app) as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ops_run(ops_url: str) -> Callable[[str, str], Awaitable[ClientRun]]:
    return node_runs("ops_client.js", ops_url)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("client", CLIENTS)
async def test_ops_run_reports_every_check(
    client: str, mode: str, ops_run: Callable[[str, str], Awaitable[ClientRun]]
) -> None:
    assert_complete(await ops_run(client, mode), CHECKS)


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("client", CLIENTS)
async def test_ops_check(
    client: str, mode: str, check: str, ops_run: Callable[[str, str], Awaitable[ClientRun]]
) -> None:
    assert_passed(await ops_run(client, mode), check)
