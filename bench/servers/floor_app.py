"""The per-host polling floor: Engine.IO 4 long-polling / Socket.IO 5 on each host, nothing more.

raw_app.py is the floor on aiohttp; this is the same on the other hosts, for polling-echo
only: a bare ASGI app on uvicorn and a bare WSGI app (one, for every WSGI host) on eventlet,
gevent, gunicorn's gthread worker and werkzeug's threaded server, each started the way
psio_app.py starts python-socketio on that host. It speaks just enough of the protocol for
the load generator's polling-echo (the handshake, the namespace CONNECT, echoed events,
long-poll GETs parked until there is something to send or the ping interval passes) and
decodes and encodes the JSON of every event as every real server must. It skips what a real
server adds: heartbeat timers, validation, WebSocket and upgrades, namespaces, acks, rooms,
binary, error answers. Its numbers are the most a Python server on that host's HTTP handling
can hope for, not a rival.

Usage: python floor_app.py --host=uvicorn|eventlet|gevent|gunicorn|threads PORT
(either order; run from the peers' virtualenv)
"""

from __future__ import annotations

import sys

if "--host=gevent" in sys.argv:  # before anything imports socket or threading
    from gevent import monkey

    monkey.patch_all()

import asyncio
import json
import secrets
import socket
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

PING_INTERVAL_S = 25.0
SEPARATOR = "\x1e"  # Engine.IO 4 joins packets of one polling payload with it
COMPACT = (",", ":")
UNKNOWN_SID = b'{"code":1,"message":"Session ID unknown"}'
CONTENT_TYPE = "text/plain; charset=UTF-8"


def open_packet(sid: str) -> bytes:
    return (
        "0"
        + json.dumps(
            {
                "sid": sid,
                "upgrades": [],  # polling only
                "pingInterval": int(PING_INTERVAL_S * 1000),
                "pingTimeout": 20_000,
                "maxPayload": 1_000_000,
            },
            separators=COMPACT,
        )
    ).encode()


def session_id(query: str) -> str | None:
    # No percent-decoding: the sids handed out are token_urlsafe, which needs none.
    for part in query.split("&"):
        if part.startswith("sid="):
            return part[4:]
    return None


def answer(sid: str, packet: str) -> str | None:
    """What the server sends back for one packet the client sent, if anything."""
    if packet.startswith("42"):
        end = 2
        while packet[end].isdigit():  # an ack id (polling-echo sends none) precedes the JSON
            end += 1
        args: list[Any] = json.loads(packet[end:])
        if args[0] == "echo":
            return "42" + json.dumps(args, separators=COMPACT)
        return None
    if packet.startswith("40"):
        return f'40{{"sid":"{sid}"}}'
    return None  # pong, noop, close: nothing to do for the floor


# ASGI, for uvicorn: the parked GET awaits a future of its session.

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class AsgiSession:
    __slots__ = ("queue", "sid", "waiter")

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.queue: list[str] = []
        self.waiter: asyncio.Future[None] | None = None

    def push(self, packet: str) -> None:
        self.queue.append(packet)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


async def respond(send: Send, body: bytes, status: int = 200) -> None:
    headers = [(b"content-type", CONTENT_TYPE.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AsgiFloor:
    def __init__(self) -> None:
        self.sessions: dict[str, AsgiSession] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        sid = session_id(scope["query_string"].decode("latin-1"))
        if sid is None:
            sess = AsgiSession(secrets.token_urlsafe(15))
            self.sessions[sess.sid] = sess
            await respond(send, open_packet(sess.sid))
            return
        found = self.sessions.get(sid)
        if found is None:
            await respond(send, UNKNOWN_SID, 400)
            return
        sess = found
        if scope["method"] == "POST":
            chunks = []
            more = True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            for packet in b"".join(chunks).decode().split(SEPARATOR):
                reply = answer(sess.sid, packet)
                if reply is not None:
                    sess.push(reply)
            await respond(send, b"ok")
            return
        if not sess.queue:
            # a future and a timer, not wait_for (a task of its own per poll on 3.11):
            # the floor takes the cheapest wait asyncio has
            loop = asyncio.get_running_loop()
            waiter = sess.waiter = loop.create_future()
            timer = loop.call_later(PING_INTERVAL_S, sess.push, "2")
            try:
                await waiter
            finally:
                sess.waiter = None
                timer.cancel()
        out = SEPARATOR.join(sess.queue)
        sess.queue.clear()
        await respond(send, out.encode())


async def lifespan(receive: Receive, send: Send) -> None:
    # Answered rather than refused, so uvicorn starts as it does for the peers' apps.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


# WSGI, for eventlet, gevent, gunicorn and werkzeug: the parked GET blocks its
# thread (or greenlet) on a condition of its session.

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class WsgiSession:
    __slots__ = ("queue", "ready", "sid")

    def __init__(self, sid: str, ready: threading.Condition) -> None:
        self.sid = sid
        self.queue: list[str] = []
        self.ready = ready

    def push(self, packet: str) -> None:
        with self.ready:
            self.queue.append(packet)
            self.ready.notify()


class WsgiFloor:
    def __init__(
        self, condition: Callable[[], threading.Condition], socket_of: Callable[[Environ], Any]
    ) -> None:
        # eventlet is not monkey-patched (nor is python-socketio's app there): it needs
        # its green Condition; gevent's patching makes threading's green.
        self.condition = condition
        self.socket_of = socket_of
        self.sessions: dict[str, WsgiSession] = {}

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        # Answers leave at once (TCP_NODELAY), as aiohttp and uvicorn send them and as our
        # WSGIApp sets it on these hosts: a host that writes an answer's head and body apart
        # would otherwise wait out the client's delayed ACK, 40 ms a long-poll round trip,
        # and the floor would measure that instead of the host.
        self.socket_of(environ).setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sid = session_id(environ.get("QUERY_STRING", ""))
        if sid is None:
            sess = WsgiSession(secrets.token_urlsafe(15), self.condition())
            self.sessions[sess.sid] = sess
            return reply_with(start_response, open_packet(sess.sid))
        found = self.sessions.get(sid)
        if found is None:
            return reply_with(start_response, UNKNOWN_SID, "400 Bad Request")
        sess = found
        if environ["REQUEST_METHOD"] == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            for packet in body.decode().split(SEPARATOR):
                reply = answer(sess.sid, packet)
                if reply is not None:
                    sess.push(reply)
            return reply_with(start_response, b"ok")
        with sess.ready:
            if not sess.queue:
                sess.ready.wait(PING_INTERVAL_S)
            out = SEPARATOR.join(sess.queue) if sess.queue else "2"
            sess.queue.clear()
        return reply_with(start_response, out.encode())


def reply_with(start_response: StartResponse, body: bytes, status: str = "200 OK") -> list[bytes]:
    start_response(status, [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))])
    return [body]


def main() -> None:
    args = sys.argv[1:]
    port = int(next(arg for arg in args if not arg.startswith("--")))
    host = next((arg[len("--host=") :] for arg in args if arg.startswith("--host=")), "")
    # Each host started as psio_app.py starts python-socketio on it.
    if host == "uvicorn":
        import uvicorn

        uvicorn.run(AsgiFloor(), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    elif host == "eventlet":
        import eventlet
        import eventlet.wsgi
        from eventlet.green import threading as green_threading

        listener = eventlet.listen(("127.0.0.1", port), backlog=1024)
        app = WsgiFloor(green_threading.Condition, lambda env: env["eventlet.input"].get_socket())
        eventlet.wsgi.server(listener, app, log_output=False)
    elif host == "gevent":
        from gevent.pywsgi import WSGIServer

        # gevent gives no socket key: the socket under its Input's file
        app = WsgiFloor(threading.Condition, lambda env: env["wsgi.input"].rfile.raw._sock)
        WSGIServer(("127.0.0.1", port), app, log=None, backlog=1024).serve_forever()
    elif host == "gunicorn":
        import gunicorn_host

        app = WsgiFloor(threading.Condition, lambda env: env["gunicorn.socket"])
        gunicorn_host.serve(app, port)
    elif host == "threads":
        from werkzeug.serving import make_server

        app = WsgiFloor(threading.Condition, lambda env: env["werkzeug.socket"])
        make_server("127.0.0.1", port, app, threaded=True).serve_forever()
    else:
        raise SystemExit("--host=uvicorn|eventlet|gevent|gunicorn|threads")


if __name__ == "__main__":
    main()
