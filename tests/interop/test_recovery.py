"""Connection state recovery against the official clients under Node, over
polling and over WebSocket: socket.io-client 4.x gets its socket back with
what it missed (``recovered_with_missed_events`` and the rest), 2.x (Engine.IO
3 / Socket.IO 4, whose protocol has no recovery) a fresh socket. The
scenarios are in ``recovery_client.js``, the servers in ``recovery_app.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from aiohttp import web

import realtime

from .harness import ClientRun, assert_complete, assert_passed, node_runs, served
from .recovery_app import build_recovery_servers

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHECKS = {
    "4": (
        "recovered_with_missed_events",
        "rooms_and_data_restored",
        "recovered_twice",
        "over_the_cap_gets_a_fresh_socket",
    ),
    "2": ("no_recovery_on_socket_io_4",),
}
MODES = ("polling", "websocket")
CASES = [(client, check) for client, names in CHECKS.items() for check in names]

Run = Callable[[str, str], Awaitable[ClientRun]]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def recovery_url() -> AsyncIterator[str]:
    app = web.Application()
    for sio in build_recovery_servers():
        realtime.attach(sio, app)
    async with served(app) as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def recovery_run(recovery_url: str) -> Run:
    return node_runs("recovery_client.js", recovery_url)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("client", sorted(CHECKS))
async def test_recovery_run_reports_every_check(client: str, mode: str, recovery_run: Run) -> None:
    assert_complete(await recovery_run(client, mode), CHECKS[client])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("client", "check"), CASES)
async def test_recovery_check(client: str, check: str, mode: str, recovery_run: Run) -> None:
    assert_passed(await recovery_run(client, mode), check)
