"""ASGI host: uvicorn, hypercorn, granian, or mounted in Starlette/FastAPI.

Translates ASGI scopes and messages into :class:`~realtime.http.HttpRequest`
and WebSocket messages and carries out what the runtime returns; decides
nothing about the protocol. Requests for paths the engine does not own go to
``other_asgi_app`` (404 without one); ``static_files`` serves the
application's pages.

The runtime starts on the server's event loop at ``lifespan.startup`` (or on
the first request, where lifespan does not reach the app, as in a Starlette
mount), so async handlers run on the server's loop; plain ``def`` ones too,
unless ``handler_threads`` gives them worker threads of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..assets import StaticFiles, static_response
from ..http import CloseWebSocket, HostRuntime, HttpRequest, HttpResponse
from ..runtime.asyncio import Mountable, check_mountable, close_runtime, open_runtime
from ..runtime.handler_threads import check_handler_threads
from ..transports import http1

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGI3App = Callable[[Scope, Receive, Send], Awaitable[None]]

_NOT_FOUND = HttpResponse(404, {"Content-Type": "text/plain"}, b"not found")


class ASGIApp:
    """Serve ``target`` (a Server or an Engine) as an ASGI application.

    ``other_asgi_app`` gets every request off the Socket.IO path (without
    one: a 404, or a WebSocket closed); ``static_files`` maps URL paths to files
    served before it (:data:`realtime.assets.StaticFiles`).
    ``handler_threads``: 0 runs plain ``def`` handlers on the server's loop,
    where one that blocks stalls every client; N runs them on up to N worker
    threads, where they may block (a socket's handlers still run one after
    another, in order), as FastAPI runs its ``def`` endpoints."""

    def __init__(
        self,
        target: Mountable,
        other_asgi_app: ASGI3App | None = None,
        static_files: StaticFiles | None = None,
        *,
        handler_threads: int = 0,
    ) -> None:
        check_mountable(target, "realtime.ASGIApp")
        check_handler_threads(handler_threads, 0)
        self.target = target
        self.engine = target.engine
        """The engine that answers the Socket.IO path."""
        self.other_asgi_app = other_asgi_app
        self.static_files: StaticFiles = dict(static_files or {})
        """The ``static_files`` option: URL path to file or folder."""
        self.handler_threads = handler_threads
        """The ``handler_threads`` option: worker threads for ``def`` handlers (0: none)."""
        self.runtime: HostRuntime | None = None
        """The runtime, made at lifespan startup or the first request (None before)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        path = _route_path(scope)
        if kind in ("http", "websocket") and self.engine.owns_path(path):
            runtime = self._start()
            request = _request(scope, path)
            if kind == "http":
                await self._http(request, receive, send, runtime)
            else:
                await self._websocket(request, scope, receive, send, runtime)
            return
        if kind == "http" and self.static_files:
            answer = static_response(self.static_files, path)
            if answer is not None:
                await _drain(receive)
                await _send_response(send, answer)
                return
        if self.other_asgi_app is not None:
            await self.other_asgi_app(scope, receive, send)
        elif kind == "http":
            await _send_response(send, _NOT_FOUND)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    # -- lifespan -----------------------------------------------------------------

    def _start(self) -> HostRuntime:
        if self.runtime is None:
            self.runtime = open_runtime(
                self.target, asyncio.get_running_loop(), self.handler_threads
            )
        return self.runtime

    async def _stop(self) -> None:
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            await close_runtime(self.target, runtime)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def observed() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._start()
            elif message["type"] == "lifespan.shutdown":
                await self._stop()
            return message

        if self.other_asgi_app is not None:
            await self.other_asgi_app(scope, observed, send)
            return
        while True:
            message = await observed()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- HTTP ---------------------------------------------------------------------

    async def _http(
        self, request: HttpRequest, receive: Receive, send: Send, runtime: HostRuntime
    ) -> None:
        request.body = await _read_body(receive, self.engine.max_payload)

        async def client_gone() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        decision = await runtime.respond(request, client_gone)
        if isinstance(decision, HttpResponse):
            await _send_response(send, decision)
        else:  # a WebSocket handshake in an HTTP scope: the server cannot upgrade it
            runtime.refuse_websocket(decision)
            await _send_response(
                send, HttpResponse(400, {"Content-Type": "text/plain"}, b"no WebSocket here")
            )

    # -- WebSocket ----------------------------------------------------------------

    async def _websocket(
        self,
        request: HttpRequest,
        scope: Scope,
        receive: Receive,
        send: Send,
        runtime: HostRuntime,
    ) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        decision = await runtime.respond(request)
        if isinstance(decision, HttpResponse):
            await _deny(scope, send, decision)
            return
        await send({"type": "websocket.accept"})
        if isinstance(decision, CloseWebSocket):
            await send({"type": "websocket.close", "code": decision.code})
            return
        await runtime.serve_websocket(decision, _Channel(receive, send))


class _Channel:
    """An accepted ASGI WebSocket as a :class:`~realtime.http.MessageChannel`."""

    __slots__ = ("_closed", "_receive", "_send")

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._closed = False

    async def receive(self) -> str | bytes | None:
        while not self._closed:
            message = await self._receive()
            kind = message["type"]
            if kind == "websocket.receive":
                text = message.get("text")
                if text is not None:
                    return str(text)
                data = message.get("bytes")
                if data is not None:
                    return bytes(data)
            elif kind == "websocket.disconnect":
                self._closed = True
        return None

    async def send(self, messages: list[str | bytes]) -> None:
        send = self._send
        for message in messages:
            if self._closed:
                return
            if isinstance(message, str):
                await send({"type": "websocket.send", "text": message})
            else:
                await send({"type": "websocket.send", "bytes": message})

    async def close(self, code: int) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._send({"type": "websocket.close", "code": code})
        except Exception:  # the client is gone already, and with it the need to say so
            return


def _route_path(scope: Scope) -> str:
    """The path below the app's mount point: servers and frameworks put the
    mount prefix in ``root_path``, and most leave it in ``path`` too."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def _request(scope: Scope, path: str) -> HttpRequest:
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", ())
    }
    if scope["type"] == "websocket":
        headers.setdefault("upgrade", "websocket")  # the server took the upgrade fields
    client = scope.get("client")
    scheme: str = scope.get("scheme", "http")
    return HttpRequest(
        method=scope.get("method", "GET"),
        path=path,
        query=http1.parse_query(scope.get("query_string", b"").decode("latin-1")),
        headers=headers,
        remote_addr=client[0] if client else None,
        scheme={"ws": "http", "wss": "https"}.get(scheme, scheme),
    )


async def _read_body(receive: Receive, limit: int) -> bytes:
    """At most ``limit + 1`` bytes: enough for the engine to refuse a larger one."""
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        if total <= limit:
            chunks.append(chunk[: limit + 1 - total])
        total += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _drain(receive: Receive) -> None:
    """Read a request's body we do not need, so the server can reuse the connection."""
    message = await receive()
    while message["type"] == "http.request" and message.get("more_body", False):
        message = await receive()


def _headers(answer: HttpResponse) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]


async def _send_response(send: Send, answer: HttpResponse) -> None:
    headers = _headers(answer)
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _deny(scope: Scope, send: Send, answer: HttpResponse) -> None:
    """Refuse a WebSocket handshake with the engine's HTTP answer where the
    server can send one (the ASGI denial extension), or a close otherwise."""
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": answer.status,
                "headers": _headers(answer),
            }
        )
        await send({"type": "websocket.http.response.body", "body": answer.body})
    else:
        await send({"type": "websocket.close", "code": 1008})
