"""A chat room on realtime, in the namespace ``/chat``, at ``/chat/``.

Run it alone with ``python -m realtime examples.chat.app:app --port 8000``
(or all the demos: ``make demo``) and open http://127.0.0.1:8000/chat/ in a
few browsers. Anyone may pick any name; two people called Sam are told apart
by a short tag (``Sam #3fa1``) that comes with each browser's identity, a
signed token the page keeps in ``localStorage``. The online list counts
people, not tabs (``sio.presence``), changes live as people come and go, and
a message reaches everyone at once. A line typed while offline waits, marked
as pending, until the server has it. The page works in browsers without
WebSocket: the client falls back to XHR or JSONP polling by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from typing import Any, Final

from aiohttp import web

import realtime
from examples.pages import SHARED_SCRIPT, add_shared_script

STATIC = Path(__file__).with_name("static")
NAMESPACE = "/chat"
ROOM = "chat"
MAX_NAME = 32
MAX_TEXT = 1000


def _clean(value: Any, limit: int) -> str:
    """Text as a person would type it: one line, trimmed, bounded."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:limit]


class Identities:
    """Browser identities: a random user id and an HMAC of it, so that a
    browser keeps its id across reloads and nobody can claim another's."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def _mac(self, user: str) -> str:
        return hmac.new(self.secret, user.encode(), hashlib.sha256).hexdigest()[:24]

    def issue(self) -> tuple[str, str]:
        user = secrets.token_hex(8)
        return user, f"{user}.{self._mac(user)}"

    def verify(self, token: Any) -> str | None:
        if not isinstance(token, str) or token.count(".") != 1:
            return None
        user, mac = token.split(".")
        return user if user and hmac.compare_digest(mac, self._mac(user)) else None


def tag(user: str) -> str:
    """Four characters that tell two people of one name apart."""
    return user[:4]


def install(sio: realtime.Server, app: web.Application, *, secret: bytes | None = None) -> None:
    """The chat on ``sio`` (namespace ``/chat``) and its page at ``/chat/`` in ``app``."""
    install_handlers(sio, secret=secret)

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def to_page(request: web.Request) -> web.Response:
        raise web.HTTPFound("/chat/")

    app.router.add_get("/chat", to_page)
    app.router.add_get("/chat/", page)
    add_shared_script(app, "/chat/static/")
    app.router.add_static("/chat/static/", STATIC)


STATIC_FILES: Final = {
    "/": str(STATIC / "index.html"),
    "/chat/": str(STATIC / "index.html"),
    "/chat/static/page.js": str(SHARED_SCRIPT),
    "/chat/static": str(STATIC),
}
"""The chat's page and files for the hosts that take ``static_files``
(``realtime.ASGIApp``, ``realtime.WSGIApp``: examples/chat/hosts.py)."""


def install_handlers(sio: realtime.Server, *, secret: bytes | None = None) -> None:
    """The chat's namespace ``/chat`` on ``sio``: the same on every host."""
    # A secret of its own unless given one: tokens from before a restart
    # then fail to verify, and those browsers get a new identity. Made once
    # per command line and left in the environment, because the workers of
    # ``--workers N`` inherit the environment of the process that loaded the
    # app first: then every worker verifies the tokens of the others.
    key = secret or os.environ.setdefault("REALTIME_DEMO_SECRET", secrets.token_hex(32)).encode()
    identities = Identities(key)
    chat = sio.of(NAMESPACE)
    names: dict[str, str] = {}  # user id -> the name they chose last, as this process heard

    def person(user: str) -> dict[str, str]:
        return {"id": user, "name": names.get(user, "?"), "tag": tag(user)}

    async def roster() -> dict[str, Any]:
        # The people in the room on every node (fetch_sockets goes through the
        # adapter: with Redis, to every worker), one entry per person however
        # many tabs; the names they chose ride with their sockets' data.
        present: dict[str, None] = {}
        try:
            members = await chat.in_(ROOM).fetch_sockets()
        except realtime.BroadcastAckTimeout:  # a worker not answering: shutting down
            members = await chat.in_(ROOM).local.fetch_sockets()
        for member in members:
            data = member.data if isinstance(member.data, dict) else {}
            user, name = data.get("user"), data.get("name")
            if isinstance(user, str) and isinstance(name, str):
                names[user] = name
                present[user] = None
        users = [person(user) for user in present]
        users.sort(key=lambda u: (u["name"].lower(), u["tag"]))
        return {"users": users, "count": len(users)}

    @chat.on("connect")
    def connect(socket: realtime.Socket, auth: Any) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        user = identities.verify(token)
        if user is None:
            user, token = identities.issue()
        socket.data["user"] = user
        socket.emit("identity", {"token": token, "id": user, "tag": tag(user)})

    @chat.on("join")
    async def join(socket: realtime.Socket, name: Any = None) -> dict[str, Any]:
        name = _clean(name, MAX_NAME)
        if not name:
            return {"error": "Please choose a name."}
        user = socket.data["user"]
        renamed = names.get(user) not in (None, name)
        names[user] = name
        socket.data["name"] = name
        socket.join(ROOM)
        arrived = sio.presence.track(socket, user)
        people = await roster()
        if arrived or renamed:
            chat.emit("joined", {"user": person(user), **people}, to=ROOM, skip=socket)
        return {"you": person(user), **people}

    @chat.on("say")
    def say(socket: realtime.Socket, text: Any = None, cid: Any = None) -> bool:
        user = socket.data.get("user")
        text = _clean(text, MAX_TEXT)
        if user not in names or not text or ROOM not in socket.rooms:
            return False
        message = {
            "from": person(user),
            "text": text,
            "time": int(time.time() * 1000),
            "cid": cid if isinstance(cid, str) else None,
        }
        chat.emit("message", message, to=ROOM)
        return True

    @sio.presence.on("offline")
    async def left(user: str, namespace: str) -> None:
        # Once in the cluster (on the node that saw the user's last tab go).
        if namespace == NAMESPACE:
            chat.emit("left", {"user": person(user), **await roster()}, to=ROOM)


def create_app(**options: Any) -> web.Application:
    """The chat alone: its own server (``options`` go to it)."""
    sio = realtime.Server(**options)
    app = web.Application()
    install(sio, app)

    async def home(request: web.Request) -> web.Response:
        raise web.HTTPFound("/chat/")

    app.router.add_get("/", home)
    sio.attach(app)
    return app


app = create_app()

if __name__ == "__main__":
    realtime.run(app, host="127.0.0.1", port=8000)
