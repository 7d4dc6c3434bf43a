"""aiohttp host: translates aiohttp requests and WebSockets, decides nothing."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from .. import assets
from .._build import COMPILE_SKIPPED
from ..errors import InvalidArgument, RealtimeError
from ..http import AcceptWebSocket, CloseWebSocket, HostRuntime, HttpRequest, HttpResponse
from ..protocol import COMPILED
from ..runtime.asyncio import Mountable, check_mountable, close_runtime, open_runtime
from ..runtime.front_door import DoorKeeper
from ..runtime.handler_threads import check_handler_threads
from ..transports import http1
from ..transports import websocket as ws_framing

logger = logging.getLogger("realtime")


class BodyTimeout(RealtimeError):
    """The request body did not arrive within ``body_timeout``."""


async def _read_body(request: web.Request, limit: int, timeout: float) -> bytes | None:
    """At most ``limit`` bytes; a larger body is cut and rejected by the
    engine. None when the client hung up before sending it all. Raises
    :class:`BodyTimeout` past ``timeout``: a body trickled in (one chunk every
    few seconds) must not hold the request forever."""
    try:
        return await asyncio.wait_for(_read_at_most(request, limit), timeout)
    except (TimeoutError, asyncio.TimeoutError):  # distinct classes before 3.11
        raise BodyTimeout() from None
    except (ConnectionError, HttpProcessingError):
        return None  # lost mid-body: nobody to answer, nothing worth a traceback


async def _read_at_most(request: web.Request, limit: int) -> bytes:
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


async def _answer_and_close(request: web.Request, status: int, text: str) -> web.Response:
    """Answer, then close at once: aiohttp would otherwise read and drop
    the rest of an unread body for ten more seconds (its lingering close)."""
    answer = web.Response(status=status, text=text)
    answer.force_close()
    try:
        await answer.prepare(request)
        await answer.write_eof()
    except ConnectionError:
        pass  # the client left first: nobody to tell
    request.protocol.force_close()  # the transport sends what is written, then closes
    return answer


def _to_response(resp: HttpResponse) -> web.Response:
    return web.Response(status=resp.status, headers=resp.headers, body=resp.body)


class _Endpoint:
    def __init__(
        self, target: Mountable, body_timeout: float, drain_timeout: float, handler_threads: int
    ) -> None:
        self.target = target
        self.engine = target.engine
        self.body_timeout = body_timeout
        self.drain_timeout = drain_timeout
        self.handler_threads = handler_threads
        self._runtime: HostRuntime | None = None

    @property
    def runtime(self) -> HostRuntime | None:
        return self._runtime

    async def startup(self, app: web.Application) -> None:
        self._runtime = open_runtime(self.target, handler_threads=self.handler_threads)

    async def shutdown(self, app: web.Application) -> None:
        if self._runtime is not None:
            await close_runtime(self.target, self._runtime, self.drain_timeout)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        runtime = self.runtime
        if runtime is None:
            return web.Response(status=503, text="not started")
        body = b""
        if request.method == "POST":
            try:
                received = await _read_body(request, self.engine.max_payload, self.body_timeout)
            except BodyTimeout:
                return await _answer_and_close(request, 408, "request body timed out")
            if received is None:
                return await _answer_and_close(request, 400, "request body incomplete")
            body = received
        req = HttpRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            remote_addr=request.remote,
            scheme=request.scheme,
        )
        decision = await runtime.respond(req)
        if isinstance(decision, HttpResponse):
            return _to_response(decision)
        return await self._websocket(request, req.headers, decision, runtime)

    async def _websocket(
        self,
        request: web.Request,
        headers: Mapping[str, str],
        decision: AcceptWebSocket | CloseWebSocket,
        runtime: HostRuntime,
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
            runtime.refuse_websocket(decision)
            return web.Response(status=400, text=str(exc))
        # Bytes the client sent right after its handshake sit in aiohttp's
        # buffer for upgraded connections; they are the first frames.
        early = bytes(getattr(handler, "_message_tail", b""))
        # aiohttp must forget the connection without closing it: with its
        # transport cleared, connection_lost drops it from aiohttp's tables
        # (and from graceful shutdown) and leaves the socket open.
        handler.transport = None
        handler.connection_lost(None)
        runtime.adopt_websocket(transport, decision, accept, early)
        # Never written: aiohttp sees its connection gone and drops this.
        return web.Response(status=101)


_ENDPOINTS_KEY: web.AppKey[list[_Endpoint]] = web.AppKey("realtime_endpoints", list)


def attach(
    target: Mountable,
    app: web.Application,
    *,
    body_timeout: float = 75.0,
    drain_timeout: float = 10.0,
    handler_threads: int = 0,
) -> None:
    """Serve ``target`` (a Server or an Engine) on its path within ``app``.

    ``body_timeout`` bounds the time a POST body may take to arrive (aiohttp
    reads it here: chunked bodies, and every request on a site of one's own);
    past it the request is answered with 408 and the connection closed.
    ``drain_timeout``: at shutdown, after every client is told to go, how
    long running handlers may take to finish before they are cancelled.
    ``handler_threads``: 0 runs plain ``def`` handlers on the loop, where one
    that blocks stalls every client; N runs them on up to N worker threads,
    where they may block (a socket's handlers still run one after another).
    """
    if body_timeout <= 0:
        raise InvalidArgument("body_timeout must be positive")
    check_handler_threads(handler_threads, 0)
    check_mountable(target, "realtime.run (and realtime.attach)")
    endpoint = _Endpoint(target, body_timeout, drain_timeout, handler_threads)
    path = endpoint.engine.path
    app.router.add_route("*", path, endpoint.handle)
    app.router.add_route("*", path + "/", endpoint.handle)
    for name in assets.ASSETS:  # the bundled clients, unless serve_client is off
        if endpoint.engine.owns_path(path + "/" + name):
            app.router.add_route("GET", path + "/" + name, endpoint.handle)
    app.on_startup.append(endpoint.startup)
    app.on_shutdown.append(endpoint.shutdown)
    if _ENDPOINTS_KEY not in app:
        app[_ENDPOINTS_KEY] = []
    app[_ENDPOINTS_KEY].append(endpoint)


def attached_targets(app: web.Application) -> list[Mountable]:
    """The Servers and Engines attached to ``app``, in attachment order."""
    return [endpoint.target for endpoint in app.get(_ENDPOINTS_KEY, [])]


def make_app(
    target: Mountable,
    *,
    body_timeout: float = 75.0,
    drain_timeout: float = 10.0,
    handler_threads: int = 0,
) -> web.Application:
    app = web.Application()
    attach(
        target,
        app,
        body_timeout=body_timeout,
        drain_timeout=drain_timeout,
        handler_threads=handler_threads,
    )
    return app


class FrontDoorSite(web.TCPSite):
    """A TCP site whose connections meet the front door first: requests for
    the endpoints attached to the runner's application are served by the
    runtime's own HTTP/1.1 (:mod:`realtime.runtime.front_door`), and a
    connection's first request for anything else hands it to aiohttp for
    good. After ``runner.cleanup()``, call ``close_all()``.

    ``max_head`` bounds a request line plus header fields on the engine's
    paths; ``keepalive_timeout`` closes a connection that has waited that
    long for a request (or for the rest of one); ``max_pipelined`` bounds
    the input buffered behind a parked poll before reading pauses.
    """

    __slots__ = ("_sock", "keeper")

    def __init__(
        self,
        runner: web.AppRunner,
        host: str | None = None,
        port: int | None = None,
        *,
        max_head: int = http1.MAX_HEAD,
        keepalive_timeout: float = 75.0,
        max_pipelined: int = 64 * 1024,
        sock: socket.socket | None = None,
        **options: Any,
    ) -> None:
        super().__init__(runner, host, port, **options)
        self._sock = sock  # a listening socket made elsewhere (a worker's, inherited)
        fallback = runner.server
        assert fallback is not None  # the base class checked runner.setup() ran
        endpoints: list[_Endpoint] = runner.app.get(_ENDPOINTS_KEY) or []
        self.keeper = DoorKeeper(
            endpoints,
            fallback,
            max_head=max_head,
            keepalive_timeout=keepalive_timeout,
            max_pipelined=max_pipelined,
        )

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site; TCPSite's would listen
        loop = asyncio.get_running_loop()
        if self._sock is not None:
            self._server = await loop.create_server(
                self.keeper, sock=self._sock, ssl=self._ssl_context, backlog=self._backlog
            )
        else:
            self._server = await loop.create_server(
                self.keeper,
                self._host,
                self._port,
                ssl=self._ssl_context,
                backlog=self._backlog,
                reuse_address=self._reuse_address,
                reuse_port=self._reuse_port,
            )
        self._bound_port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.keeper.close_idle()
        await super().stop()

    def close_all(self) -> None:
        self.keeper.close_all()


def run(
    target: Mountable | web.Application,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
    ssl_context: Any = None,
    backlog: int = 128,
    reuse_port: bool | None = None,
    shutdown_timeout: float = 60.0,
    keepalive_timeout: float = 75.0,
    max_head: int = http1.MAX_HEAD,
    max_pipelined: int = 64 * 1024,
    metrics: bool = False,
    sockets: Sequence[socket.socket] = (),
    handler_threads: int = 0,
) -> None:
    """Serve until Ctrl-C or SIGTERM, then close every client cleanly.

    ``sockets``: listening sockets to serve instead of binding ``host:port``
    (a worker's, made by the process that started it).

    ``metrics``: also serve ``/metrics`` (Prometheus) and ``/healthz`` on the
    same port (needs ``prometheus-client``: the ``metrics`` extra).

    ``handler_threads``: 0 runs plain ``def`` handlers on the loop, where one
    that blocks stalls every client; N runs them on up to N worker threads,
    where they may block (a socket's handlers still run one after another).
    An aiohttp Application brings its own: ``attach(sio, app, handler_threads=N)``.

    Runs on uvloop where it is installed (a dependency on Linux and macOS:
    20% more closed-loop WebSocket round trips and 45% faster connection
    set-up, docs/performance.md); pass ``loop=asyncio.new_event_loop()`` to
    run on asyncio's own.
    """
    if isinstance(target, web.Application):
        check_handler_threads(handler_threads, 0)
        if handler_threads:  # its endpoints are attached already, with their own
            raise InvalidArgument(
                "handler_threads goes to realtime.attach(sio, app, handler_threads=...) "
                "when realtime.run serves an aiohttp Application"
            )
        app = target
    else:
        # A request sent too slowly is closed after keepalive_timeout, whether
        # the front door reads it or (a chunked body) aiohttp does.
        app = make_app(
            target,
            body_timeout=keepalive_timeout,
            drain_timeout=shutdown_timeout,
            handler_threads=handler_threads,
        )
    if metrics:
        from ..metrics import install

        install(app)
    loop = loop or new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(
        _serve(
            app,
            host,
            port,
            ssl_context=ssl_context,
            backlog=backlog,
            reuse_port=reuse_port,
            shutdown_timeout=shutdown_timeout,
            keepalive_timeout=keepalive_timeout,
            max_head=max_head,
            max_pipelined=max_pipelined,
            sockets=sockets,
        )
    )
    cannot_serve: str | None = None
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    except CannotListen as exc:
        cannot_serve = str(exc)
    finally:
        main.cancel()  # its cleanup closes every client
        loop.run_until_complete(asyncio.gather(main, return_exceptions=True))
        leftovers = asyncio.all_tasks(loop)
        for task in leftovers:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()
    if cannot_serve is not None:
        raise SystemExit(f"realtime: {cannot_serve}")


class CannotListen(RealtimeError):
    """The site could not bind: the port is taken, the host unknown..."""


def _listen_error(host: str, port: int, exc: OSError) -> CannotListen:
    if isinstance(exc, socket.gaierror):
        return CannotListen(f"cannot listen on {host!r}: no such host or address ({exc.strerror})")
    if exc.errno == errno.EADDRINUSE:
        return CannotListen(
            f"port {port} on {host} is in use: stop the server using it, or pick another port"
            " (--port)"
        )
    if exc.errno == errno.EACCES:
        return CannotListen(f"no permission to listen on {host}:{port}: pick a port above 1023")
    if exc.errno == errno.EADDRNOTAVAIL:
        return CannotListen(f"{host} is not an address of this machine: pick one that is")
    return CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def new_event_loop(kind: str = "auto") -> asyncio.AbstractEventLoop:
    """A loop for ``run``: ``"uvloop"``, ``"asyncio"``, or ``"auto"`` (uvloop
    if it can be imported)."""
    if kind not in ("auto", "uvloop", "asyncio"):
        raise InvalidArgument(f"loop must be auto, uvloop or asyncio, got {kind!r}")
    if kind != "asyncio":
        try:
            import uvloop
        except ImportError:
            if kind == "uvloop":
                raise
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


async def _serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    shutdown_timeout: float,
    keepalive_timeout: float,
    max_head: int,
    max_pipelined: int,
    sockets: Sequence[socket.socket] = (),
    **site_options: Any,
) -> None:
    runner = web.AppRunner(
        app,
        handle_signals=True,
        access_log=None,  # one line per poll would drown the log
        shutdown_timeout=shutdown_timeout,
        keepalive_timeout=keepalive_timeout,
    )
    await runner.setup()
    door: dict[str, Any] = {
        "max_head": max_head,
        "keepalive_timeout": keepalive_timeout,
        "max_pipelined": max_pipelined,
    }
    sites = (
        [FrontDoorSite(runner, sock=sock, **door, **site_options) for sock in sockets]
        if sockets
        else [FrontDoorSite(runner, host, port, **door, **site_options)]
    )
    site = sites[0]
    try:
        try:
            for each in sites:
                await each.start()
        except OSError as exc:
            raise _listen_error(host, port, exc) from None
        loop_name = type(asyncio.get_running_loop()).__module__.partition(".")[0]
        build = ", compiled" if COMPILED else ""
        where = site.name if not sockets else _socket_name(sockets[0])
        print(f"realtime serving on {where} ({loop_name}{build}; Ctrl-C to stop)", flush=True)
        if COMPILE_SKIPPED is not None:
            logger.warning("this is the pure-Python build, slower: %s", COMPILE_SKIPPED)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        for each in sites:
            each.close_all()


def _socket_name(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"
