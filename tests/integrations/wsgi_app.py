"""Flask with realtime.WSGIApp and plain ``def`` handlers, on eventlet's WSGI
server, on gevent's (monkey-patched) or on werkzeug's threaded one
(``python wsgi_app.py eventlet|gevent|threads``); serves on a free loopback
port and prints it (tests/integrations/test_wsgi.py)."""

from __future__ import annotations

import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "eventlet"
if HOST == "gevent":
    from gevent import monkey

    monkey.patch_all()

import threading  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask  # noqa: E402

import realtime  # noqa: E402

sio = realtime.Server(ping_interval=5, ping_timeout=5)
flask_app = Flask(__name__)


@flask_app.route("/hello")
def hello() -> str:
    return "hello from flask"


@flask_app.route("/runtime")
def runtime() -> str:
    return app.mode  # the runtime mode="auto" chose for this server


@flask_app.route("/gevent-loop")
def gevent_loop() -> str:
    import gevent

    return type(gevent.get_hub().loop).__module__  # gevent.libev.corecext, gevent.libuv.loop


@flask_app.route("/broadcast/<text>")
def broadcast(text: str) -> str:
    sio.emit("news", text)  # from a Flask view: the hub's green thread, or a request thread
    return "sent"


@flask_app.route("/from-thread/<text>")
def from_thread(text: str) -> str:
    # A real OS thread on every host, whose calls the runtime takes over to
    # its hub or loop.
    def job() -> None:
        sio.emit("news", text)
        sio.start_background_task(sio.emit, "news", text + " again")

    in_os_thread(job)
    return "started"


@sio.on("echo")
def echo(socket: realtime.Socket, data: Any) -> Any:
    return {"echo": data, "transport": socket.conn.transport}


@sio.on("in_a_thread")
def in_a_thread(socket: realtime.Socket, n: int) -> None:
    def job() -> None:  # asks the client from a thread, and waits there for its ack
        socket.emit("thread_done", socket.call("question", n, timeout=5).result(5))

    in_os_thread(job)


def in_os_thread(job: Callable[[], None]) -> None:
    """``job()`` in a real OS thread: eventlet is not monkey-patched here;
    gevent is, so its threads are greenlets, and its thread pool's are real."""
    if HOST == "gevent":
        import gevent

        gevent.get_hub().threadpool.spawn(job)
    else:
        threading.Thread(target=job).start()


# What blocks a handler's own thread: a green thread's on eventlet and
# gevent, a worker thread's on threads (where a def handler runs on one).
blocking_sleep: Callable[[float], Any]
if HOST == "eventlet":
    import eventlet
    import eventlet.wsgi

    blocking_sleep = eventlet.sleep
elif HOST == "gevent":
    import gevent

    blocking_sleep = gevent.sleep
else:
    import time

    blocking_sleep = time.sleep


@sio.on("slow")
def slow(socket: realtime.Socket, n: int) -> int:
    blocking_sleep(0.05)  # blocks this handler's thread only
    socket.emit("slow_done", n)
    return n


@sio.on("greenlet")
def in_a_greenlet(socket: realtime.Socket, n: int) -> None:
    def job() -> None:  # a background task of its own asks the client, and waits
        socket.emit("thread_done", socket.call("question", n, timeout=5).result(5))

    sio.start_background_task(job)


@sio.on("ask_me")
def ask_me(socket: realtime.Socket) -> Any:
    try:
        return {"reply": socket.call("question", 21, timeout=5).wait()}
    except Exception as exc:
        return {"error": repr(exc)}


@sio.on("ask_unanswered")
def ask_unanswered(socket: realtime.Socket) -> None:
    try:  # the client never answers: the runtime's timer ends the wait
        outcome = repr(socket.call("unanswered", timeout=0.2).result())
    except realtime.AckTimeout:
        outcome = "timed out"
    socket.emit("outcome", outcome)


@sio.on("ask_me_async")
async def ask_me_async(socket: realtime.Socket) -> Any:
    # An async def runs on the loop (threads) or in a green thread: it awaits the ack.
    return {"reply": await socket.call("question", 21, timeout=5)}


app = realtime.WSGIApp(sio, flask_app)

if __name__ == "__main__":
    if HOST == "eventlet":
        listener = eventlet.listen(("127.0.0.1", 0))
        print(listener.getsockname()[1], flush=True)
        eventlet.wsgi.server(listener, app, log_output=False, log=sys.stderr)
    elif HOST == "gevent":
        from gevent.pywsgi import WSGIServer

        server = WSGIServer(("127.0.0.1", 0), app, log=None)
        server.start()
        print(server.address[1], flush=True)
        server.serve_forever()
    else:
        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", 0, app, threaded=True)
        print(server.socket.getsockname()[1], flush=True)
        server.serve_forever()
