"""The app of the cluster presence test: tracks the ``user`` of each
connection's auth, broadcasts every online/offline change with the node
that saw it, and answers ``who`` with this node's reading of the cluster."""

from __future__ import annotations

import os
from typing import Any

import realtime

NODE = os.environ["NODE_NAME"]
sio = realtime.Server(
    adapter=realtime.RedisAdapter(
        os.environ["REDIS_URL"], presence_expiry=float(os.environ["PRESENCE_EXPIRY"])
    )
)


@sio.on("connect")
def connect(socket: realtime.Socket, auth: Any) -> None:
    if isinstance(auth, dict) and auth.get("user"):
        sio.presence.track(socket, auth["user"])


@sio.presence.on("online")
def online(user: str, namespace: str) -> None:
    sio.emit("presence", ["online", user, NODE])


@sio.presence.on("offline")
def offline(user: str, namespace: str) -> None:
    sio.emit("presence", ["offline", user, NODE])


@sio.on("who")
def who(socket: realtime.Socket, users: list[str]) -> Any:
    presence = sio.presence
    return {
        "online": presence.online(),
        "count": presence.count(),
        "last_seen": {user: presence.last_seen(user) for user in users},
        "node": NODE,
    }


@sio.on("flush")
def flush(socket: realtime.Socket) -> None:
    """Everything this node broadcast before reaches the cluster before this."""
    sio.emit("flushed", NODE)
