"""The official Admin UI (@socket.io/admin-ui 0.5.1's prebuilt ui/dist, from
npm) in headless Chromium, watching a realtime server: it connects with a
session the server issued, and shows this server and its sockets."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

import realtime

UI = Path(__file__).parent / "adminui" / "node_modules" / "@socket.io" / "admin-ui" / "ui" / "dist"
DOCS = Path(__file__).parent.parent.parent / "docs"
AUTH = {"username": "admin", "password": "s3cret"}


async def _login(url: str) -> str:
    """A session id, as the UI's login form gets one."""
    client = socketio.AsyncClient(reconnection=False)
    sessions: list[str] = []
    client.on("session", lambda sid: sessions.append(sid), namespace="/admin")
    await client.connect(url, namespaces=["/admin"], auth=AUTH, transports=["websocket"])
    for _ in range(200):
        if sessions:
            break
        await asyncio.sleep(0.01)
    await client.disconnect()
    return sessions[0]


async def _visitor(url: str) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, transports=["polling"])
    return client


def test_the_official_admin_ui_shows_our_server_and_its_sockets(
    servers: Any, new_page: Any, tmp_path: Path
) -> None:
    assert (UI / "index.html").is_file(), "npm ci in tests/browser/adminui (make install-test)"
    sio = realtime.Server()
    sio.instrument(auth=AUTH, mode="development", server_id="realtime-node-1")
    app = web.Application()
    sio.attach(app)
    app.router.add_get("/", lambda request: web.FileResponse(UI / "index.html"))
    for folder in ("js", "css", "img"):
        app.router.add_static(f"/{folder}/", UI / folder)
    port = servers.start(app)
    url = f"http://127.0.0.1:{port}"
    session = servers.call(_login(url))
    visitor = servers.call(_visitor(url))
    try:
        page = new_page("about:blank")
        settings = {
            "server_url": url,
            "namespace": "/admin",
            "path": "/socket.io",
            "ws_only": "false",
            "session_id": session,
        }
        page.goto(url + "/")
        page.evaluate("s => { for (const k in s) localStorage.setItem(k, s[k]); }", settings)
        page.goto(url + "/#/servers/")
        page.reload()
        page.wait_for_selector("text=realtime-node-1", timeout=15_000)
        page.goto(url + "/#/sockets/")
        page.wait_for_selector(f"text={visitor.get_sid()}", timeout=15_000)
        page.set_viewport_size({"width": 1280, "height": 720})
        # docs/admin-ui.png is refreshed only when asked: a test run leaves
        # the checkout as it found it.
        shots = DOCS if os.environ.get("REALTIME_SCREENSHOTS") else tmp_path
        page.screenshot(path=str(shots / "admin-ui.png"))
        assert (shots / "admin-ui.png").stat().st_size > 10_000
    finally:
        servers.call(visitor.disconnect())
