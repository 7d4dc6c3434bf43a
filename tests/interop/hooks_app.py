"""The server side of the hooks interop suite (``hooks_client.js``):
catch-all listeners both ways, ``@sio.event`` and per-packet middleware.
What the hooks saw is kept per socket and read back through acks."""

from __future__ import annotations

from typing import Any

import realtime
from realtime import EventRefused


def build_hooks_server() -> realtime.Server:
    sio = realtime.Server(cors_allowed_origins=None)
    incoming: dict[str, list[Any]] = {}
    outgoing: dict[str, list[Any]] = {}

    @sio.on_any
    def any_incoming(socket: realtime.Socket, event: str, *args: Any) -> None:
        if not event.startswith("hk_seen"):
            incoming.setdefault(socket.id, []).append([event, *args])

    @sio.event
    def connect(socket: realtime.Socket, auth: Any) -> None:
        socket.on_any_outgoing(
            lambda s, event, *args: outgoing.setdefault(s.id, []).append([event, *args])
        )
        socket.use(guard)

    def guard(socket: realtime.Socket, event: str, args: list[Any]) -> None:
        if event == "hk_forbidden":
            raise EventRefused("not allowed", {"event": event})
        if event == "hk_checked":
            args.append("checked")

    @sio.event
    def error(socket: realtime.Socket, exc: Exception) -> None:
        if isinstance(exc, EventRefused):
            socket.emit("hk_refused", exc.message, exc.data)

    @sio.event
    def hk_named(socket: realtime.Socket, value: int) -> int:
        return value * 2

    @sio.event
    def hk_checked(socket: realtime.Socket, *args: Any) -> list[Any]:
        return list(args)

    @sio.event
    def hk_forbidden(socket: realtime.Socket) -> str:
        return "the handler of a refused event ran"

    @sio.event
    def hk_send(socket: realtime.Socket, room: str) -> bool:
        socket.join(room)
        socket.emit("hk_direct", 1)
        sio.emit("hk_room", {"to": room}, b"\x01\x02", to=room)
        return True

    @sio.event
    def hk_seen_incoming(socket: realtime.Socket) -> list[Any]:
        return incoming.get(socket.id, [])

    @sio.event
    def hk_seen_outgoing(socket: realtime.Socket) -> list[Any]:
        return [
            [e, *(a.hex() if isinstance(a, bytes) else a for a in args)]
            for e, *args in outgoing.get(socket.id, [])
        ]

    return sio
