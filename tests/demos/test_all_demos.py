"""examples/app.py, what `make demo` serves: the index, every demo's page
and files on one server, and the chat's protocol as a client sees it."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web
from services import free_port, wait_until_serving

from realtime.integrations.aiohttp import FrontDoorSite

ROOT = Path(__file__).resolve().parents[2]


def demos() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))  # last: `realtime` comes from where the run says
    return importlib.import_module("examples.app")


async def test_every_page_and_the_chat_on_one_server() -> None:
    app: web.Application = demos().create_app()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = FrontDoorSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site.port}"
    try:
        await pages_serve(
            base,
            [
                ("/", 'href="/chat/"'),
                ("/", 'href="/webim/"'),
                ("/", 'href="/desk/"'),
                ("/desk/", "/desk/static/lobby.js"),
                ("/webim/", "/webim/static/webim.js"),
                ("/webim/static/webim.js", 'realtime.connect("/webim"'),
                ("/webim/static/page.js", "var page"),
                *CHAT_PAGES,
            ],
        )
        await chat_round_trip(base)
    finally:
        await runner.cleanup()
        site.close_all()


CHAT_PAGES = [
    ("/chat/", "/chat/static/chat.js"),
    ("/chat/static/page.js", "var page"),
    ("/chat/static/chat.js", 'realtime.connect("/chat"'),
    ("/chat/static/chat.css", "@media"),
    ("/socket.io/realtime.min.js", "realtime"),
]


async def pages_serve(base: str, pages: list[tuple[str, str]]) -> None:
    """Each path answers 200 with a body that holds what is expected of it."""
    async with aiohttp.ClientSession() as http:
        for path, expected in pages:
            async with http.get(base + path) as resp:
                assert resp.status == 200, path
                assert expected in await resp.text(), path


async def chat_round_trip(base: str) -> None:
    """The chat's protocol as a client sees it: an identity, a name, messages
    (bounded, blank ones refused), and a token that is the same person."""
    identities: list[dict[str, Any]] = []
    heard: list[dict[str, Any]] = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("identity", lambda data: identities.append(data), namespace="/chat")
    client.on("message", lambda data: heard.append(data), namespace="/chat")
    await client.connect(base, namespaces=["/chat"], transports=["websocket"])
    for _ in range(200):
        if identities:
            break
        await asyncio.sleep(0.01)
    (me,) = identities
    answer = await client.call("join", "Sam", namespace="/chat", timeout=5)
    assert answer["you"] == {"id": me["id"], "name": "Sam", "tag": me["tag"]}
    assert answer["count"] == 1
    assert await client.call("say", ("hello", "c1"), namespace="/chat", timeout=5) is True
    assert await client.call("say", "x" * 5000, namespace="/chat", timeout=5) is True
    assert await client.call("say", "   ", namespace="/chat", timeout=5) is False
    for _ in range(200):
        if len(heard) == 2:
            break
        await asyncio.sleep(0.01)
    assert heard[0]["text"] == "hello" and heard[0]["cid"] == "c1"
    assert len(heard[1]["text"]) == 1000  # bounded, to everyone alike
    await client.disconnect()

    # The same token is the same person; a forged one is a new person.
    again: list[dict[str, Any]] = []
    for seen, token in enumerate((me["token"], me["id"] + ".forged"), start=1):
        other = socketio.AsyncClient(reconnection=False)
        other.on("identity", lambda data: again.append(data), namespace="/chat")
        await other.connect(
            base, namespaces=["/chat"], auth={"token": token}, transports=["polling"]
        )
        for _ in range(200):
            if len(again) == seen:
                break
            await asyncio.sleep(0.01)
        await other.disconnect()
    assert again[0]["id"] == me["id"]
    assert again[1]["id"] != me["id"]


@pytest.mark.parametrize(
    "host", ["embedded", "uvicorn", "hypercorn", "eventlet", "gevent", "threads"]
)
async def test_the_chat_unchanged_on_each_host(host: str) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "examples.chat.hosts",
        host,
        str(port),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_serving(port, proc)
        await pages_serve(base, CHAT_PAGES)
        await chat_round_trip(base)
    finally:
        proc.terminate()
        await proc.wait()
