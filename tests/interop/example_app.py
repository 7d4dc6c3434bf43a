"""python-socketio's aiohttp example server, ported to realtime.

Written in that example's style (module-level server, ``@sio.event``
handlers, ``await sio.emit(..., room=sid)``), with the changes
docs/migrating.md lists: handlers get the socket instead of a sid
(``socket.id`` is the sid), ``connect`` gets ``(socket, auth)`` with the
request in ``socket.handshake`` instead of an environ, and the background
task is an asyncio task started with the app. Sessions and an ack show the
rest of the way in. ``tests/interop/test_migrating.py`` drives it with
python-socketio's client.

    python -m tests.interop.example_app        # serves on 127.0.0.1:8080
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

import realtime

sio = realtime.Server(cors_allowed_origins=None)
app = web.Application()
sio.attach(app)
TICK = 10.0  # seconds between two server-generated events


async def background_task() -> None:
    """Example of how to send server generated events to clients."""
    count = 0
    while True:
        await asyncio.sleep(TICK)
        count += 1
        await sio.emit("my_response", {"data": "Server generated event", "count": count})


async def index(request: web.Request) -> web.Response:
    return web.Response(text="<p>the example's page would be here</p>", content_type="text/html")


@sio.event
async def my_event(socket: realtime.Socket, message: dict[str, Any]) -> None:
    await sio.emit("my_response", {"data": message["data"]}, room=socket.id)


@sio.event
async def my_broadcast_event(socket: realtime.Socket, message: dict[str, Any]) -> None:
    await sio.emit("my_response", {"data": message["data"]})


@sio.event
async def join(socket: realtime.Socket, message: dict[str, Any]) -> None:
    await sio.enter_room(socket.id, message["room"])
    await sio.emit("my_response", {"data": "Entered room: " + message["room"]}, room=socket.id)


@sio.event
async def leave(socket: realtime.Socket, message: dict[str, Any]) -> None:
    await sio.leave_room(socket.id, message["room"])
    await sio.emit("my_response", {"data": "Left room: " + message["room"]}, room=socket.id)


@sio.event
async def close_room(socket: realtime.Socket, message: dict[str, Any]) -> None:
    await sio.emit(
        "my_response", {"data": "Room " + message["room"] + " is closing."}, room=message["room"]
    )
    await sio.close_room(message["room"])


@sio.event
async def my_room_event(socket: realtime.Socket, message: dict[str, Any]) -> None:
    await sio.emit(
        "my_response", {"data": message["data"]}, room=message["room"], skip_sid=socket.id
    )


@sio.event
async def login(socket: realtime.Socket, name: str) -> bool:
    await sio.save_session(socket.id, {"username": name})
    return True


@sio.event
async def whoami(socket: realtime.Socket) -> str | None:
    async with sio.session(socket.id) as session:
        session["asked"] = session.get("asked", 0) + 1
        return session.get("username")


@sio.event
async def disconnect_request(socket: realtime.Socket) -> None:
    await sio.disconnect(socket.id)


@sio.event
async def connect(socket: realtime.Socket, auth: dict[str, Any]) -> None:
    await sio.emit("my_response", {"data": "Connected", "count": 0}, room=socket.id)


@sio.event
def disconnect(socket: realtime.Socket, reason: str) -> None:
    print("Client disconnected, reason:", reason)


async def start_background_task(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(background_task())
    yield
    task.cancel()


app.cleanup_ctx.append(start_background_task)
app.router.add_get("/", index)


if __name__ == "__main__":
    realtime.run(app, port=8080)
