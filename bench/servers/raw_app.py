"""The Python floor: Engine.IO 4 / Socket.IO 5 on bare aiohttp, nothing more.

It speaks just enough of the protocol for the load generator (the handshake,
the namespace CONNECT, events, acks, rooms, long-polling) and decodes and
encodes JSON as every real server must. It skips what a real server adds:
heartbeat timers, validation, upgrades, namespaces, binary, error answers.
Its numbers are the most a Python server on aiohttp can hope for, not a rival.

Usage: python raw_app.py PORT  (run from the peers' virtualenv)
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
from typing import Any

from aiohttp import WSMsgType, web

PING_INTERVAL_MS = 25_000
SEPARATOR = "\x1e"  # Engine.IO 4 joins packets of one polling payload with it
COMPACT = (",", ":")


def open_packet(sid: str, upgrades: list[str]) -> str:
    return "0" + json.dumps(
        {
            "sid": sid,
            "upgrades": upgrades,
            "pingInterval": PING_INTERVAL_MS,
            "pingTimeout": 20_000,
            "maxPayload": 1_000_000,
        },
        separators=COMPACT,
    )


class Session:
    """One Engine.IO session, on a WebSocket or on long-polling."""

    __slots__ = ("queue", "rooms", "sid", "waiter", "ws")

    def __init__(self, sid: str, ws: web.WebSocketResponse | None) -> None:
        self.sid = sid
        self.ws = ws
        self.queue: list[str] = []
        self.waiter: asyncio.Future[None] | None = None
        self.rooms: set[str] = set()

    async def send(self, text: str) -> None:
        if self.ws is not None:
            if not self.ws.closed:
                await self.ws.send_str(text)
            return
        self.queue.append(text)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Floor:
    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.rooms: dict[str, set[Session]] = {}

    def close(self, sess: Session) -> None:
        self.sessions.pop(sess.sid, None)
        for room in sess.rooms:
            members = self.rooms.get(room)
            if members is not None:
                members.discard(sess)
        sess.rooms.clear()

    async def on_packet(self, sess: Session, text: str) -> None:
        if not text or text[0] != "4":
            return  # pong, noop, close: nothing to do for the floor
        kind = text[1:2]
        if kind == "0":
            await sess.send(f'40{{"sid":"{sess.sid}"}}')
            return
        if kind != "2":
            return
        end = 2
        while text[end].isdigit():
            end += 1
        ack = text[2:end]
        args: list[Any] = json.loads(text[end:])
        name = args[0]
        if name == "echo":
            await sess.send("42" + json.dumps(args, separators=COMPACT))
        elif name == "echo_ack":
            await sess.send("43" + ack + json.dumps(args[1:], separators=COMPACT))
        elif name == "join":
            room = args[1]
            self.rooms.setdefault(room, set()).add(sess)
            sess.rooms.add(room)
            if ack:
                await sess.send("43" + ack + "[true]")
        elif name == "bcast":
            await self.broadcast(args[1]["room"], int(args[1]["n"]))

    async def broadcast(self, room: str, count: int) -> None:
        members = list(self.rooms.get(room, ()))
        for i in range(count):
            # Encoded once per event, like any sensible server.
            frame = "42" + json.dumps(
                ["ev", {"i": i, "t": time.time() * 1000.0}], separators=COMPACT
            )
            for member in members:
                await member.send(frame)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        sid = query.get("sid")
        if query.get("transport") == "websocket" and sid is None:
            return await self.websocket(request)
        if sid is None:
            sess = Session(secrets.token_urlsafe(15), None)
            self.sessions[sess.sid] = sess
            return text_response(open_packet(sess.sid, ["websocket"]))
        sess_or_none = self.sessions.get(sid)
        if sess_or_none is None:
            return web.Response(status=400, text='{"code":1,"message":"Session ID unknown"}')
        sess = sess_or_none
        if request.method == "POST":
            body = await request.text()
            for packet in body.split(SEPARATOR):
                await self.on_packet(sess, packet)
            return text_response("ok")
        if not sess.queue:
            sess.waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(sess.waiter, PING_INTERVAL_MS / 1000)
            except asyncio.TimeoutError:
                return text_response("2")
            finally:
                sess.waiter = None
        out = SEPARATOR.join(sess.queue)
        sess.queue.clear()
        return text_response(out)

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=1_000_000)
        await ws.prepare(request)
        sess = Session(secrets.token_urlsafe(15), ws)
        self.sessions[sess.sid] = sess
        try:
            await ws.send_str(open_packet(sess.sid, []))
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self.on_packet(sess, msg.data)
        finally:
            self.close(sess)
        return ws


def text_response(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/plain", charset="utf-8")


def build_app() -> web.Application:
    floor = Floor()
    app = web.Application()
    app.router.add_route("GET", "/socket.io/", floor.handle)
    app.router.add_route("POST", "/socket.io/", floor.handle)
    return app


def main() -> None:
    port = int(sys.argv[1])
    web.run_app(build_app(), host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
