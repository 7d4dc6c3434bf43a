"""A chat room on realtime.

Run it with ``python -m realtime examples.chat.app:app --port 8000`` and open
http://127.0.0.1:8000/ in a few browsers. Anyone may pick any name (two
people can both be "Sam"); everyone sees who is online and how many, the list
changes live as people come and go, and a message reaches everyone at once.
The page works in browsers without WebSocket: the client falls back to XHR
or JSONP polling by itself.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from aiohttp import web

import realtime

STATIC = Path(__file__).with_name("static")
ROOM = "chat"
MAX_NAME = 32
MAX_TEXT = 1000


def _clean(value: Any, limit: int) -> str:
    """Text as a person would type it: one line, trimmed, bounded."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:limit]


def create_app() -> web.Application:
    """A fresh chat: its own server and its own list of people."""
    sio = realtime.Server()
    # socket id -> display name; names need not be unique, ids are.
    people: dict[str, str] = {}

    def roster() -> dict[str, Any]:
        users = [{"id": sid, "name": name} for sid, name in people.items()]
        users.sort(key=lambda user: (user["name"].lower(), user["id"]))
        return {"users": users, "count": len(users)}

    @sio.on("join")
    def join(socket: realtime.Socket, name: Any = None) -> dict[str, Any]:
        name = _clean(name, MAX_NAME)
        if not name:
            return {"error": "Please choose a name."}
        rejoining = socket.id in people
        people[socket.id] = name
        socket.join(ROOM)
        me = {"id": socket.id, "name": name}
        if not rejoining:
            sio.emit("joined", {"user": me, **roster()}, to=ROOM, skip=socket)
        return {"you": me, **roster()}

    @sio.on("say")
    def say(socket: realtime.Socket, text: Any = None) -> bool:
        name = people.get(socket.id)
        text = _clean(text, MAX_TEXT)
        if name is None or not text:
            return False
        message = {
            "from": {"id": socket.id, "name": name},
            "text": text,
            "time": int(time.time() * 1000),
        }
        sio.emit("message", message, to=ROOM)
        return True

    @sio.on("disconnect")
    def leave(socket: realtime.Socket, reason: str) -> None:
        name = people.pop(socket.id, None)
        if name is not None:
            sio.emit("left", {"user": {"id": socket.id, "name": name}, **roster()}, to=ROOM)

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    sio.attach(app)
    return app


app = create_app()

if __name__ == "__main__":
    realtime.run(app, host="127.0.0.1", port=8000)
