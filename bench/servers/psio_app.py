"""The python-socketio 5.18 peer on aiohttp: the benchmark's tiny app.

Usage: python psio_app.py [--host=uvicorn|eventlet|gevent|gunicorn|threads] PORT  (run from
the peers' virtualenv; uvicorn serves its socketio.ASGIApp, eventlet its socketio.WSGIApp with
a socketio.Server in eventlet mode, gevent the same in gevent mode on gevent's WSGIServer
(monkey-patched), gunicorn and threads the same in threading mode on gunicorn's gthread
worker and on werkzeug's threaded server: each host's peer for our server on the same host)
"""

from __future__ import annotations

import sys

if "--host=gevent" in sys.argv:  # before anything imports socket or threading
    from gevent import monkey

    monkey.patch_all()

import time
from typing import Any

import socketio  # type: ignore[import-untyped]
from aiohttp import web

_OPTIONS: dict[str, Any] = {
    "cors_allowed_origins": "*",
    "ping_interval": 25,
    "ping_timeout": 20,
    "max_http_buffer_size": 1_000_000,
    "transports": ["polling", "websocket"],
    "logger": False,
    "engineio_logger": False,
}


def build_server(async_mode: str) -> Any:
    """The asyncio app's server, for ``async_mode`` "aiohttp" or "asgi"."""
    sio = socketio.AsyncServer(async_mode=async_mode, **_OPTIONS)

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

    return sio


def build_app() -> web.Application:
    app = web.Application()
    build_server("aiohttp").attach(app, socketio_path="socket.io")
    return app


def build_wsgi_app(async_mode: str) -> Any:
    """The same app on python-socketio's ``def`` handlers, for ``async_mode``
    "eventlet", "gevent" or "threading"."""
    sio = socketio.Server(async_mode=async_mode, **_OPTIONS)

    @sio.on("echo")  # type: ignore[untyped-decorator]
    def echo(sid: str, data: Any) -> None:
        sio.emit("echo", data, to=sid)

    @sio.on("echo_ack")  # type: ignore[untyped-decorator]
    def echo_ack(sid: str, data: Any) -> Any:
        return data

    @sio.on("join")  # type: ignore[untyped-decorator]
    def join(sid: str, room: str) -> bool:
        sio.enter_room(sid, room)
        return True

    @sio.on("bcast")  # type: ignore[untyped-decorator]
    def bcast(sid: str, req: dict[str, Any]) -> None:
        for i in range(int(req["n"])):
            sio.emit("ev", {"i": i, "t": time.time() * 1000.0}, room=req["room"])

    return socketio.WSGIApp(sio)


def main() -> None:
    flags, port = sys.argv[1:-1], int(sys.argv[-1])
    if "--host=uvicorn" in flags:
        import uvicorn

        app = socketio.ASGIApp(build_server("asgi"))
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return
    if "--host=eventlet" in flags:
        import eventlet
        import eventlet.wsgi

        listener = eventlet.listen(("127.0.0.1", port), backlog=1024)
        eventlet.wsgi.server(listener, build_wsgi_app("eventlet"), log_output=False)
        return
    if "--host=gevent" in flags:
        from gevent.pywsgi import WSGIServer

        app = build_wsgi_app("gevent")
        WSGIServer(("127.0.0.1", port), app, log=None, backlog=1024).serve_forever()
        return
    if "--host=gunicorn" in flags:
        import gunicorn_host

        gunicorn_host.serve(build_wsgi_app("threading"), port)
        return
    if "--host=threads" in flags:
        from werkzeug.serving import make_server

        make_server("127.0.0.1", port, build_wsgi_app("threading"), threaded=True).serve_forever()
        return
    # No access log: every server in the comparison runs without one.
    web.run_app(build_app(), host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
