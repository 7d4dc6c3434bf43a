"""Flask on eventlet with realtime.WSGIApp and plain ``def`` handlers; serves
on a free loopback port and prints it (tests/integrations/test_wsgi_eventlet.py)."""

from __future__ import annotations

import sys
import threading
from typing import Any

import eventlet
import eventlet.wsgi
from flask import Flask

import realtime

sio = realtime.Server(ping_interval=5, ping_timeout=5)
flask_app = Flask(__name__)


@flask_app.route("/hello")
def hello() -> str:
    return "hello from flask"


@flask_app.route("/broadcast/<text>")
def broadcast(text: str) -> str:
    sio.emit("news", text)  # from a Flask view, on the server's hub
    return "sent"


@flask_app.route("/from-thread/<text>")
def from_thread(text: str) -> str:
    # eventlet is not monkey-patched here: this is a real OS thread, whose
    # calls the runtime takes over to its hub
    def job() -> None:
        sio.emit("news", text)
        sio.start_background_task(sio.emit, "news", text + " again")

    threading.Thread(target=job).start()
    return "started"


@sio.on("echo")
def echo(socket: realtime.Socket, data: Any) -> Any:
    return {"echo": data, "transport": socket.conn.transport}


@sio.on("slow")
def slow(socket: realtime.Socket, n: int) -> int:
    eventlet.sleep(0.05)  # blocks this green thread only
    socket.emit("slow_done", n)
    return n


@sio.on("ask_me")
def ask_me(socket: realtime.Socket) -> Any:
    try:
        return {"reply": socket.call("question", 21, timeout=5).wait()}
    except Exception as exc:
        return {"error": repr(exc)}


app = realtime.WSGIApp(sio, flask_app)

if __name__ == "__main__":
    listener = eventlet.listen(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    eventlet.wsgi.server(listener, app, log_output=False, log=sys.stderr)
