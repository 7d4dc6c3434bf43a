"""The server the browser tests talk to: a fresh realtime.Server per start,
with handlers that echo, answer acks, exercise binary and namespaces."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

import realtime

LEGACY_PAGE = Path(__file__).with_name("legacy_page.html").read_text(encoding="utf-8")
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>realtime browser test</title>
<script src="{script}"></script></head>
<body><p id="status">loaded</p></body></html>
"""


def create_app(allowed_origins: Sequence[str] = (), **options: Any) -> web.Application:
    # None lets only the page's own origin in; the tests add a second origin
    # to serve the page cross-origin. ``options`` go to the Server.
    sio = realtime.Server(
        cors_allowed_origins=list(allowed_origins) or None,
        ping_interval=5,
        ping_timeout=5,
        **options,
    )

    @sio.on("connect")
    def on_connect(socket: realtime.Socket, auth: Any) -> None:
        socket.data["auth"] = auth
        socket.emit("welcome", {"id": socket.id, "auth": auth})

    @sio.on("echo")
    def echo(socket: realtime.Socket, *args: Any) -> tuple[Any, ...]:
        socket.emit("echoed", *args)
        return args

    @sio.on("byte-sum")
    def byte_sum(socket: realtime.Socket, data: bytes) -> tuple[int, bytes]:
        return sum(data), bytes(reversed(data))

    @sio.on("ask-client")
    async def ask_client(socket: realtime.Socket, question: str) -> Any:
        return await socket.call("question", question, timeout=5)

    @sio.on("kick-me")
    def kick_me(socket: realtime.Socket) -> None:
        socket.disconnect()

    @sio.on("text-length")
    def text_length(socket: realtime.Socket, text: str) -> int:
        # What the server received, in code points: a round trip alone can
        # hide a client's encoding layer that undoes itself on the way back.
        return len(text)

    @sio.on("handshake-query")
    def handshake_query(socket: realtime.Socket, name: str) -> str | None:
        return socket.handshake.query.get(name)

    @sio.on("drop-me")
    def drop_me(socket: realtime.Socket) -> None:
        # The connection goes, not the socket: the client reconnects.
        socket.conn.close()

    admin = sio.of("/admin")

    @admin.on("connect")
    def on_admin_connect(socket: realtime.Socket, auth: Any) -> None:
        if not auth or auth.get("token") != "secret":
            raise realtime.ConnectionRefused("Not authorized", {"hint": "token"})

    @admin.on("whoami")
    def whoami(socket: realtime.Socket) -> str:
        return "admin:" + socket.id

    async def page(request: web.Request) -> web.Response:
        script = request.query.get("script", "/socket.io/realtime.js")
        return web.Response(text=PAGE.format(script=script), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/legacy", legacy_page)
    sio.attach(app)
    return app


async def legacy_page(request: web.Request) -> web.Response:
    """legacy_page.html for ``?server=`` (empty: the page's own origin) and
    ``?transports=a,b``."""
    transports = request.query.get("transports", "polling,websocket").split(",")
    text = LEGACY_PAGE.replace("{server}", request.query.get("server", ""))
    text = text.replace("{transports}", json.dumps(transports))
    return web.Response(text=text, content_type="text/html")


def create_other_origin(script: str) -> web.Application:
    """A page on another origin that loads the client from the server's."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE.format(script=script), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/legacy", legacy_page)
    return app
