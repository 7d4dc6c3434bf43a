"""The interop test app on a realtime server.

Every client script (``client.js``, ``client_py.py``) runs the same scenario
list against these handlers.

Credentials come from ``auth`` (Socket.IO v5 clients) or from the handshake
query string (Socket.IO v4 clients, which have no ``auth``). The token
``"bad"`` is refused with a message and data.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

import realtime

from .payloads import BINARY_PUSH_ARGS, REFUSAL_DATA, REFUSAL_MESSAGE, REFUSED_TOKEN, binary_reply


def credentials(socket: realtime.Socket, auth: Any) -> dict[str, str]:
    source: Any = auth if isinstance(auth, dict) and auth else socket.conn.query
    return {key: str(source[key]) for key in ("token", "user") if key in source}


def authenticate(socket: realtime.Socket, auth: Any) -> None:
    creds = credentials(socket, auth)
    if creds.get("token") == REFUSED_TOKEN:
        raise realtime.ConnectionRefused(REFUSAL_MESSAGE, REFUSAL_DATA)
    socket.data["user"] = creds.get("user", "anonymous")
    socket.data["seq"] = []


def whoami(socket: realtime.Socket, nsp: str) -> dict[str, Any]:
    return {
        "id": socket.id,
        "nsp": nsp,
        "user": socket.data.get("user"),
        "transport": socket.conn.transport,
        "protocol": socket.conn.protocol,
    }


def build_server() -> realtime.Server:
    sio = realtime.Server(
        ping_interval=25,
        ping_timeout=20,
        max_payload=1_000_000,
        connect_timeout=45,
        cors_allowed_origins=None,
        transports=("polling", "websocket"),
        path="/socket.io",
    )
    # Why each socket left, by socket id: the client_disconnect check asks.
    reasons: dict[str, str] = {}

    @sio.on("connect")
    async def on_connect(socket: realtime.Socket, auth: Any) -> None:
        authenticate(socket, auth)

    @sio.on("disconnect")
    def on_disconnect(socket: realtime.Socket, reason: str) -> None:
        reasons[socket.id] = reason

    @sio.on("disconnect_reason")
    def on_disconnect_reason(socket: realtime.Socket, sid: str) -> str | None:
        return reasons.get(sid)

    @sio.on("whoami")
    def on_whoami(socket: realtime.Socket) -> dict[str, Any]:
        return whoami(socket, "/")

    @sio.on("echo")
    def on_echo(socket: realtime.Socket, *args: Any) -> None:
        socket.emit("echo", *args)

    @sio.on("sum")
    def on_sum(socket: realtime.Socket, numbers: list[int]) -> int:
        return sum(numbers)

    @sio.on("multi")
    def on_multi(socket: realtime.Socket) -> tuple[str, int, dict[str, str]]:
        return ("a", 2, {"k": "v"})

    @sio.on("ask_me")
    async def on_ask_me(socket: realtime.Socket) -> dict[str, Any]:
        # Errors go back to the client so a failing check says why.
        try:
            reply = await socket.call("question", {"n": 21}, timeout=5)
        except Exception as exc:
            return {"error": repr(exc)}
        return {"reply": reply}

    @sio.on("binary")
    def on_binary(socket: realtime.Socket, data: Any) -> dict[str, Any]:
        socket.emit("binary_push", *BINARY_PUSH_ARGS)
        return binary_reply(data)

    @sio.on("join")
    def on_join(socket: realtime.Socket, room: str) -> bool:
        socket.join(room)
        return True

    @sio.on("leave")
    def on_leave(socket: realtime.Socket, room: str) -> bool:
        socket.leave(room)
        return True

    @sio.on("to_room")
    def on_to_room(socket: realtime.Socket, data: dict[str, str]) -> bool:
        sio.emit("room_msg", data["msg"], to=data["room"])
        return True

    @sio.on("to_room_others")
    def on_to_room_others(socket: realtime.Socket, data: dict[str, str]) -> bool:
        sio.emit("room_msg", data["msg"], to=data["room"], skip=socket)
        return True

    @sio.on("fence")
    def on_fence(socket: realtime.Socket) -> bool:
        return True

    @sio.on("kick_me")
    def on_kick_me(socket: realtime.Socket) -> None:
        socket.disconnect()

    @sio.on("drop_me")
    def on_drop_me(socket: realtime.Socket) -> None:
        socket.conn.close()

    @sio.on("seq")
    def on_seq(socket: realtime.Socket, i: int) -> None:
        socket.data["seq"].append(i)

    @sio.on("seq_report")
    def on_seq_report(socket: realtime.Socket) -> list[int]:
        seen: list[int] = socket.data["seq"]
        return seen

    @sio.on("burst")
    def on_burst(socket: realtime.Socket, n: int) -> None:
        for i in range(n):
            socket.emit("burst_item", i)
        socket.emit("burst_end", n)

    admin = sio.of("/admin")

    @admin.on("connect")
    def on_admin_connect(socket: realtime.Socket, auth: Any) -> None:
        authenticate(socket, auth)

    @admin.on("whoami")
    def on_admin_whoami(socket: realtime.Socket) -> dict[str, Any]:
        return whoami(socket, "/admin")

    return sio


def build_app() -> web.Application:
    app = web.Application()
    realtime.attach(build_server(), app)
    return app


if __name__ == "__main__":
    realtime.run(build_server(), host="127.0.0.1", port=8000)


def server_from_argv(argv: list[str]) -> realtime.Server:
    """The server that ``MODULE:BUILDER`` in ``argv[1]`` builds (default
    ``interop.app:build_server``): the command line of the scripts that serve
    the interop app on other WSGI servers."""
    import importlib

    spec = argv[1] if len(argv) > 1 else "interop.app:build_server"
    module, _, builder = spec.partition(":")
    built: realtime.Server = getattr(importlib.import_module(module), builder)()
    return built
