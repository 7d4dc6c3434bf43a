"""aiohttp host: translates aiohttp requests and WebSockets, decides nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from ..engine import Engine
from ..http import AcceptWebSocket, HttpRequest, HttpResponse, LongPoll
from ..runtime.asyncio import AsyncioRuntime, Data

logger = logging.getLogger("realtime")

_RUNTIME_KEY = web.AppKey("realtime_runtimes", list)


class Mountable(Protocol):
    """A Server or an Engine."""

    @property
    def engine(self) -> Engine: ...

    def bind(self, runtime: Any) -> None: ...

    def shutdown(self) -> None: ...


class _AiohttpSocket:
    """:class:`realtime.runtime.asyncio.WebSocketPort` over aiohttp.

    Outgoing frames are prebuilt and written to the connection's transport
    directly; aiohttp still reads, answers control frames and closes.
    """

    __slots__ = ("protocol", "transport", "ws")

    HIGH_WATER = 256 * 1024

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.transport = request.transport
        self.protocol = request.protocol

    async def receive(self) -> Data | None:
        while True:
            msg = await self.ws.receive()
            if msg.type is WSMsgType.TEXT:
                return str(msg.data)
            if msg.type is WSMsgType.BINARY:
                return bytes(msg.data)
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return None

    def can_write(self) -> bool:
        transport = self.transport
        return (
            transport is not None
            and not transport.is_closing()
            and transport.get_write_buffer_size() < self.HIGH_WATER
        )

    def write(self, frames: list[bytes]) -> None:
        transport = self.transport
        if transport is None or transport.is_closing() or self.ws.closed:
            return
        transport.write(frames[0] if len(frames) == 1 else b"".join(frames))

    async def drain(self) -> None:
        transport = self.transport
        while (
            transport is not None
            and not transport.is_closing()
            and transport.get_write_buffer_size() >= self.HIGH_WATER
        ):
            # aiohttp's protocol tracks pause/resume_writing for us.
            await self.protocol._drain_helper()
            if transport.get_write_buffer_size() >= self.HIGH_WATER:
                await asyncio.sleep(0.005)  # not paused yet the buffer is full

    async def close(self) -> None:
        if not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.close()


async def _read_body(request: web.Request, limit: int) -> bytes:
    """At most ``limit`` bytes; a larger body is cut and rejected by the engine."""
    if request.content_length is not None and request.content_length > limit:
        return b"\0" * (limit + 1)  # known too large: do not read it
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
        peer = request.remote
        req = HttpRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            remote_addr=peer,
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
        return await self._websocket(request, decision, runtime)

    async def _websocket(
        self, request: web.Request, decision: AcceptWebSocket, runtime: AsyncioRuntime
    ) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            max_msg_size=self.engine.max_payload, compress=False, autoping=True
        )
        try:
            await ws.prepare(request)
        except Exception:
            if not decision.upgrade:
                decision.session.fail("transport error", runtime.now())
            raise
        await runtime.serve_websocket(decision, _AiohttpSocket(ws, request))
        return ws


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
