"""The server side of the compression interop suite (``compression_client.js``):
echoes, and big events of the same text the client builds."""

from __future__ import annotations

from typing import Any

import realtime


def sample(size: int) -> str:
    """compression_client.js's sample(): text that compresses, not to nothing."""
    parts: list[str] = []
    length, i = 0, 0
    while length < size:
        part = f"{i * 7919 % 10007},"
        parts.append(part)
        length += len(part)
        i += 1
    return "".join(parts)[:size]


def build_compression_server(**options: Any) -> realtime.Server:
    sio = realtime.Server(**options)

    @sio.on("cz_echo")
    def echo(socket: realtime.Socket, data: Any) -> Any:
        return data

    @sio.on("cz_send")
    def send(socket: realtime.Socket, size: int) -> None:
        socket.emit("cz_big", sample(size))

    return sio


def build_deflate_server() -> realtime.Server:
    return build_compression_server(per_message_deflate=True)
