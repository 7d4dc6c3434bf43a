"""The python-socketio 5.18 peer on aiohttp: the benchmark's tiny app.

Usage: python psio_app.py PORT  (run from the peers' virtualenv)
"""

from __future__ import annotations

import sys
import time
from typing import Any

import socketio  # type: ignore[import-untyped]
from aiohttp import web


def build_app() -> web.Application:
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        cors_allowed_origins="*",
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=1_000_000,
        transports=["polling", "websocket"],
        logger=False,
        engineio_logger=False,
    )

    @sio.on("echo")  # type: ignore[untyped-decorator]
    async def echo(sid: str, data: Any) -> None:
        await sio.emit("echo", data, to=sid)

    @sio.on("echo_ack")  # type: ignore[untyped-decorator]
    async def echo_ack(sid: str, data: Any) -> Any:
        return data

    @sio.on("join")  # type: ignore[untyped-decorator]
    async def join(sid: str, room: str) -> bool:
        await sio.enter_room(sid, room)
        return True

    @sio.on("bcast")  # type: ignore[untyped-decorator]
    async def bcast(sid: str, req: dict[str, Any]) -> None:
        for i in range(int(req["n"])):
            await sio.emit("ev", {"i": i, "t": time.time() * 1000.0}, room=req["room"])

    app = web.Application()
    sio.attach(app, socketio_path="socket.io")
    return app


def main() -> None:
    port = int(sys.argv[1])
    # No access log: every server in the comparison runs without one.
    web.run_app(build_app(), host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
