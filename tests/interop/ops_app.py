"""The server side of the operations interop suite (``ops_client.js``):
server-wide operations, broadcast acks, disconnecting, driven by events the
official clients send. Every handler answers through its ack so that the
client can check what the server saw."""

from __future__ import annotations

import asyncio
from typing import Any

import realtime
from realtime import BroadcastAckTimeout


def build_ops_server() -> realtime.Server:
    sio = realtime.Server(cors_allowed_origins=None)
    closing_rooms: dict[str, list[str]] = {}
    reasons: dict[str, str] = {}

    @sio.on("connect")
    def connect(socket: realtime.Socket, auth: Any) -> None:
        source = auth if isinstance(auth, dict) and auth else socket.conn.query
        socket.data["name"] = str(source.get("name", "?"))

    @sio.on("disconnecting")
    def disconnecting(socket: realtime.Socket, reason: str) -> None:
        closing_rooms[socket.id] = sorted(socket.rooms)

    @sio.on("disconnect")
    def disconnect(socket: realtime.Socket, reason: str) -> None:
        reasons[socket.id] = reason

    @sio.on("ops_left")
    def left(socket: realtime.Socket, sid: str) -> dict[str, Any] | None:
        if sid not in reasons:
            return None
        return {"rooms": closing_rooms.get(sid), "reason": reasons[sid]}

    @sio.on("ops_join")
    def join(socket: realtime.Socket, room: str) -> bool:
        socket.join(room)
        return True

    @sio.on("ops_fetch")
    async def fetch(socket: realtime.Socket, room: str) -> list[dict[str, Any]]:
        found = await sio.in_(room).fetch_sockets()
        return [
            {
                "id": s.id,
                "rooms": sorted(s.rooms),
                "name": s.data.get("name"),
                "has_headers": bool(s.handshake.headers),
            }
            for s in found
        ]

    @sio.on("ops_remote_emit")
    async def remote_emit(socket: realtime.Socket, room: str, value: Any) -> int:
        found = await sio.in_(room).fetch_sockets()
        for s in found:
            s.emit("ops_direct", value)
        return len(found)

    @sio.on("ops_rooms_join")
    def rooms_join(socket: realtime.Socket, chosen: str, room: str) -> bool:
        sio.in_(chosen).join(room)
        return True

    @sio.on("ops_rooms_leave")
    def rooms_leave(socket: realtime.Socket, chosen: str, room: str) -> bool:
        sio.in_(chosen).leave(room)
        return True

    @sio.on("ops_close_room")
    def close_room(socket: realtime.Socket, room: str) -> bool:
        sio.close_room(room)
        return True

    @sio.on("ops_to")
    def to(socket: realtime.Socket, room: str, msg: Any) -> bool:
        sio.emit("ops_msg", msg, to=room)
        return True

    @sio.on("ops_kick")
    def kick(socket: realtime.Socket, room: str) -> bool:
        sio.in_(room).disconnect_sockets()
        return True

    @sio.on("ops_call")
    async def call(socket: realtime.Socket, room: str, timeout: float) -> dict[str, Any]:
        try:
            replies = await sio.call("ops_vote", room, to=room, timeout=timeout)
        except BroadcastAckTimeout as exc:
            return {"timeout": True, "replies": sorted(map(str, exc.replies))}
        return {"timeout": False, "replies": sorted(map(str, replies))}

    @sio.on("ops_emit_callback")
    async def emit_callback(socket: realtime.Socket, room: str) -> dict[str, Any]:
        done: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def callback(err: BaseException | None, replies: list[Any]) -> None:
            done.set_result({"err": err is not None, "replies": sorted(map(str, replies))})

        sio.emit("ops_vote", room, to=room, callback=callback, timeout=5)
        return await done

    @sio.on("ops_socket_timeout")
    async def socket_timeout(socket: realtime.Socket, timeout: float) -> list[Any]:
        # The client never answers "ops_ignore": the callback must hear of it.
        done: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()

        def callback(*args: Any) -> None:
            done.set_result([type(a).__name__ if isinstance(a, Exception) else a for a in args])

        socket.emit("ops_ignore", callback=callback, timeout=timeout)
        return await done

    @sio.on("ops_volatile_local")
    def volatile_local(socket: realtime.Socket) -> bool:
        socket.volatile.emit("ops_flag", "socket volatile")
        sio.volatile.to(socket.id).emit("ops_flag", "operator volatile")
        sio.local.to(socket.id).emit("ops_flag", "local")
        return True

    @sio.on("ops_server_side")
    async def server_side(socket: realtime.Socket) -> list[Any]:
        # One server: no other server to answer, at once.
        return list(await sio.server_side_call("ops_hello", 1, timeout=5))

    return sio
