"""The server the official Engine.IO and Socket.IO protocol suites expect.

``socketio/engine.io-protocol`` and ``socketio/socket.io-protocol`` each ship
a ``test-suite/`` that checks a server for compliance. Both expect one server
with these settings: a heartbeat of 300 ms plus 200 ms, a ``maxPayload`` of
1,000,000, any Origin, a bare Engine.IO echo at ``/engine.io`` and, at
``/socket.io``, a Socket.IO server whose handlers answer as below (the
``/custom`` namespace only greets) and that closes a connection without a
namespace after one second.

``scripts/official-suites.sh`` runs both suites against this app;
``tests/official/`` checks the same cases in our own tests.

    python -m tests.official.app --port 0 [--host-mode door|aiohttp]

prints ``listening on PORT`` once it serves on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from aiohttp import web

import realtime
from realtime.integrations.aiohttp import FrontDoorSite, new_event_loop

PING_INTERVAL = 0.3
PING_TIMEOUT = 0.2
MAX_PAYLOAD = 1_000_000
CONNECT_TIMEOUT = 1.0


def build_engine() -> realtime.Engine:
    """The Engine.IO suite's server: every message comes back as it came."""
    engine = realtime.Engine(
        ping_interval=PING_INTERVAL,
        ping_timeout=PING_TIMEOUT,
        max_payload=MAX_PAYLOAD,
        cors_allowed_origins="*",
        path="/engine.io",
    )

    @engine.on("message")
    def echo(conn: Any, data: Any) -> None:
        conn.send(data)

    return engine


def build_server() -> realtime.Server:
    """The Socket.IO suite's server."""
    sio = realtime.Server(
        ping_interval=PING_INTERVAL,
        ping_timeout=PING_TIMEOUT,
        max_payload=MAX_PAYLOAD,
        connect_timeout=CONNECT_TIMEOUT,
        cors_allowed_origins="*",
        path="/socket.io",
    )

    def greet(socket: realtime.Socket, auth: Any) -> None:
        socket.emit("auth", auth)

    sio.on("connect", greet)
    sio.on("connect", greet, namespace="/custom")

    @sio.on("message")
    def message(socket: realtime.Socket, *args: Any) -> None:
        socket.emit("message-back", *args)

    @sio.on("message-with-ack")
    def message_with_ack(socket: realtime.Socket, *args: Any) -> tuple[Any, ...]:
        return args  # a tuple answers the ack with several arguments

    return sio


def build_app() -> web.Application:
    app = web.Application()
    realtime.attach(build_engine(), app)
    realtime.attach(build_server(), app)
    return app


async def serve(port: int, host_mode: str) -> None:
    runner = web.AppRunner(build_app(), access_log=None)
    await runner.setup()
    site: web.TCPSite
    if host_mode == "door":
        site = FrontDoorSite(runner, "127.0.0.1", port)
    else:
        site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server: Any = site._server  # asyncio's or uvloop's Server: both list their sockets
    bound = server.sockets[0].getsockname()[1]
    print(f"listening on {bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        if isinstance(site, FrontDoorSite):
            site.close_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--host-mode", choices=("door", "aiohttp"), default="door")
    parser.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), default="auto")
    args = parser.parse_args()
    loop = new_event_loop(args.loop)
    try:
        loop.run_until_complete(serve(args.port, args.host_mode))
    except KeyboardInterrupt:
        pass
    finally:
        loop.close()


if __name__ == "__main__":
    main()
