"""WSGI host: Flask (or any WSGI app) served by eventlet, WebSocket included.

Translates a WSGI environ into an :class:`~realtime.http.HttpRequest`, and an
eventlet WebSocket into whole messages (a :class:`~realtime.http.GreenChannel`);
the runtime (:mod:`realtime.runtime.eventlet`) waits, the engine decides.
Paths the engine does not own go to ``wsgi_app`` (404 without one);
``static_files`` serves the application's pages.

Serve with ``eventlet.wsgi.server(eventlet.listen((host, port)), app)``. The
runtime starts with the first request, on the server's hub.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

from eventlet import websocket as eventlet_ws

from ..assets import StaticFiles, static_response
from ..http import AcceptWebSocket, CloseWebSocket, GreenHostRuntime, HttpRequest, HttpResponse
from ..runtime.asyncio import Mountable
from ..runtime.eventlet import EventletRuntime
from ..transports import http1

Environ = Mapping[str, Any]
StartResponse = Callable[..., Any]
WSGIApplication = Callable[[Environ, StartResponse], Iterable[bytes]]

_NOT_FOUND = HttpResponse(404, {"Content-Type": "text/plain"}, b"not found")


class WSGIApp:
    """Serve ``target`` (a Server or an Engine) as a WSGI application.

    ``wsgi_app`` gets every request off the Socket.IO path (without one,
    such a request gets 404); ``static_files`` maps URL paths to files
    served before it (:data:`realtime.assets.StaticFiles`)."""

    def __init__(
        self,
        target: Mountable,
        wsgi_app: WSGIApplication | None = None,
        static_files: StaticFiles | None = None,
    ) -> None:
        self.target = target
        self.engine = target.engine
        """The engine that answers the Socket.IO path."""
        self.wsgi_app = wsgi_app
        self.static_files: StaticFiles = dict(static_files or {})
        """The ``static_files`` option: URL path to file or folder."""
        self.runtime: GreenHostRuntime | None = None
        """The runtime, made at the first request (None before)."""

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "") or "/"
        if self.engine.owns_path(path):
            runtime = self._start()
            request = _request(environ, path, self.engine.max_payload)
            decision = runtime.respond(request)
            if isinstance(decision, HttpResponse):
                return _respond(start_response, decision)
            return _websocket(environ, start_response, decision, runtime, self.engine.max_payload)
        if self.static_files:
            answer = static_response(self.static_files, path)
            if answer is not None:
                return _respond(start_response, answer)
        if self.wsgi_app is not None:
            return self.wsgi_app(environ, start_response)
        return _respond(start_response, _NOT_FOUND)

    def _start(self) -> GreenHostRuntime:
        if self.runtime is None:
            runtime = EventletRuntime(self.engine)
            self.target.bind(runtime)
            runtime.start()
            self.runtime = runtime
        return self.runtime


def _websocket(
    environ: Environ,
    start_response: StartResponse,
    decision: AcceptWebSocket | CloseWebSocket,
    runtime: GreenHostRuntime,
    max_payload: int,
) -> Iterable[bytes]:
    """Complete the handshake with eventlet's WebSocket, then serve it.

    eventlet frames the socket, permessage-deflate included: it agrees to
    any offer it sees, so an offer the engine did not agree to is hidden
    from it, and it inflates to ``max_payload`` at most (its frame limit)."""
    accepted = False
    if not isinstance(decision, AcceptWebSocket) or decision.deflate is None:
        environ = {k: v for k, v in environ.items() if k != "HTTP_SEC_WEBSOCKET_EXTENSIONS"}

    def serve(ws: Any) -> None:
        nonlocal accepted
        accepted = True
        if isinstance(decision, CloseWebSocket):
            ws.close(close_data=(decision.code, ""))
        else:
            runtime.serve_websocket(decision, _Channel(ws))

    answer = eventlet_ws.WebSocketWSGI(serve, max_frame_length=max_payload)(environ, start_response)
    if not accepted:  # eventlet refused the handshake (a bad key, an old version)
        runtime.refuse_websocket(decision)
    return answer  # type: ignore[no-any-return]


class _Channel:
    """An eventlet WebSocket as a :class:`~realtime.http.GreenChannel`."""

    __slots__ = ("_closed", "_ws")

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._closed = False

    def receive(self) -> str | bytes | None:
        if self._closed:
            return None
        try:
            message = self._ws.wait()
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
            self._ws.send(message)

    def close(self, code: int) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._ws.close(close_data=(code, ""))
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
