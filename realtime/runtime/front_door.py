"""The front door: the server's own HTTP/1.1 for the engine's requests.

Every accepted connection starts with a :class:`FrontDoor` as its asyncio
protocol. Requests on an engine path (polling GETs and POSTs, JSONP, CORS
preflights, the bundled client, WebSocket handshakes) are parsed by the
sans-IO :mod:`realtime.transports.http1` reader and answered here with one
write each: no request object, no task per request, and a parked long-poll
is a callback on its session rather than a waiting coroutine.

The first request the door does not serve itself (another path, or HTTP it
leaves to a general server: chunked bodies, ``Expect``, HTTP/1.0) hands the
whole connection, bytes untouched, to the fallback protocol (aiohttp's
request handler), which keeps it from then on. A WebSocket handshake hands
the connection to the runtime's :class:`WebSocketConnection`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from email.utils import formatdate
from typing import TYPE_CHECKING, Final, Protocol, cast

from ..errors import InvalidArgument
from ..http import (
    AcceptWebSocket,
    CloseWebSocket,
    Forward,
    HostRuntime,
    HttpRequest,
    HttpResponse,
    LongPoll,
)
from ..transports import http1
from ..transports import websocket as ws_framing

if TYPE_CHECKING:
    from ..protocol.session import Session
    from .asyncio import EngineLike

logger: Final = logging.getLogger("realtime")


class Endpoint(Protocol):
    """An engine served at its path, with the runtime that carries it out
    (None until the application has started)."""

    @property
    def engine(self) -> EngineLike: ...

    @property
    def runtime(self) -> HostRuntime | None: ...


class _Clock:
    """The Date header's text, formatted once per second."""

    __slots__ = ("_second", "_text")

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def date(self) -> str:
        now = time.time()
        if int(now) != self._second:
            self._second = int(now)
            self._text = formatdate(now, usegmt=True)
        return self._text


class DoorKeeper:
    """The connections of one listening socket and their shared rules: the
    endpoints to serve, the fallback for everything else, and one timer that
    closes connections left idle (or sending a request too slowly) for
    ``keepalive_timeout`` seconds.

    Called with no arguments, it makes the protocol of a new connection.
    """

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        fallback: Callable[[], asyncio.Protocol],
        *,
        max_head: int = http1.MAX_HEAD,
        keepalive_timeout: float = 75.0,
        max_pipelined: int = 64 * 1024,
        linger: float = 2.0,
    ) -> None:
        if min(max_head, keepalive_timeout, max_pipelined, linger) <= 0:
            raise InvalidArgument(
                "max_head, keepalive_timeout, max_pipelined and linger must be positive"
            )
        self.endpoints = tuple(endpoints)
        self.fallback = fallback
        self.max_head = max_head
        self.keepalive_timeout = keepalive_timeout
        # While a request is in progress (a parked poll) or output backs up,
        # this much more input is buffered before reading pauses: clients do
        # not pipeline behind a long-poll, and one that does stays bounded.
        self.max_pipelined = max_pipelined
        # After a final answer, input is read and dropped this long before
        # the socket closes: closing with unread input sends a reset, which
        # can destroy the answer still in flight.
        self.linger = linger
        self.connections: set[FrontDoor] = set()
        self.closing = False
        self.clock = _Clock()
        self._sweeper: asyncio.TimerHandle | None = None

    def __call__(self) -> FrontDoor:
        return FrontDoor(self)

    def route(self, line: http1.RequestLine | http1.RequestHead) -> Endpoint | None:
        """The endpoint the door serves this request for, or None when the
        fallback must have it (another path, or HTTP the door leaves alone)."""
        if line.handover is not None:
            return None
        path = line.path
        for endpoint in self.endpoints:
            if endpoint.engine.owns_path(path):
                return endpoint
        return None

    def arrived(self, door: FrontDoor) -> None:
        self.connections.add(door)
        if self._sweeper is None:
            self._schedule_sweep(asyncio.get_running_loop())

    def _schedule_sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sweeper = loop.call_later(max(0.5, self.keepalive_timeout / 4), self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sweeper = None
        limit = loop.time() - self.keepalive_timeout
        for door in list(self.connections):
            if door.idle_since is not None and door.idle_since < limit:
                door.close()
        if self.connections:
            self._schedule_sweep(loop)

    def close_idle(self) -> None:
        """Shutting down: close what waits for a request now; the others
        close once their answer is written."""
        self.closing = True
        for door in list(self.connections):
            if door.idle_since is not None:
                door.close()

    def close_all(self) -> None:
        self.closing = True
        for door in list(self.connections):
            door.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None


class FrontDoor(asyncio.Protocol):
    """One HTTP/1.1 connection, served a request at a time (pipelined
    requests wait in the buffer, in order)."""

    __slots__ = (
        "_head",
        "_lingering",
        "_parked",
        "_peer",
        "_queued",
        "_read_paused",
        "_scheme",
        "_write_paused",
        "idle_since",
        "keeper",
        "reader",
        "transport",
        "waker",
    )

    def __init__(self, keeper: DoorKeeper) -> None:
        self.keeper = keeper
        self.reader = http1.RequestReader(keeper.max_head)
        self.transport: asyncio.Transport | None = None
        self.idle_since: float | None = None
        self._head: tuple[http1.RequestHead, Endpoint] | None = None
        self._lingering = False
        self._peer: str | None = None
        self._scheme = "http"
        self._parked: tuple[Endpoint, Session, HttpRequest, bool] | None = None
        self._queued = False
        self._read_paused = False
        self._write_paused = False
        self.waker: Callable[[], None] = self.wake  # one bound method: identity marks ownership

    # -- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self._peer = peer[0] if isinstance(peer, tuple) else None
        self._scheme = "https" if transport.get_extra_info("sslcontext") is not None else "http"
        self.idle_since = asyncio.get_running_loop().time()
        self.keeper.arrived(self)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        self.reader.feed(data)
        if self._parked is None and not self._write_paused:
            self._process()
        if (
            (self._parked is not None or self._write_paused)
            and len(self.reader.buffer) > self.keeper.max_pipelined
            and not self._read_paused
            and self.transport is not None
        ):
            self._read_paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        return None  # the client is gone: close (a parked poll is released below)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.keeper.connections.discard(self)
        self._release_poll()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._process()

    # -- requests -----------------------------------------------------------------

    def _process(self) -> None:
        """Serve every complete request in the buffer, in order, until one
        waits (a long-poll), the output backs up, or input runs out; then
        read on if input was paused and nothing waits any more."""
        self._serve_buffered()
        transport = self.transport
        if (
            self._read_paused
            and transport is not None
            and self._parked is None
            and not self._write_paused
        ):
            self._read_paused = False
            transport.resume_reading()

    def _serve_buffered(self) -> None:
        reader = self.reader
        while (
            self.transport is not None
            and self._parked is None
            and not self._write_paused
            and not self._lingering
        ):
            pending = self._head
            if pending is None:
                try:
                    head = reader.head()
                except http1.HeadError as exc:
                    self._route_early(exc)
                    return
                if head is None:
                    if reader.buffer:
                        self._route_early()
                    return
                endpoint = self.keeper.route(head)
                if endpoint is None:
                    self._hand_over()
                    return
                reader.discard(head.size)
                # idle_since stays: the body must arrive within the timeout too
                self._head = pending = (head, endpoint)
            head, endpoint = pending
            size = head.content_length
            too_large = size > endpoint.engine.max_payload
            if too_large:
                # Not read: the engine refuses it by its size, and the
                # connection closes after the answer.
                body = b"\0" * (endpoint.engine.max_payload + 1)
            elif size:
                received = reader.body(size)
                if received is None:
                    return
                body = received
            else:
                body = b""
            self._head = None
            self._serve(endpoint, head, body, close=head.close or too_large)

    def _route_early(self, error: http1.HeadError | None = None) -> None:
        """Decide on the request line alone, for a head still arriving or one
        the reader refused (``error``). The door judges only requests for its
        own paths: another path goes to the fallback whatever its head's size
        or form; one of ours that is refused gets its error and a close."""
        try:
            line = self.reader.request_line()
        except http1.HeadError as exc:
            line, error = None, error or exc
        if line is not None and self.keeper.route(line) is None:
            self._hand_over()
        elif error is not None:
            self._fail(error.status, error.reason)

    def _serve(
        self, endpoint: Endpoint, head: http1.RequestHead, body: bytes, *, close: bool
    ) -> None:
        runtime = endpoint.runtime
        if runtime is None or runtime.closing or self.keeper.closing:
            self._fail(503, "shutting down")
            return
        request = HttpRequest(
            head.method,
            head.path,
            http1.parse_query(head.query_string),
            head.headers,
            body,
            self._peer,
            self._scheme,
        )
        runtime.cork()
        try:
            decision = endpoint.engine.handle_request(request, runtime.now())
            if isinstance(decision, HttpResponse):
                self._respond(decision, close)
            elif isinstance(decision, LongPoll):
                self._parked = (endpoint, decision.session, request, close)
                decision.session.park_poll(self.waker)
                self.idle_since = None  # the engine's heartbeat bounds a parked poll
            elif isinstance(decision, Forward):
                self._forward(decision, head, body)
            else:
                self._upgrade(runtime, request, decision)
        except Exception:
            logger.exception("error serving %s %s", head.method, head.path)
            self._fail(500, "internal server error")
        finally:
            runtime.uncork()

    def _respond(self, answer: HttpResponse, close: bool) -> None:
        transport = self.transport
        if transport is None:
            return
        close = close or self.keeper.closing
        transport.write(
            http1.response(
                answer.status,
                answer.headers,
                answer.body,
                date=self.keeper.clock.date(),
                close=close,
            )
        )
        if close:
            self._end()
        else:
            self.idle_since = asyncio.get_running_loop().time()

    def _fail(self, status: int, reason: str) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(http1.error_response(status, reason, self.keeper.clock.date()))
        self._end()

    def _end(self) -> None:
        """Close after the answer just written, lingering (``keeper.linger``)."""
        transport = self.transport
        if transport is None or transport.is_closing() or self._lingering:
            return
        self._lingering = True
        self.idle_since = None
        self.reader.buffer.clear()
        if not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        if self._read_paused:
            self._read_paused = False
            transport.resume_reading()
        asyncio.get_running_loop().call_later(self.keeper.linger, self.close)

    # -- long polling -------------------------------------------------------------

    def wake(self) -> None:
        """The parked poll's session has output or closed: answer this loop
        turn, after whatever else the turn queues for it."""
        parked = self._parked
        if parked is not None and not self._queued:
            runtime = parked[0].runtime
            if runtime is not None:
                self._queued = True
                runtime.want_flush(self)

    def flush(self) -> None:
        self._queued = False
        parked = self._parked
        if parked is None:
            return
        endpoint, session, request, close = parked
        self._release_poll()
        try:
            answer = endpoint.engine.poll_response(session, request)
        except Exception:  # never let one poll stop the runtime's flush of the others
            logger.exception("error answering a poll of %s", session.id)
            self._fail(500, "internal server error")
            return
        self._respond(answer, close)
        self._process()

    def _release_poll(self) -> None:
        parked = self._parked
        if parked is None:
            return
        self._parked = None
        parked[1].release_poll(self.waker)

    # -- hand-overs ---------------------------------------------------------------

    def _upgrade(
        self,
        runtime: HostRuntime,
        request: HttpRequest,
        decision: AcceptWebSocket | CloseWebSocket,
    ) -> None:
        transport = self.transport
        assert transport is not None
        try:
            accept = ws_framing.accept_key(request.headers)
        except ws_framing.HandshakeError as exc:
            runtime.refuse_websocket(decision)
            self._fail(400, str(exc))
            return
        self.keeper.connections.discard(self)
        self.transport = None
        if self._read_paused:
            transport.resume_reading()
        runtime.adopt_websocket(transport, decision, accept, self.reader.take_all())

    def _forward(self, target: Forward, head: http1.RequestHead, body: bytes) -> None:
        """Make this connection a tunnel to the node that owns the session:
        the request as it came (marked forwarded), then every byte both
        ways until either side closes. A WebSocket upgrade goes through the
        same way, so the owner's socket carries the frames."""
        transport = self.transport
        assert transport is not None
        self.keeper.connections.discard(self)
        self.transport = None
        target_line = head.path + ("?" + head.query_string if head.query_string else "")
        lines = [f"{head.method} {target_line} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in head.headers.items()]
        lines.append(f"x-realtime-forwarded: {self._peer or ''}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        Tunnel.open(transport, target, request + self.reader.take_all())

    def _hand_over(self) -> None:
        """Give the connection to the fallback server, with the bytes of the
        request in hand (and anything after it) as if they just arrived."""
        transport = self.transport
        if transport is None:
            return
        data = self.reader.take_all()
        self.keeper.connections.discard(self)
        self.transport = None
        protocol = self.keeper.fallback()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if self._read_paused:
            transport.resume_reading()
        if data:
            protocol.data_received(data)

    def close(self) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.close()


class _Pipe(asyncio.Protocol):
    """One side of a tunnel: what arrives goes to the other side's transport,
    and backpressure on the other side pauses reading here."""

    def __init__(self, tunnel: Tunnel, upstream: bool) -> None:
        self.tunnel = tunnel
        self.upstream = upstream

    def data_received(self, data: bytes) -> None:
        other = self.tunnel.client if self.upstream else self.tunnel.owner
        if other is not None:
            other.write(data)
        else:
            self.tunnel.early.append(data)  # the owner's connection is still opening

    def pause_writing(self) -> None:
        reader = self.tunnel.owner if self.upstream else self.tunnel.client
        if reader is not None:
            reader.pause_reading()

    def resume_writing(self) -> None:
        reader = self.tunnel.owner if self.upstream else self.tunnel.client
        if reader is not None:
            reader.resume_reading()

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.tunnel.close()


class Tunnel:
    """A client's connection spliced to the owner node's: no sticky sessions.
    One task to open the owner's connection; after that, two protocols
    copying bytes, with each side's backpressure pausing the other."""

    def __init__(self, client: asyncio.Transport) -> None:
        self.client: asyncio.Transport | None = client
        self.owner: asyncio.Transport | None = None
        self.early: list[bytes] = []

    @classmethod
    def open(cls, client: asyncio.Transport, target: Forward, first: bytes) -> None:
        tunnel = cls(client)
        client.set_protocol(_Pipe(tunnel, upstream=False))
        loop = asyncio.get_running_loop()
        task = loop.create_task(tunnel._connect(target, first))
        _OPENING.add(task)
        task.add_done_callback(_OPENING.discard)

    async def _connect(self, target: Forward, first: bytes) -> None:
        loop = asyncio.get_running_loop()
        try:
            owner, _ = await loop.create_connection(
                lambda: _Pipe(self, upstream=True), target.host, target.port
            )
        except OSError as exc:
            where = f"{target.host}:{target.port}"
            logger.warning("cannot reach node %r at %s: %s", target.node, where, exc)
            if self.client is not None and not self.client.is_closing():
                self.client.write(http1.error_response(502, "session's node unreachable", ""))
            self.close()
            return
        if self.client is None:
            owner.close()
            return
        self.owner = owner
        owner.write(first + b"".join(self.early))
        self.early.clear()

    def close(self) -> None:
        for transport in (self.client, self.owner):
            if transport is not None and not transport.is_closing():
                transport.close()
        self.client = self.owner = None


_OPENING: Final[set[asyncio.Task[None]]] = set()  # the strong references asyncio wants
