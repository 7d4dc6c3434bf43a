"""Our server: the benchmark's tiny app on the public ``realtime`` API.

Usage: python realtime_app.py [--loop=asyncio] [--host=uvicorn|eventlet|gevent|gunicorn|threads]
[--echo=async] PORT  (run with the project's environment; the default loop is realtime.run's:
uvloop where installed; the default host is the embedded one, realtime.run; uvicorn serves
realtime.ASGIApp on its own default loop, uvloop here; eventlet serves realtime.WSGIApp, and so
do gevent's WSGIServer (monkey-patched), gunicorn's gthread worker and werkzeug's threaded
server for threads, its echo a plain def unless --echo=async)
"""

from __future__ import annotations

import sys

if "--host=gevent" in sys.argv:  # before anything imports socket or threading
    from gevent import monkey

    monkey.patch_all()

import os
import time
from typing import Any

import realtime
from realtime.integrations.aiohttp import new_event_loop


def build_server(plain: bool = False) -> realtime.Server:
    """The app; ``plain``: its echo a plain ``def``, as a WSGI app's handlers
    are (and python-socketio's peer app on those hosts), rather than an
    ``async def`` that never awaits. On threads a plain handler runs on a
    worker thread; elsewhere both run the same way."""
    # BENCH_REDIS_URL: a node of a Redis cluster (bench/cluster.py), else alone.
    redis_url = os.environ.get("BENCH_REDIS_URL")
    cluster: dict[str, Any] = {"adapter": realtime.RedisAdapter(redis_url)} if redis_url else {}
    sio = realtime.Server(
        **cluster,
        ping_interval=25,
        ping_timeout=20,
        max_payload=1_000_000,
        cors_allowed_origins="*",
        transports=("polling", "websocket"),
        path="/socket.io",
        # The load generator is one address sending as fast as it can: the
        # per-address and per-connection limits would refuse it (the peers
        # benchmarked have none). What they cost is bench/instructions.py's.
        max_connections_per_address=None,
        handshakes_per_second=None,
        events_per_second=None,
    )

    if plain:

        @sio.on("echo")
        def echo(socket: realtime.Socket, *args: Any) -> None:
            socket.emit("echo", *args)

    else:

        @sio.on("echo")
        async def echo_async(socket: realtime.Socket, *args: Any) -> None:
            socket.emit("echo", *args)

    @sio.on("echo_ack")
    def echo_ack(socket: realtime.Socket, data: Any) -> Any:
        return data

    @sio.on("join")
    def join(socket: realtime.Socket, room: str) -> bool:
        socket.join(room)
        return True

    @sio.on("bcast")
    def bcast(socket: realtime.Socket, req: dict[str, Any]) -> None:
        room = req["room"]
        for i in range(int(req["n"])):
            sio.emit("ev", {"i": i, "t": time.time() * 1000.0}, to=room)

    return sio


def main() -> None:
    flags, port = sys.argv[1:-1], int(sys.argv[-1])
    if "--host=uvicorn" in flags:  # `--servers realtime-uvicorn`
        import uvicorn

        app = realtime.ASGIApp(build_server())
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return
    if "--host=eventlet" in flags:  # `--servers realtime-eventlet`
        import eventlet
        import eventlet.wsgi

        listener = eventlet.listen(("127.0.0.1", port), backlog=1024)
        app = realtime.WSGIApp(build_server(plain=True))
        eventlet.wsgi.server(listener, app, log_output=False)
        return
    if "--host=gevent" in flags:  # `--servers realtime-gevent`
        from gevent.pywsgi import WSGIServer

        app = realtime.WSGIApp(build_server(plain=True), mode="gevent")
        WSGIServer(("127.0.0.1", port), app, log=None, backlog=1024).serve_forever()
        return
    if "--host=gunicorn" in flags:  # `--servers realtime-gunicorn`
        import gunicorn_host

        gunicorn_host.serve(realtime.WSGIApp(build_server(plain=True), mode="threads"), port)
        return
    if "--host=threads" in flags:  # `--servers realtime-threads`
        from werkzeug.serving import make_server

        # `--echo=async`: the echo an async def, run on the loop's thread
        plain = "--echo=async" not in flags
        app = realtime.WSGIApp(build_server(plain=plain), mode="threads")
        make_server("127.0.0.1", port, app, threaded=True).serve_forever()
        return
    options: dict[str, Any] = {}
    if "--loop=asyncio" in flags:  # `--servers realtime-asyncio`
        options["loop"] = new_event_loop("asyncio")
    realtime.run(build_server(), host="127.0.0.1", port=port, **options)


if __name__ == "__main__":
    main()
