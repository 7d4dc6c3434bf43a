"""The server side of the refusals interop suite (``refusals_client.js``):
``allow_request`` and a refused Origin (403 Forbidden), a payload nested
past ``max_depth`` (the connection closes, others live on), and dynamic
namespaces bounded by ``max_dynamic_namespaces``, each child removed with its
last socket. What the server saw is read back through acks."""

from __future__ import annotations

import re
from typing import Any

import realtime

MAX_DYNAMIC = 2
"""Children of ``/rf-...`` that may exist at once: small, so a client reaches it."""


def build_refusals_server() -> realtime.Server:
    sio = realtime.Server(
        cors_allowed_origins=["http://app.example"],
        allow_request=lambda handshake: handshake.query.get("token") == "good",
        max_dynamic_namespaces=MAX_DYNAMIC,
    )
    closes: list[str] = []
    sio.of(re.compile(r"^/rf-[\w-]+$"))

    @sio.on("disconnect")
    def gone(socket: realtime.Socket, reason: str) -> None:
        closes.append(reason)

    @sio.on("rf_echo")
    def echo(socket: realtime.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @sio.on("rf_closes")
    def closed(socket: realtime.Socket) -> list[str]:
        return closes

    @sio.on("rf_children")
    def children(socket: realtime.Socket) -> list[str]:
        return sorted(n.name for n in sio.namespaces() if n.name.startswith("/rf-"))

    return sio
