"""A web instant messenger on realtime, in the namespace ``/webim``, at ``/webim/``.

Run it with the other demos (``make demo``) or alone with
``python -m examples.webim.app`` (port 8000). Accounts, friends,
groups, messages, files and each user's last seen are kept in SQLite
(``store.py``) under the data directory, so they survive a restart; who is
online is ``sio.presence`` (each signed-in socket is tracked as its user), so
with the Redis adapter and ``--workers 2`` every worker sees the same people,
a user goes online and offline once in the cluster however many tabs they
have on however many workers, and the same conversations. Nothing shared
lives in one process's memory.

A session is a token the server signs (user id, expiry, HMAC), kept by the
page and sent in the CONNECT's ``auth``: a second tab, a reload or a
reconnection is the same user without a password.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from aiohttp import web

import realtime
from examples.pages import add_shared_script

from .store import Store, StoreError, password_hash, row_id

STATIC: Final = Path(__file__).with_name("static")
NAMESPACE: Final = "/webim"
PEOPLE: Final = "people"
MAX_TEXT: Final = 2000
MAX_FILE: Final = 512 * 1024
"""Bytes a file may have: well below the server's max_payload (1 MB), and sent
in chunks of at most ``CHUNK`` so that the page can show its progress."""
CHUNK: Final = 64 * 1024
TOKEN_DAYS: Final = 30
NAME: Final = re.compile(r"^[\w .'-]{2,24}$")
MIN_PASSWORD: Final = 6
MAX_PASSWORD: Final = 200
MAX_GROUP_NAME: Final = 40
INLINE_IMAGES: Final = ("image/png", "image/jpeg", "image/gif", "image/webp")
"""Shown in the page as <img>; anything else (SVG included: it can carry
script) is served as a download."""


def default_data_dir() -> Path:
    return Path(os.environ.get("REALTIME_DEMO_DATA") or Path(__file__).parents[1] / "data")


class Tokens:
    """Session tokens: ``"<user>.<expiry>.<hmac>"``."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def _mac(self, body: str) -> str:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, user: int) -> str:
        body = f"{user}.{int(time.time()) + TOKEN_DAYS * 86400}"
        return f"{body}.{self._mac(body)}"

    def verify(self, token: Any) -> int | None:
        if not isinstance(token, str) or token.count(".") != 2:
            return None
        user, expiry, mac = token.split(".")
        if not (user.isdigit() and expiry.isdigit()):
            return None
        if not hmac.compare_digest(mac, self._mac(f"{user}.{expiry}")) or int(expiry) < time.time():
            return None
        return int(user)


def _line(value: Any, limit: int) -> str:
    return " ".join(value.split())[:limit] if isinstance(value, str) else ""


def _user_room(user: int) -> str:
    return f"u:{user}"


def _group_room(group: int) -> str:
    return f"g:{group}"


def install(
    sio: realtime.Server,
    app: web.Application,
    data_dir: Path | None = None,
    *,
    max_text: int = MAX_TEXT,
    max_file: int = MAX_FILE,
    secret: bytes | None = None,
) -> Store:
    """The WebIM on ``sio`` (namespace ``/webim``) and its pages at ``/webim/``.

    Session tokens are signed with ``secret``, by default a key made once and
    kept in the database: every worker reads the same one, and a token stays
    good across restarts."""
    store = Store(data_dir or default_data_dir())
    # Not REALTIME_DEMO_SECRET: the chat makes that one anew at each start
    # (examples/app.py), and a restart would sign every page out.
    tokens = Tokens(secret or store.secret())
    im = sio.of(NAMESPACE)

    def failure(exc: StoreError | str) -> dict[str, Any]:
        return {"error": str(exc)}

    def online(*me: int) -> set[int]:
        """The users online in the cluster, and ``me``: a user whose first
        socket was just tracked may not be counted yet on the Redis adapter
        (the count comes back from Redis), but is online for themselves."""
        return {int(user) for user in sio.presence.online(NAMESPACE)} | set(me)

    def person(user: dict[str, Any], here: set[int]) -> dict[str, Any]:
        online_now = user["id"] in here
        return {
            "id": user["id"],
            "name": user["name"],
            "online": online_now,
            "last_seen": None
            if online_now or not user["last_seen"]
            else int(user["last_seen"] * 1000),
        }

    def state(user: int) -> dict[str, Any]:
        here = online(user)

        def people(ids: list[int]) -> list[dict[str, Any]]:
            return [person(u, here) for u in store.users(ids)]

        groups = [
            {**group, "members": people(store.members(group["id"]))}
            for group in store.groups_of(user)
        ]
        return {
            "me": person(store.user(user) or {"id": user, "name": "?", "last_seen": None}, here),
            "friends": people(store.friends(user)),
            "requests": {
                "in": people(store.requests_to(user)),
                "out": people(store.requests_from(user)),
            },
            "groups": groups,
            "online": people(sorted(here)),
            "conversations": store.conversations(user),
            "limits": {"text": max_text, "file": max_file, "chunk": CHUNK},
        }

    def refresh(*users: int) -> None:
        """Each user's tabs get their state anew (after a friend or group change)."""
        for user in users:
            im.to(_user_room(user)).emit("state", state(user))

    def begin(socket: realtime.Socket, user: int) -> dict[str, Any]:
        socket.data["user"] = user
        socket.join(
            [PEOPLE, _user_room(user), *(_group_room(g["id"]) for g in store.groups_of(user))]
        )
        # The user's first socket in the cluster makes them online (and the
        # disconnection of their last one offline): the presence handlers
        # below announce it, once, whichever worker their tabs are on.
        sio.presence.track(socket, str(user))
        return {"token": tokens.issue(user), **state(user)}

    def announcer(arrived: bool) -> Callable[[str, str], None]:
        """A presence handler: everyone hears that a user came (or went)."""

        def announce(user_id: str, namespace: str) -> None:
            if namespace != NAMESPACE:
                return
            user = int(user_id)
            if not arrived:
                store.seen(user)  # in SQLite, so that a restart still knows it
            found = store.user(user)
            if found is not None:
                im.to(PEOPLE).emit("presence", person(found, {user} if arrived else set()))

        return announce

    sio.presence.on("online")(announcer(True))
    sio.presence.on("offline")(announcer(False))
    # Asked now, the cluster's list is fetched as soon as the adapter is
    # connected, rather than at the first sign-in: the first user of a new
    # worker sees who is on the others.
    sio.presence.count(NAMESPACE)

    def signed_in(socket: realtime.Socket) -> int | None:
        user = socket.data.get("user")
        return user if isinstance(user, int) else None

    @im.on("connect")
    def connect(socket: realtime.Socket, auth: Any) -> None:
        user = tokens.verify(auth.get("token") if isinstance(auth, dict) else None)
        if user is not None and store.user(user) is not None:
            socket.emit("session", begin(socket, user))
        else:
            socket.emit("session", None)

    async def enter(socket: realtime.Socket, how: str, name: Any, password: Any) -> dict[str, Any]:
        if signed_in(socket) is not None:
            return failure("You are signed in already.")
        name = _line(name, 100)
        if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            return failure(f"A password has {MIN_PASSWORD} to {MAX_PASSWORD} characters.")
        # scrypt takes tens of milliseconds: in a thread, so that the other
        # connections of this worker do not wait for it.
        if how == "signup":
            if not NAME.match(name):
                return failure("A name has 2 to 24 letters, digits, spaces or . ' - _")
            salt = secrets.token_bytes(16)
            digest = await asyncio.to_thread(password_hash, password, salt)
            try:
                user = store.sign_up(name, salt, digest)
            except StoreError as exc:
                return failure(exc)
        else:
            found = store.credentials(name)
            salt = found[1] if found else secrets.token_bytes(16)
            digest = await asyncio.to_thread(password_hash, password, salt)
            if found is None or not hmac.compare_digest(digest, found[2]):
                return failure("Wrong name or password.")
            user = found[0]
        return begin(socket, user)

    @im.on("signup")
    async def signup(
        socket: realtime.Socket, name: Any = None, password: Any = None, *_: Any
    ) -> dict[str, Any]:
        return await enter(socket, "signup", name, password)

    @im.on("login")
    async def login(
        socket: realtime.Socket, name: Any = None, password: Any = None, *_: Any
    ) -> dict[str, Any]:
        return await enter(socket, "login", name, password)

    def conversation(socket: realtime.Socket, key: Any) -> tuple[int, str] | dict[str, Any]:
        """``(me, key)`` when I may use that conversation, else the refusal."""
        user = signed_in(socket)
        if user is None:
            return failure("Please sign in.")
        if not isinstance(key, str) or not store.may_read(user, key):
            return failure("No such conversation.")
        return user, key

    def deliver(message: dict[str, Any]) -> None:
        if message["group"] is not None:
            im.to(_group_room(message["group"])).emit("message", message)
        else:
            im.to([_user_room(message["from"]["id"]), _user_room(message["to"])]).emit(
                "message", message
            )

    @im.on("send")
    def send(socket: realtime.Socket, key: Any = None, text: Any = None, *_: Any) -> dict[str, Any]:
        allowed = conversation(socket, key)
        if isinstance(allowed, dict):
            return allowed
        if not isinstance(text, str) or not text.strip():
            return failure("Type a message first.")
        if len(text) > max_text:
            return failure(f"That message has {len(text)} characters; the limit is {max_text}.")
        message = store.add_message(allowed[0], allowed[1], "text", text.strip())
        deliver(message)
        return {"message": message}

    @im.on("history")
    def history(socket: realtime.Socket, key: Any = None, *_: Any) -> dict[str, Any]:
        allowed = conversation(socket, key)
        if isinstance(allowed, dict):
            return allowed
        return {"key": allowed[1], "messages": store.history(*allowed)}

    @im.on("read")
    def read(socket: realtime.Socket, key: Any = None, last: Any = None, *_: Any) -> bool:
        allowed = conversation(socket, key)
        last = row_id(last)
        if isinstance(allowed, dict) or last is None:
            return False
        store.mark_read(allowed[0], allowed[1], last)
        im.to(_user_room(allowed[0])).emit("read", {"key": allowed[1], "last": last})
        return True

    # -- friends -------------------------------------------------------------------

    def other_user(socket: realtime.Socket, other: Any) -> tuple[int, int] | dict[str, Any]:
        user = signed_in(socket)
        if user is None:
            return failure("Please sign in.")
        found = store.user_named(_line(other, 100)) if isinstance(other, str) else None
        if row_id(other) is not None:
            found = store.user(other)
        if found is None:
            return failure("Nobody has that name.")
        return user, int(found["id"])

    def friendship(event: str, change: Callable[[int, int], object]) -> None:
        """``event(other)``: ``change(me, other)`` in the store, then both
        people's tabs get their new state."""

        async def handler(socket: realtime.Socket, other: Any = None, *_: Any) -> dict[str, Any]:
            pair = other_user(socket, other)
            if isinstance(pair, dict):
                return pair
            try:
                change(*pair)
            except StoreError as exc:
                return failure(exc)
            refresh(*pair)
            return {"ok": True}

        im.on(event, handler)

    friendship("befriend", store.request_friend)
    friendship("accept", store.accept_friend)
    friendship("unfriend", store.remove_friend)

    # -- groups --------------------------------------------------------------------

    def my_group(socket: realtime.Socket, group: Any) -> tuple[int, int] | dict[str, Any]:
        allowed = conversation(socket, f"g:{group}" if row_id(group) is not None else None)
        if isinstance(allowed, dict):
            return allowed if signed_in(socket) is None else failure("You are not in that group.")
        return allowed[0], group

    @im.on("create_group")
    async def create_group(socket: realtime.Socket, name: Any = None, *_: Any) -> dict[str, Any]:
        user = signed_in(socket)
        if user is None:
            return failure("Please sign in.")
        name = _line(name, MAX_GROUP_NAME)
        if not name:
            return failure("Give the group a name.")
        try:
            group = store.create_group(user, name)
        except StoreError as exc:
            return failure(exc)
        im.in_(_user_room(user)).join(_group_room(group))
        refresh(user)
        return {"group": group}

    @im.on("invite")
    async def invite(
        socket: realtime.Socket, group: Any = None, other: Any = None, *_: Any
    ) -> dict[str, Any]:
        mine = my_group(socket, group)
        if isinstance(mine, dict):
            return mine
        pair = other_user(socket, other)
        if isinstance(pair, dict):
            return pair
        try:
            store.invite(mine[0], mine[1], pair[1])
        except StoreError as exc:
            return failure(exc)
        im.in_(_user_room(pair[1])).join(_group_room(mine[1]))
        refresh(*store.members(mine[1]))
        return {"ok": True}

    @im.on("leave_group")
    async def leave_group(socket: realtime.Socket, group: Any = None, *_: Any) -> dict[str, Any]:
        mine = my_group(socket, group)
        if isinstance(mine, dict):
            return mine
        store.leave(*mine)
        im.in_(_user_room(mine[0])).leave(_group_room(mine[1]))
        refresh(mine[0], *store.members(mine[1]))
        return {"ok": True}

    # -- files ---------------------------------------------------------------------

    @im.on("upload")
    def upload(
        socket: realtime.Socket,
        key: Any = None,
        name: Any = None,
        mime: Any = None,
        size: Any = None,
        *_: Any,
    ) -> dict[str, Any]:
        allowed = conversation(socket, key)
        if isinstance(allowed, dict):
            return allowed
        if row_id(size) in (None, 0):
            return failure("That file is empty.")
        if size > max_file:
            return failure(
                f"That file has {size} bytes; the limit is {max_file} ({max_file // 1024} KiB)."
            )
        name = _line(name, 100).replace("/", "_").replace("\\", "_") or "file"
        mime = mime if isinstance(mime, str) and re.match(r"^[\w.+-]+/[\w.+-]+$", mime) else ""
        file_id = store.start_file(
            allowed[0], allowed[1], name, mime or "application/octet-stream", size
        )
        return {"file": file_id, "chunk": CHUNK}

    @im.on("chunk")
    def chunk(
        socket: realtime.Socket, file_id: Any = None, offset: Any = None, data: Any = None, *_: Any
    ) -> dict[str, Any]:
        user = signed_in(socket)
        file = store.file(file_id) if isinstance(file_id, str) else None
        if user is None or file is None or file["owner"] != user or file["done"]:
            return failure("No such upload.")
        if not isinstance(data, bytes) or not 0 < len(data) <= CHUNK:
            return failure(f"A chunk is binary, at most {CHUNK} bytes.")
        if row_id(offset) != file["received"] or offset + len(data) > file["size"]:
            return failure("That chunk does not follow the previous one.")
        received = store.add_chunk(file_id, offset, data)
        if received < file["size"]:
            return {"received": received}
        store.finish_file(file_id)
        kind = "image" if file["mime"] in INLINE_IMAGES else "file"
        message = store.add_message(user, file["conversation"], kind, file["name"], file_id)
        deliver(message)
        return {"received": received, "message": message}

    async def download(request: web.Request) -> web.StreamResponse:
        user = tokens.verify(request.query.get("token"))
        file = store.file(request.match_info["file"])
        if user is None or file is None or not file["done"] or not store.may_fetch(user, file):
            raise web.HTTPNotFound(text="No such file.")
        inline = file["mime"] in INLINE_IMAGES
        headers = {
            "Content-Type": file["mime"] if inline else "application/octet-stream",
            "Content-Disposition": ("inline" if inline else "attachment")
            + f"; filename*=UTF-8''{_quote(file['name'])}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=86400",
        }
        return web.FileResponse(store.file_path(file["id"]), headers=headers)

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    app.router.add_get("/webim", _to_page)
    app.router.add_get("/webim/", page)
    app.router.add_get("/webim/files/{file}", download)
    add_shared_script(app, "/webim/static/")
    app.router.add_static("/webim/static/", STATIC)
    return store


async def _to_page(request: web.Request) -> web.Response:
    raise web.HTTPFound("/webim/")


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def create_app(data_dir: Path | None = None, **options: Any) -> web.Application:
    """The WebIM alone: its own server (``options`` go to it)."""
    sio = realtime.Server(**options)
    app = web.Application()
    install(sio, app, data_dir)
    app.router.add_get("/", _to_page)
    sio.attach(app)
    return app


if __name__ == "__main__":
    realtime.run(create_app(), host="127.0.0.1", port=8000)
