"""Hooks against the official clients (socket.io-client 4.x and 2.x under
Node, python-socketio's AsyncClient), over polling and over WebSocket:
catch-all listeners both ways, ``@sio.event`` and a ``socket.use``
middleware. The Node scenarios are in ``hooks_client.js``, the server in
``hooks_app.py``; every Node check is a test of its own,
``test_hooks_check[sioc4-websocket-middleware_refuses]``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
import socketio  # type: ignore[import-untyped]
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
async def hooks_url() -> AsyncIterator[str]:
    app = web.Application()
    realtime.attach(build_hooks_server(), app)
    async with served(app) as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hooks_run(hooks_url: str) -> Callable[[str, str], Awaitable[ClientRun]]:
    return node_runs("hooks_client.js", hooks_url)


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


@pytest.mark.parametrize("mode", MODES)
async def test_hooks_with_python_socketio(hooks_url: str, mode: str) -> None:
    step = 5.0  # liveness bound for one awaited reply, not a speed check
    client = socketio.AsyncClient(reconnection=False)
    events: asyncio.Queue[tuple[str, tuple[Any, ...]]] = asyncio.Queue()

    async def any_event(event: str, *args: Any) -> None:
        await events.put((event, args))

    client.on("*", any_event)
    await client.connect(hooks_url, transports=[mode], wait_timeout=step)
    try:
        assert await client.call("hk_named", 4, timeout=step) == 8
        await client.emit("hk_unhandled", {"n": 1})
        assert await client.call("hk_seen_incoming", timeout=step) == [
            ["hk_named", 4],
            ["hk_unhandled", {"n": 1}],
        ]
        assert await client.call("hk_send", f"py-{mode}", timeout=step) is True
        sent = await client.call("hk_seen_outgoing", timeout=step)
        assert sent == [["hk_direct", 1], ["hk_room", {"to": f"py-{mode}"}, "0102"]]
        assert await client.call("hk_checked", "y", timeout=step) == ["y", "checked"]
        answered: list[Any] = []
        await client.emit("hk_forbidden", callback=lambda *args: answered.append(args))
        # Events come in order: the refusal, after the direct and room events above.
        got = [await asyncio.wait_for(events.get(), step) for _ in range(3)]
        assert got == [
            ("hk_direct", (1,)),
            ("hk_room", ({"to": f"py-{mode}"}, b"\x01\x02")),
            ("hk_refused", ("not allowed", {"event": "hk_forbidden"})),
        ]
        assert await client.call("hk_named", 1, timeout=step) == 2
        assert answered == []  # the refused event's ack never came
    finally:
        await client.disconnect()
