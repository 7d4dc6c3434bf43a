"""aiohttp host: translates aiohttp requests and WebSockets, decides nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from ..engine import Engine
from ..http import AcceptWebSocket, HttpRequest, HttpResponse, LongPoll
from ..runtime.asyncio import AsyncioRuntime
from ..transports import websocket as ws_framing

logger = logging.getLogger("realtime")

_RUNTIME_KEY = web.AppKey("realtime_runtimes", list)


class Mountable(Protocol):
    """A Server or an Engine."""

    @property
    def engine(self) -> Engine: ...

    def bind(self, runtime: Any) -> None: ...

    def shutdown(self) -> None: ...


async def _read_body(request: web.Request, limit: int) -> bytes:
    """At most ``limit`` bytes; a larger body is cut and rejected by the engine."""
    size = request.content_length
    if size is not None:
        if size > limit:
            return b"\0" * (limit + 1)  # known too large: do not read it
        try:
            return await request.content.readexactly(size)
        except asyncio.IncompleteReadError as exc:
            return exc.partial  # the client stopped short; the engine decides
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.content.iter_chunked(65536):
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            break
    return b"".join(chunks)


def _to_response(resp: HttpResponse) -> web.Response:
    return web.Response(status=resp.status, headers=resp.headers, body=resp.body)


class _Endpoint:
    def __init__(self, target: Mountable) -> None:
        self.target = target
        self.engine = target.engine
        self.runtime: AsyncioRuntime | None = None

    async def startup(self, app: web.Application) -> None:
        self.runtime = AsyncioRuntime(self.engine)
        self.target.bind(self.runtime)
        self.runtime.start()

    async def shutdown(self, app: web.Application) -> None:
        runtime = self.runtime
        if runtime is None:
            return
        self.target.shutdown()
        # Let writers deliver the goodbye packets before the sockets go.
        await asyncio.sleep(0.05)
        await runtime.stop()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        runtime = self.runtime
        if runtime is None or runtime.closing:
            return web.Response(status=503, text="shutting down")
        engine = self.engine
        body = b""
        if request.method == "POST":
            body = await _read_body(request, engine.max_payload)
        req = HttpRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            remote_addr=request.remote,
            scheme=request.scheme,
        )
        decision = engine.handle_request(req, runtime.now())
        if isinstance(decision, HttpResponse):
            return _to_response(decision)
        if isinstance(decision, LongPoll):
            try:
                await runtime.long_poll(decision.session)
            finally:
                decision.session.polling_parked = False
            return _to_response(engine.poll_response(decision.session, req))
        return await self._websocket(request, req.headers, decision, runtime)

    async def _websocket(
        self,
        request: web.Request,
        headers: Mapping[str, str],
        decision: AcceptWebSocket,
        runtime: AsyncioRuntime,
    ) -> web.StreamResponse:
        """Answer the handshake, then take the connection away from aiohttp.

        From the 101 on, the connection's transport belongs to the runtime's
        :class:`WebSocketConnection`, which parses frames as they arrive and
        writes prebuilt ones: no reader task, no per-message future, and none
        of aiohttp's per-connection objects kept alive for the socket's life.
        """
        transport = request.transport
        handler = request.protocol
        try:
            accept = ws_framing.accept_key(headers)
            if transport is None or transport.is_closing():
                raise ConnectionResetError("the client went away")
        except (ws_framing.HandshakeError, ConnectionResetError) as exc:
            if not decision.upgrade:
                decision.session.fail("transport error", runtime.now())
            else:
                runtime.engine.websocket_closed(decision.session, True, runtime.now())
            return web.Response(status=400, text=str(exc))
        # Bytes the client sent right after its handshake sit in aiohttp's
        # buffer for upgraded connections; they are the first frames.
        early = bytes(getattr(handler, "_message_tail", b""))
        transport.write(ws_framing.switching_protocols(accept))
        conn = runtime.websocket(decision)
        # aiohttp must forget the connection without closing it: with its
        # transport cleared, connection_lost drops it from aiohttp's tables
        # (and from graceful shutdown) and leaves the socket open.
        handler.transport = None
        handler.connection_lost(None)
        transport.set_protocol(conn)
        conn.connection_made(transport)
        if not transport.is_reading():
            transport.resume_reading()
        if early:
            conn.data_received(early)
        # Never written: aiohttp sees its connection gone and drops this.
        return web.Response(status=101)


def attach(target: Mountable, app: web.Application) -> None:
    """Serve ``target`` (a Server or an Engine) on its path within ``app``."""
    endpoint = _Endpoint(target)
    path = endpoint.engine.path
    app.router.add_route("*", path, endpoint.handle)
    app.router.add_route("*", path + "/", endpoint.handle)
    app.router.add_route("GET", path + "/{asset:realtime(\\.min)?\\.js}", endpoint.handle)
    app.on_startup.append(endpoint.startup)
    app.on_shutdown.append(endpoint.shutdown)


def make_app(target: Mountable) -> web.Application:
    app = web.Application()
    attach(target, app)
    return app


def run(
    target: Mountable | web.Application,
    host: str = "127.0.0.1",
    port: int = 8000,
    **options: Any,
) -> None:
    """Serve until Ctrl-C or SIGTERM, then close every client cleanly."""
    app = target if isinstance(target, web.Application) else make_app(target)
    options.setdefault("access_log", None)  # one line per poll would drown the log
    web.run_app(app, host=host, port=port, print=_printer(host, port), **options)


def _printer(host: str, port: int) -> Any:
    def say(_: str) -> None:
        print(f"realtime serving on http://{host}:{port} (Ctrl-C to stop)", flush=True)

    return say
