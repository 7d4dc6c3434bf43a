"""Refusals against the official clients (socket.io-client 4.x and 2.x under
Node), over polling and over WebSocket: ``allow_request`` and a refused
Origin answer 403, a payload nested past ``max_depth`` closes only its own
connection, and dynamic namespaces are bounded server-wide and removed with
their last socket. The scenarios are in ``refusals_client.js``, the server
in ``refusals_app.py``; every check is a test of its own,
``test_refusals_check[sioc4-websocket-origin_refused]``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from aiohttp import web

import realtime

from .harness import ClientRun, assert_complete, assert_passed, node_runs, served
from .refusals_app import build_refusals_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHECKS = (
    "allow_request_refuses",
    "origin_refused",
    "allow_request_admits",
    "nesting_within_max_depth_echoes",
    "nesting_past_max_depth_closes_only_that_connection",
    "dynamic_namespaces_are_bounded",
    "dynamic_namespace_goes_with_its_last_socket",
)
CLIENTS = ("4", "2")
MODES = ("polling", "websocket")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def refusals_url() -> AsyncIterator[str]:
    app = web.Application()
    realtime.attach(build_refusals_server(), app)
    async with served(app) as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def refusals_run(refusals_url: str) -> Callable[[str, str], Awaitable[ClientRun]]:
    return node_runs("refusals_client.js", refusals_url)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("client", CLIENTS)
async def test_refusals_run_reports_every_check(
    client: str, mode: str, refusals_run: Callable[[str, str], Awaitable[ClientRun]]
) -> None:
    assert_complete(await refusals_run(client, mode), CHECKS)


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("client", CLIENTS)
async def test_refusals_check(
    client: str, mode: str, check: str, refusals_run: Callable[[str, str], Awaitable[ClientRun]]
) -> None:
    assert_passed(await refusals_run(client, mode), check)
