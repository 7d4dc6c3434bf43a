"""Compression against socket.io-client 4.x under Node: permessage-deflate
with Node's ``ws``, and gzip of polling answers with the client's Fetch
transport (``compression_client.js``; the server is ``compression_app.py``).

Each host is run with ``per_message_deflate=True`` and with the default
(off): behind the front door (our own framing), on eventlet, on gevent and
on werkzeug's threads (realtime's framing) the option decides; uvicorn frames WebSockets
itself and agrees to ``ws``'s offer whatever the option says, which the last
test pins."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

import realtime

from .compression_app import build_compression_server
from .harness import (
    ClientRun,
    assert_complete,
    assert_passed,
    node_runs,
    served,
    served_asgi,
    served_process,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHECKS = ("connect", "big_echo", "small_echo", "big_from_server", "binary_echo", "coding")
MODES = ("polling", "websocket")
SERVERS = (
    "door-deflate",
    "door-default",
    "eventlet-deflate",
    "eventlet-default",
    "gevent-deflate",
    "gevent-default",
    "threads-deflate",
    "threads-default",
    "uvicorn-default",
)
Runs = Callable[[str, str], Awaitable[ClientRun]]


def _serving(name: str) -> AbstractAsyncContextManager[str]:
    host, _, setting = name.partition("-")
    deflate = setting == "deflate"
    options: dict[str, Any] = {"per_message_deflate": deflate}
    if host in ("eventlet", "gevent", "threads"):
        builder = "build_deflate_server" if deflate else "build_compression_server"
        return served_process(f"{host}_server.py", f"interop.compression_app:{builder}")
    if host == "uvicorn":
        return served_asgi(realtime.ASGIApp(build_compression_server(**options)))
    app = web.Application()
    realtime.attach(build_compression_server(**options), app)
    return served(app)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def runs() -> AsyncIterator[Callable[[str], Awaitable[Runs]]]:
    """``(await runs(server))(client, mode)``: each server started once."""
    started: dict[str, Runs] = {}
    stack: list[AbstractAsyncContextManager[str]] = []

    async def get(name: str) -> Runs:
        if name not in started:
            serving = _serving(name)
            url = await serving.__aenter__()
            stack.append(serving)
            started[name] = node_runs("compression_client.js", url)
        return started[name]

    yield get
    for serving in reversed(stack):
        await serving.__aexit__(None, None, None)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("server", SERVERS)
async def test_every_message_arrives(
    server: str, mode: str, runs: Callable[[str], Awaitable[Runs]]
) -> None:
    run = await (await runs(server))("4", mode)
    assert_complete(run, CHECKS)
    for check in CHECKS:
        assert_passed(run, check)


@pytest.mark.parametrize(
    ("server", "agreed"),
    [
        ("door-deflate", "permessage-deflate"),
        ("door-default", ""),
        ("eventlet-deflate", "permessage-deflate"),
        ("eventlet-default", ""),
        ("gevent-deflate", "permessage-deflate"),
        ("gevent-default", ""),
        ("threads-deflate", "permessage-deflate"),
        ("threads-default", ""),
        ("uvicorn-default", "permessage-deflate"),  # uvicorn's own choice
    ],
)
async def test_permessage_deflate_agreed(
    server: str, agreed: str, runs: Callable[[str], Awaitable[Runs]]
) -> None:
    run = await (await runs(server))("4", "websocket")
    assert_passed(run, "coding")
    assert run.checks["coding"]["detail"] == agreed


@pytest.mark.parametrize("server", SERVERS)
async def test_fetch_gets_gzipped_polling_answers(
    server: str, runs: Callable[[str], Awaitable[Runs]]
) -> None:
    run = await (await runs(server))("4", "polling")
    assert_passed(run, "coding")
    # the big answers gzipped, the small ones (the handshake, acks) not
    assert run.checks["coding"]["detail"] == ["gzip", "identity"]
