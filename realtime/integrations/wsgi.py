"""WSGI host: Flask (or any WSGI app) served by eventlet, by gevent, or by a
server with a thread per request (gunicorn's gthread worker, werkzeug),
WebSocket included.

Translates a WSGI environ into an :class:`~realtime.http.HttpRequest`, and
hands an accepted WebSocket's socket to the runtime
(:mod:`realtime.runtime.green` on eventlet's or gevent's hub, which serves it
from the hub's callbacks; :mod:`realtime.runtime.threads`, whose event loop
takes the socket as the front door's would); the runtime waits, the engine
decides. Paths the engine
does not own go to ``wsgi_app`` (404 without one); ``static_files`` serves
the application's pages.

Serve with ``eventlet.wsgi.server(eventlet.listen((host, port)), app)``,
``gevent.pywsgi.WSGIServer((host, port), app).serve_forever()``,
``gunicorn -k gevent app:app``, ``gunicorn -k gthread --threads 100 app:app``,
or werkzeug's ``run_simple(host, port, app, threaded=True)``. The runtime
starts with the first request, on the server's hub or on a loop thread of its own.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any, Final

from ..assets import StaticFiles, static_response
from ..errors import InvalidArgument
from ..http import AcceptWebSocket, CloseWebSocket, GreenHostRuntime, HttpRequest, HttpResponse
from ..runtime.asyncio import Mountable, check_mountable
from ..runtime.green import GreenHub, GreenRuntime
from ..runtime.handler_threads import check_handler_threads
from ..transports import http1
from ..transports import websocket as ws_framing

Environ = Mapping[str, Any]
StartResponse = Callable[..., Any]
WSGIApplication = Callable[[Environ, StartResponse], Iterable[bytes]]

_NOT_FOUND = HttpResponse(404, {"Content-Type": "text/plain"}, b"not found")
MODES: Final = ("auto", "eventlet", "gevent", "threads")


class WSGIApp:
    """Serve ``target`` (a Server or an Engine) as a WSGI application.

    ``wsgi_app`` gets every request off the Socket.IO path (without one,
    such a request gets 404); ``static_files`` maps URL paths to files
    served before it (:data:`realtime.assets.StaticFiles`).
    ``mode``: ``"auto"`` (eventlet's hub under eventlet's WSGI server,
    gevent's under gevent's or in a gevent-patched process, such as
    gunicorn's gevent worker, threads under any other), ``"eventlet"``,
    ``"gevent"`` or ``"threads"``. ``handler_threads``: on threads, how
    many worker threads run the plain ``def`` handlers, which may block
    there (a socket's handlers still run one after another)."""

    def __init__(
        self,
        target: Mountable,
        wsgi_app: WSGIApplication | None = None,
        static_files: StaticFiles | None = None,
        mode: str = "auto",
        handler_threads: int = 16,
    ) -> None:
        check_mountable(target, "realtime.WSGIApp")
        if mode not in MODES:
            raise InvalidArgument(f"mode is one of {', '.join(MODES)}, not {mode!r}")
        check_handler_threads(handler_threads, 1)
        self.handler_threads = handler_threads
        self.target = target
        self.engine = target.engine
        """The engine that answers the Socket.IO path."""
        self.wsgi_app = wsgi_app
        self.static_files: StaticFiles = dict(static_files or {})
        """The ``static_files`` option: URL path to file or folder."""
        self.mode = mode
        self.runtime: GreenHostRuntime | None = None
        """The runtime, made at the first request (None before)."""
        self._starting = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "") or "/"
        if self.engine.owns_path(path):
            runtime = self.runtime or self._start(environ)
            found = _socket_of(environ)
            if found is not None:
                _no_delay(found[0])
            request = _request(environ, path, self.engine.max_payload)
            decision = runtime.respond(request)
            if isinstance(decision, HttpResponse):
                return _respond(start_response, decision)
            return _websocket(found, start_response, request, decision, runtime)
        if self.static_files:
            answer = static_response(self.static_files, path)
            if answer is not None:
                return _respond(start_response, answer)
        if self.wsgi_app is not None:
            return self.wsgi_app(environ, start_response)
        return _respond(start_response, _NOT_FOUND)

    def _start(self, environ: Environ) -> GreenHostRuntime:
        """The runtime of the server the first request came from: the hub of
        eventlet's or gevent's, a loop thread of its own otherwise."""
        with self._starting:
            if self.runtime is not None:
                return self.runtime
            if self.mode == "auto":
                self.mode = _mode_of(environ)
            runtime: GreenHostRuntime
            if self.mode in ("eventlet", "gevent"):
                green = GreenRuntime(self.engine, _green_hub(self.mode))
                self.target.bind(green)
                runtime = green
            else:
                from ..runtime.threads import ThreadRuntime

                runtime = ThreadRuntime(self.target, handler_threads=self.handler_threads)
            runtime.start()
            self.runtime = runtime
            return runtime

    def close(self) -> None:
        """Close every client and stop the runtime (threads: the loop thread ends)."""
        runtime = self.runtime
        stop = getattr(runtime, "stop", None)
        if stop is not None:
            stop()


def _mode_of(environ: Environ) -> str:
    """The runtime that fits the server of ``environ``: gevent's requests run
    on its hub, where waiting on a loop thread would block every greenlet."""
    if "eventlet.input" in environ:
        return "eventlet"
    if str(environ.get("SERVER_SOFTWARE", "")).startswith("gevent"):
        return "gevent"
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        return "gevent"  # gunicorn's gevent worker, or a server on a patched socket
    return "threads"


def _green_hub(mode: str) -> GreenHub:
    if mode == "eventlet":
        from ..runtime.eventlet import EventletHub

        return EventletHub()
    from ..runtime.gevent import GeventHub

    return GeventHub()


def _websocket(
    found: tuple[Any, str] | None,
    start_response: StartResponse,
    request: HttpRequest,
    decision: AcceptWebSocket | CloseWebSocket,
    runtime: GreenHostRuntime,
) -> Iterable[bytes]:
    """Hand the connection's socket to the runtime, which answers the
    handshake and serves the WebSocket on it (framed by the core's
    RFC 6455, as behind the front door), then tell the server the
    connection was the WebSocket's. ``found``: the connection's socket
    and its server's name (:func:`_socket_of`)."""
    try:
        accept = ws_framing.accept_key(request.headers)
    except ws_framing.HandshakeError as exc:
        found, refusal = None, str(exc)
    else:
        refusal = "this WSGI server does not give the application its socket"
    if found is None:
        runtime.refuse_websocket(decision)
        answer = HttpResponse(400, {"Content-Type": "text/plain"}, refusal.encode())
        return _respond(start_response, answer)
    sock, server = found
    runtime.serve_socket(sock, decision, accept)
    # The server must not answer on a connection the WebSocket took: each
    # server has its way of hearing "the client is gone, say nothing".
    if server == "eventlet":
        import eventlet.wsgi

        return eventlet.wsgi.ALREADY_HANDLED  # type: ignore[no-any-return]
    if server == "gunicorn":
        raise StopIteration
    raise ConnectionResetError(errno.ECONNRESET, "the WebSocket has ended")


def _no_delay(sock: Any) -> None:
    """Send small answers at once on the request's connection (TCP_NODELAY),
    as aiohttp, uvicorn and Node set it: a server that writes an answer's
    head and body apart (gevent's WSGIServer) would otherwise wait for the
    client's delayed ACK, 40 ms per long-poll round trip."""
    with contextlib.suppress(OSError, AttributeError):  # not TCP, or no such call
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _socket_of(environ: Environ) -> tuple[Any, str] | None:
    """The connection's socket, and which server's it is; None where the
    server does not give it to the application."""
    if "eventlet.input" in environ:
        return environ["eventlet.input"].get_socket(), "eventlet"
    if "gunicorn.socket" in environ:
        return environ["gunicorn.socket"], "gunicorn"
    if "werkzeug.socket" in environ:
        return environ["werkzeug.socket"], "werkzeug"
    if str(environ.get("SERVER_SOFTWARE", "")).startswith("gevent"):
        stream = environ["wsgi.input"]
        stream = getattr(stream, "rfile", stream)  # gevent.pywsgi.Input around its file
        raw = getattr(stream, "raw", None)
        sock = getattr(raw, "_sock", None)
        # gevent's own socket class, which subclasses socket.socket only
        # once monkey-patching has replaced it
        if sock is not None and hasattr(sock, "sendall"):
            return sock, "gevent"
    return None


def _request(environ: Environ, path: str, limit: int) -> HttpRequest:
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    body = b""
    if environ.get("REQUEST_METHOD") == "POST":
        try:
            size = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            size = -1
        stream = environ["wsgi.input"]
        # past the limit, one byte more is enough for the engine to refuse it
        body = stream.read(min(size, limit + 1) if size >= 0 else limit + 1)
    return HttpRequest(
        method=environ.get("REQUEST_METHOD", "GET"),
        path=path,
        query=http1.parse_query(environ.get("QUERY_STRING", "")),
        headers=headers,
        body=body,
        remote_addr=environ.get("REMOTE_ADDR"),
        scheme=environ.get("wsgi.url_scheme", "http"),
    )


def _respond(start_response: StartResponse, answer: HttpResponse) -> list[bytes]:
    try:
        reason = HTTPStatus(answer.status).phrase
    except ValueError:
        reason = ""
    headers = list(answer.headers.items())
    headers.append(("Content-Length", str(len(answer.body))))
    start_response(f"{answer.status} {reason}".rstrip(), headers)
    return [answer.body]
