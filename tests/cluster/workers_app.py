"""The app of the --workers test: on the Redis adapter, answers with the
worker it runs on, and shouts to everyone; a server-side "where" gets the
process id."""

from __future__ import annotations

import os
from typing import Any

import realtime

sio = realtime.Server(adapter=realtime.RedisAdapter(os.environ["REDIS_URL"]))


@sio.on("where")
def where(socket: realtime.Socket) -> Any:
    return sio.engine.node_id


@sio.on("shout")
def shout(socket: realtime.Socket, text: str) -> None:
    sio.emit("heard", text)


@sio.on_server_side_emit("where")
def where_server(*args: Any) -> Any:
    return os.getpid()
