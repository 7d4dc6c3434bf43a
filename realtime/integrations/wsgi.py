"""WSGI host: Flask (or any WSGI app) served by eventlet, by gevent, or by a
server with a thread per request (gunicorn's gthread worker, werkzeug),
WebSocket included.

Translates a WSGI environ into an :class:`~realtime.http.HttpRequest`, and a
WebSocket (eventlet's, or simple-websocket's on gevent and on threads) into
whole messages (a :class:`~realtime.http.GreenChannel`); the runtime
(:mod:`realtime.runtime.green` on eventlet's or gevent's hub,
:mod:`realtime.runtime.threads`) waits, the engine decides. Paths the engine
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
from ..transports import http1

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
    ``"gevent"`` or ``"threads"``. ``max_in_flight``
    (threads): messages of one WebSocket handed to the loop and not yet
    taken before its reader waits (default 64)."""

    def __init__(
        self,
        target: Mountable,
        wsgi_app: WSGIApplication | None = None,
        static_files: StaticFiles | None = None,
        mode: str = "auto",
        max_in_flight: int = 64,
    ) -> None:
        check_mountable(target, "realtime.WSGIApp")
        if mode not in MODES:
            raise InvalidArgument(f"mode is one of {', '.join(MODES)}, not {mode!r}")
        if max_in_flight < 1:
            raise InvalidArgument("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
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
            request = _request(environ, path, self.engine.max_payload)
            decision = runtime.respond(request)
            if isinstance(decision, HttpResponse):
                return _respond(start_response, decision)
            if self.mode == "eventlet":
                return _eventlet_websocket(
                    environ, start_response, decision, runtime, self.engine.max_payload
                )
            return _simple_websocket(
                environ, start_response, decision, runtime, self.engine.max_payload, self.mode
            )
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

                runtime = ThreadRuntime(self.target, max_in_flight=self.max_in_flight)
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


def _eventlet_websocket(
    environ: Environ,
    start_response: StartResponse,
    decision: AcceptWebSocket | CloseWebSocket,
    runtime: GreenHostRuntime,
    max_payload: int,
) -> Iterable[bytes]:
    """Complete the handshake with eventlet's WebSocket, then serve it.

    eventlet frames the socket, permessage-deflate included, and inflates
    to ``max_payload`` at most (its frame limit)."""
    from eventlet import websocket as eventlet_ws

    accepted = False
    environ = _offers_agreed(environ, decision)

    def serve(ws: Any) -> None:
        nonlocal accepted
        accepted = True
        if isinstance(decision, CloseWebSocket):
            ws.close(close_data=(decision.code, ""))
        else:
            channel = _Channel(ws.wait, ws.send, lambda code: ws.close(close_data=(code, "")))
            runtime.serve_websocket(decision, channel)

    answer = eventlet_ws.WebSocketWSGI(serve, max_frame_length=max_payload)(environ, start_response)
    if not accepted:  # eventlet refused the handshake (a bad key, an old version)
        runtime.refuse_websocket(decision)
    return answer  # type: ignore[no-any-return]


def _offers_agreed(environ: Environ, decision: AcceptWebSocket | CloseWebSocket) -> Environ:
    """``environ`` as the server's WebSocket should see it. eventlet and
    simple-websocket agree to any permessage-deflate offer they see, so an
    offer the engine did not agree to (``per_message_deflate`` off, its
    default) is hidden from them."""
    if isinstance(decision, AcceptWebSocket) and decision.deflate is not None:
        return environ
    return {k: v for k, v in environ.items() if k != "HTTP_SEC_WEBSOCKET_EXTENSIONS"}


def _simple_websocket(
    environ: Environ,
    start_response: StartResponse,
    decision: AcceptWebSocket | CloseWebSocket,
    runtime: GreenHostRuntime,
    max_payload: int,
    mode: str,
) -> Iterable[bytes]:
    """Complete the handshake with simple-websocket on the server's socket,
    serve it, then tell the server the connection was the WebSocket's. A
    message over ``max_payload`` is refused (1009) as it arrives, before
    simple-websocket has gathered all of it. On gevent its reader is a
    greenlet, monkey-patched or not."""
    import simple_websocket

    classes: dict[str, Any] = {}
    if mode == "gevent":
        from ..runtime.gevent import websocket_classes

        classes = websocket_classes()
    try:
        ws = simple_websocket.Server(
            _offers_agreed(environ, decision), max_message_size=max_payload, **classes
        )
    except Exception:  # no socket in this server's environ, or a bad handshake
        runtime.refuse_websocket(decision)
        answer = HttpResponse(400, {"Content-Type": "text/plain"}, b"no WebSocket here")
        return _respond(start_response, answer)
    if isinstance(decision, CloseWebSocket):
        ws.close(decision.code)
    else:

        def receive() -> Any:
            try:
                return ws.receive()
            except simple_websocket.ConnectionClosed:
                return None

        def close(code: int) -> None:
            with contextlib.suppress(simple_websocket.ConnectionClosed):  # the client closed first
                ws.close(code)
            # A client may never answer the close frame (socket.io-client 1.x
            # does not): end the TCP connection, as eventlet's WebSocket does,
            # so that simple-websocket's reader and the request thread stop.
            ws.sock.shutdown(socket.SHUT_RDWR)

        runtime.serve_websocket(decision, _Channel(receive, ws.send, close))
    # The server must not answer on a connection the WebSocket took: each
    # server has its way of hearing "the client is gone, say nothing".
    if ws.mode == "gunicorn":
        raise StopIteration
    raise ConnectionResetError(errno.ECONNRESET, "the WebSocket has ended")


class _Channel:
    """A server's WebSocket (eventlet's, simple-websocket's) as a
    :class:`~realtime.http.GreenChannel`: ``receive`` gives a message, or
    None once the client has gone; sending after that does nothing."""

    __slots__ = ("_close", "_closed", "_receive", "_send")

    def __init__(
        self,
        receive: Callable[[], Any],
        send: Callable[[str | bytes], Any],
        close: Callable[[int], Any],
    ) -> None:
        self._receive = receive
        self._send = send
        self._close = close
        self._closed = False

    def receive(self) -> str | bytes | None:
        if self._closed:
            return None
        try:
            message = self._receive()
        except OSError:
            message = None
        if message is None:
            self._closed = True
            return None
        return message if isinstance(message, (str, bytes)) else bytes(message)

    def send(self, messages: list[str | bytes]) -> None:
        for message in messages:
            if self._closed:
                return
            self._send(message)

    def close(self, code: int) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._close(code)
        except OSError:  # the client is gone already
            return


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
