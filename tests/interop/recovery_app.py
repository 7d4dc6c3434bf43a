"""The server side of the connection state recovery interop suite
(``recovery_client.js``): two servers on one site, ``/socket.io`` with the
default recovery options and ``/capped`` whose sessions keep at most two
missed packets. Clients drive them through events answered by acks."""

from __future__ import annotations

import asyncio
from typing import Any

import realtime

CAPPED_PATH = "/capped"


def recovery_server(
    path: str, recovery: realtime.ConnectionStateRecovery, **options: Any
) -> realtime.Server:
    """A server answering the scenarios' events (``options``: more of its own)."""
    sio = realtime.Server(path=path, connection_state_recovery=recovery, **options)
    connects: dict[str, list[bool]] = {}

    @sio.on("connect")
    def connect(socket: realtime.Socket, auth: Any) -> None:
        connects.setdefault(socket.id, []).append(socket.recovered)

    @sio.on("rec_join")
    def join(socket: realtime.Socket, room: str, name: str) -> bool:
        socket.join(room)
        socket.data["name"] = name
        return True

    @sio.on("rec_send")
    def send(socket: realtime.Socket, room: str | None, value: Any) -> bool:
        sio.emit("rec_msg", value, to=room)  # None: the whole namespace
        return True

    @sio.on("rec_gone")
    async def gone(socket: realtime.Socket, sid: str) -> bool:
        # The client closed its transport; a broadcast is "missed" only once
        # the server has noticed. Bounded by the client's step limit.
        for _ in range(500):
            if sio.get_socket(sid) is None:
                return True
            await asyncio.sleep(0.01)
        return False

    @sio.on("rec_whoami")
    def whoami(socket: realtime.Socket) -> dict[str, Any]:
        return {
            "id": socket.id,
            "rooms": sorted(socket.rooms),
            "data": socket.data,
            "recovered": socket.recovered,
            "has_pid": socket.pid is not None,
            "connects": connects.get(socket.id, []),
        }

    return sio


def build_recovery_servers() -> list[realtime.Server]:
    return [
        recovery_server("/socket.io", realtime.ConnectionStateRecovery()),
        recovery_server(CAPPED_PATH, realtime.ConnectionStateRecovery(max_packets=2)),
    ]
