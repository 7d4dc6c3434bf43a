"""The asyncio runtime: the only code that waits.

It owns one timer (armed at the engine's next deadline), runs handlers, parks
long-polling GETs, and owns every accepted WebSocket as the asyncio protocol
of its transport (:class:`WebSocketConnection`): the host integration
completes the handshake and hands the transport over. Everything it decides
comes from the engine.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final, Protocol, cast

from .._log import log_once
from ..coroutines import DONE, is_awaitable, never_suspends, run_now
from ..errors import InvalidArgumentType
from ..http import (
    AcceptWebSocket,
    CloseWebSocket,
    Decision,
    Flushable,
    Forward,
    HostRuntime,
    HttpRequest,
    HttpResponse,
    LongPoll,
    MessageChannel,
)
from ..link import WebSocketLink
from ..protocol.deadlines import Deadlines
from ..protocol.session import Session, State
from ..transports import websocket as ws_framing
from ..transports.deflate import MessageDeflate
from ..types import Offload
from .alarm import Alarm
from .handler_threads import HandlerThreads

logger: Final = logging.getLogger("realtime")

Data = str | bytes

# Before Python 3.12 ``State.OPEN`` costs a trip through the enum metaclass's
# __getattr__, ten times a global's: the per-message paths read these.
_OPEN: Final = State.OPEN
_CLOSED: Final = State.CLOSED


class EngineLike(Protocol):
    """The engine as runtimes and hosts see it."""

    deadlines: Deadlines
    max_payload: int
    max_fragments: int
    path: str
    sessions: dict[str, Session]

    def owns_path(self, path: str) -> bool: ...

    def handle_request(self, req: HttpRequest, now: float) -> Decision: ...

    def poll_response(self, session: Session, req: HttpRequest) -> HttpResponse: ...

    def handle_timeouts(self, now: float) -> float | None: ...

    def receive_frame(
        self, session: Session, frame: Data, probe_socket: bool, now: float
    ) -> Data | None: ...

    def websocket_closed(self, session: Session, probe_socket: bool, now: float) -> None: ...

    def refuse_websocket(self, decision: AcceptWebSocket | CloseWebSocket, now: float) -> None: ...


def host_decision(
    engine: EngineLike, req: HttpRequest, now: float, closing: bool
) -> HttpResponse | AcceptWebSocket | CloseWebSocket | LongPoll:
    """The engine's decision on ``req`` as every runtime that answers a host
    starts it: 503 while the runtime stops, a request meant for another
    node refused; a LongPoll is left for the runtime to wait out its way."""
    if closing:
        return HttpResponse(503, {"Content-Type": "text/plain"}, b"shutting down")
    decision = engine.handle_request(req, now)
    if isinstance(decision, Forward):
        return decision.refused()
    return decision


class Mountable(Protocol):
    """What a host serves: a Server, or a bare Engine."""

    @property
    def engine(self) -> EngineLike: ...

    def bind(self, runtime: Any) -> None: ...

    def shutdown(self) -> None: ...


def check_mountable(target: object, where: str) -> None:
    """Refuse, in words, what a host cannot serve: the application a Server
    should have wrapped (``realtime.run(fastapi_app)``), or any other object."""
    if hasattr(target, "engine") and hasattr(target, "bind"):
        return
    raise InvalidArgumentType(
        f"{where} serves a realtime.Server (or a realtime.Engine), not "
        f"{type(target).__module__}.{type(target).__qualname__}. To serve the Server beside "
        "an app of your own, wrap the app instead: an ASGI app (FastAPI, Starlette) with "
        "realtime.ASGIApp(sio, other_asgi_app=app) under uvicorn, a WSGI app (Flask) with "
        "realtime.WSGIApp(sio, wsgi_app=app), an aiohttp Application with sio.attach(app)"
    )


def open_runtime(
    target: Mountable,
    loop: asyncio.AbstractEventLoop | None = None,
    handler_threads: int = 0,
) -> AsyncioRuntime:
    """A runtime on ``loop`` (the running one by default), bound to
    ``target`` and running: what every asyncio host starts with.
    ``handler_threads``: how many worker threads run plain ``def`` handlers
    (0: none, they run on the loop)."""
    runtime = AsyncioRuntime(target.engine, loop, handler_threads)
    target.bind(runtime)
    runtime.start()
    return runtime


async def close_runtime(
    target: Mountable, runtime: HostRuntime, drain_timeout: float = 10.0
) -> None:
    """The graceful end: tell every client to go (they reconnect, to another
    node behind a balancer), let running handlers finish and goodbyes go
    out for up to ``drain_timeout`` seconds, then stop ``runtime``."""
    target.shutdown()
    # At least one turn for the writers, so the goodbyes leave before the sockets go.
    await asyncio.sleep(0.05)
    if not await runtime.drain(drain_timeout):
        logger.warning(
            "shutdown: handlers still running after %.1f s (shutdown_timeout) are cancelled",
            drain_timeout,
        )
    await runtime.stop()


ClientGone = Callable[[], Awaitable[object]]
"""Returns once the client of a request has gone (a host that can tell)."""

_GONE: Final = HttpResponse(499, {"Content-Type": "text/plain"}, b"client gone")


def _log_failure(what: str) -> None:
    logger.exception("error in %s", what)


class SerialRunner:
    """Runs submissions one after another. Plain functions run inline; the
    first awaitable result starts one task that awaits it and drains what
    queued up meanwhile, then ends: one task per burst of events, never one
    per event. The queue exists only while something waits in it."""

    __slots__ = ("_busy", "_flush", "_loop", "_queue", "_running", "_task")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        busy: set[SerialRunner],
        flush: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._flush = flush  # writes what a finished handler queued, this loop turn
        self._queue: deque[tuple[Callable[..., Any], tuple[Any, ...]]] | None = None
        self._running = False
        self._task: asyncio.Task[None] | None = None  # the strong reference asyncio wants
        self._busy = busy  # the runtime's runners with a task, for cancelling at stop

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._running:
            if self._queue is None:
                self._queue = deque()
            self._queue.append((fn, args))
            return
        self._running = True
        pending = _call(fn, args)
        if pending is None:
            pending = self._call_queued()
        if pending is None:
            self._queue = None
            self._running = False
            return
        task = _start_task(self._loop, self._drain(pending))
        if not task.done():  # an eager start may have finished it already
            self._task = task
            self._busy.add(self)

    def _call_queued(self) -> Any:
        """Run queued submissions until one returns something to await; that."""
        queue = self._queue
        while queue:
            fn, args = queue.popleft()
            pending = _call(fn, args)
            if pending is not None:
                return pending
        return None

    @property
    def pending(self) -> int:
        return len(self._queue) if self._queue else 0

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _drain(self, pending: Any) -> None:
        try:
            while pending is not None:
                try:
                    await pending
                except Exception:
                    _log_failure("handler")
                # Output the handler queued would otherwise wait for a flush
                # scheduled behind this task step: one more loop turn per
                # event, and the answer's latency with it.
                self._flush()
                pending = self._call_queued()
            self._queue = None
        finally:
            self._running = False
            self._task = None
            self._busy.discard(self)


def _start_task(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]
) -> asyncio.Task[None]:
    """A task whose first step runs now where Python can (3.12+): a handler
    that never really suspends then costs no trip through the event loop.
    Built directly (``loop.create_task`` adds a Python frame and a naming
    call per handler burst) unless the application installed a task factory,
    which then sees every task."""
    if loop.get_task_factory() is not None:
        return loop.create_task(coro)
    if _EAGER:
        return asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg,unused-ignore]
    return asyncio.Task(coro, loop=loop)


_EAGER: Final = sys.version_info >= (3, 12)


def handshake_answer(decision: AcceptWebSocket | CloseWebSocket, accept: str) -> bytes:
    """What answers a WebSocket handshake the engine decided on, for a host
    that hands over the raw socket: the 101 with the agreed extension, and
    for a refusal after the 101 (a :class:`~realtime.http.CloseWebSocket`)
    its close frame too."""
    if isinstance(decision, CloseWebSocket):
        return ws_framing.switching_protocols(accept) + ws_framing.close_frame(decision.code)
    agreed = decision.deflate
    return ws_framing.switching_protocols(accept, None if agreed is None else agreed.response)


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """``fn(*args)``; its result if awaitable, else None. Failures are logged."""
    try:
        result = fn(*args)
        if result is not None and never_suspends(result):
            run_now(result)
            return None
    except Exception:
        _log_failure(getattr(fn, "__qualname__", repr(fn)))
        return None
    return result if result is not None and is_awaitable(result) else None


class ConnectionRuntime:
    """What a :class:`WebSocketConnection` asks of its runtime, and the
    flush bookkeeping both runtimes share: the asyncio one's, and the green
    one's (which serves WebSockets with it too). A base class rather than a
    Protocol: the compiled build then calls these natively, on the embedded
    server's path of every read."""

    engine: EngineLike
    websockets: set[WebSocketConnection]
    _dirty: list[Flushable]
    _corked: int
    _flush_handle: object | None  # the scheduled flush, while one is

    def now(self) -> float:
        raise NotImplementedError

    def _schedule_flush(self, flush: Callable[[], None]) -> object:
        """Call ``flush`` soon: before the loop next waits for I/O, or on the
        hub's next turn."""
        raise NotImplementedError

    def want_flush(self, conn: Flushable) -> None:
        """Write ``conn``'s output soon, with what else is queued meanwhile.

        Everything a turn queues for one socket leaves in one write: a
        handler that emits 20 events to a room costs each member one
        ``send()``, not 20.
        """
        self._dirty.append(conn)
        if self._corked or self._flush_handle is not None:
            return
        self._flush_handle = self._schedule_flush(self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        self._write_dirty()

    def cork(self) -> None:
        """Hold flushes while a burst of input is handled (see uncork)."""
        self._corked += 1

    def uncork(self) -> None:
        self._corked -= 1
        if not self._corked and self._dirty:
            self._write_dirty()

    def _write_dirty(self) -> None:
        dirty = self._dirty
        while dirty:
            self._dirty = []
            for conn in dirty:
                conn.flush()
            dirty = self._dirty


class AsyncioRuntime(ConnectionRuntime):
    """Implements :class:`realtime.types.Runtime` (what the core calls) and
    :class:`realtime.http.HostRuntime` (what a host calls) on one asyncio loop."""

    def __init__(
        self,
        engine: EngineLike,
        loop: asyncio.AbstractEventLoop | None = None,
        handler_threads: int = 0,
    ) -> None:
        self.engine = engine
        self.loop = loop or asyncio.get_running_loop()
        workers = HandlerThreads(self.loop, handler_threads) if handler_threads else None
        self.handler_threads = workers
        """The workers plain ``def`` handlers run on, given ``handler_threads``
        of 1 or more (always on the thread host); None without."""
        self.offload: Offload | None = None if workers is None else workers.run
        """Where plain ``def`` handlers run: inline on the loop (None), or on
        :attr:`handler_threads`."""
        self._alarm = Alarm(engine, self.loop.time, self.loop.call_at)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._busy: set[SerialRunner] = set()
        self.websockets: set[WebSocketConnection] = set()
        self.closing = False
        self._dirty: list[Flushable] = []
        self._corked = 0
        self._flush_handle = None
        # Built on the loop's thread (every host opens it from the loop).
        # Not `_thread`: the compiled build names the C field after the
        # attribute, and `__thread` is a C keyword.
        self._loop_thread_id = threading.get_ident()

    # -- Runtime protocol -------------------------------------------------------

    def now(self) -> float:
        return self.loop.time()

    def serial_runner(self) -> SerialRunner:
        return SerialRunner(self.loop, self._busy, self.flush_now)

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        pending = _call(fn, args)
        if pending is not None:
            task = _start_task(self.loop, self._guard(pending))
            if not task.done():
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _guard(self, awaitable: Any) -> None:
        try:
            await awaitable
        except Exception:
            _log_failure("background task")

    def create_promise(self) -> asyncio.Future[Any]:
        return self.loop.create_future()

    def deadlines_changed(self) -> None:
        self._alarm.arm()

    def owns_thread(self) -> bool:
        return threading.get_ident() == self._loop_thread_id

    def call_soon_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(self.spawn, fn, *args)
        except RuntimeError:  # the loop is closed: the server is gone, and its sockets
            log_once("closed-loop", "a call from another thread came after the server stopped")

    def spawn_blocking(self, fn: Callable[..., Any], *args: Any) -> None:
        name = f"realtime-task-{getattr(fn, '__name__', 'fn')}"
        threading.Thread(target=_call, args=(fn, args), name=name, daemon=True).start()

    def sleep(self, seconds: float) -> Awaitable[None]:
        if self.owns_thread():
            return asyncio.sleep(seconds)
        time.sleep(seconds)
        return DONE

    # -- the one timer ----------------------------------------------------------

    def start(self) -> None:
        self._alarm.arm()

    async def drain(self, timeout: float) -> bool:
        deadline = self.loop.time() + timeout
        while self._busy or self.websockets or self._tasks:
            if self.loop.time() >= deadline:
                return False
            # Shutdown only: a short poll is simpler than a wake-up per runner.
            await asyncio.sleep(0.02)
        return True

    async def stop(self) -> None:
        self.closing = True
        self._alarm.close()
        self._flush()
        for conn in list(self.websockets):
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        for runner in list(self._busy):
            runner.cancel()
        if self.handler_threads is not None:
            # the host's loop may outlive this runtime (ASGI's lifespan), its threads not
            self.handler_threads.stop()

    # -- requests of a host that waits per request (aiohttp, ASGI) ----------------

    async def respond(
        self, req: HttpRequest, client_gone: ClientGone | None = None
    ) -> HttpResponse | AcceptWebSocket | CloseWebSocket:
        """The engine's decision on ``req``, a long-poll waited out: an
        answer to send, or a WebSocket to accept (or accept and close).
        A host whose server does not cancel a request when its client goes
        passes ``client_gone``, so that a parked poll is released then."""
        decision = host_decision(self.engine, req, self.now(), self.closing)
        if not isinstance(decision, LongPoll):
            return decision
        session = decision.session
        try:
            present = await self.long_poll(session, client_gone)
        finally:
            session.release_poll()
        if not present:
            return _GONE  # what is queued stays for the client's next poll
        return self.engine.poll_response(session, req)

    async def long_poll(self, session: Session, client_gone: ClientGone | None = None) -> bool:
        """Wait until the session has something for a parked GET; False if
        the client went away first."""
        if session.has_output() or session.state is not State.OPEN:
            return True
        future: asyncio.Future[bool] = self.loop.create_future()

        def wake(present: bool = True) -> None:
            if not future.done():
                future.set_result(present)

        watcher: asyncio.Task[None] | None = None
        timer: asyncio.TimerHandle | None = None
        if client_gone is not None:
            # Most polls are answered within moments: a timer, not a task,
            # until one has waited CLIENT_GONE_AFTER (a task per poll was a
            # tenth of an ASGI polling round trip). A client that leaves is
            # then heard within that time, well inside any ping timeout.
            gone = client_gone

            def watch() -> None:
                nonlocal watcher
                watcher = self.loop.create_task(_await_then(gone, wake))

            timer = self.loop.call_later(CLIENT_GONE_AFTER, watch)
        session.park_poll(wake)
        try:
            return await future
        finally:
            session.release_poll(wake)
            if timer is not None:
                timer.cancel()
            if watcher is not None:
                watcher.cancel()

    # -- WebSocket --------------------------------------------------------------

    def websocket(self, decision: AcceptWebSocket) -> WebSocketConnection:
        """The protocol that will own an accepted WebSocket's transport."""
        return WebSocketConnection(self, decision)

    def adopt_websocket(
        self,
        transport: object,
        decision: AcceptWebSocket | CloseWebSocket,
        accept: str,
        early: bytes,
    ) -> WebSocketConnection | None:
        """Answer an accepted handshake with 101 and own the transport from
        then on; ``early`` holds bytes the client sent right after its
        handshake (its first frames). The host must have let go of the
        transport first."""
        transport = cast(asyncio.Transport, transport)
        transport.write(handshake_answer(decision, accept))
        if isinstance(decision, CloseWebSocket):
            transport.close()
            return None
        conn = self.websocket(decision)
        transport.set_protocol(conn)
        conn.connection_made(transport)
        if not transport.is_reading():
            transport.resume_reading()
        if early:
            conn.data_received(early)
        return conn

    async def serve_websocket(self, decision: AcceptWebSocket, channel: MessageChannel) -> None:
        """Serve an accepted WebSocket whose host hands over whole messages
        (ASGI, WSGI servers), until either side closes it."""
        await ChannelWebSocket(self, decision, channel).run()

    def refuse_websocket(self, decision: AcceptWebSocket | CloseWebSocket) -> None:
        """The handshake the engine accepted cannot complete (bad key, or the
        client left): undo what accepting it started."""
        self.engine.refuse_websocket(decision, self.now())

    def _schedule_flush(self, flush: Callable[[], None]) -> object:
        return self.loop.call_soon(flush)

    def flush_now(self) -> None:
        """Write what is waiting now rather than at the scheduled flush
        (unless corked: the uncork writes it). The scheduled flush stays:
        handlers that finish later in this loop turn then find one already
        scheduled instead of scheduling and cancelling one each."""
        if self._dirty and not self._corked:
            self._write_dirty()


class StreamTransport(Protocol):
    """What a :class:`WebSocketConnection` uses of its transport: asyncio's
    (uvloop's too), or a green hub's
    (:class:`~realtime.runtime.hub_transport.HubTransport`)."""

    def write(self, data: bytes) -> None: ...

    def is_closing(self) -> bool: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None: ...


class WebSocketConnection(asyncio.Protocol):
    """An accepted WebSocket on a raw transport: RFC 6455 frames in and out,
    as the asyncio protocol of the connection's transport; what they mean is
    its :class:`~realtime.link.WebSocketLink`'s.

    Nothing here waits, so a socket costs no task. Frames are parsed and
    handed to the engine as they arrive; output is written when the runtime
    flushes (once per loop turn). Backpressure comes from the transport:
    above its high-water mark it pauses us, packets stay in the session's
    outbox (bounded by ``max_buffer``), and ``resume_writing`` flushes them.
    """

    HIGH_WATER = 256 * 1024

    __slots__ = (
        "_pending_pong",
        "_pending_reply",
        "_queued",
        "deflate",
        "link",
        "on_lost",
        "reader",
        "runtime",
        "session",
        "transport",
    )

    def __init__(self, runtime: ConnectionRuntime, decision: AcceptWebSocket) -> None:
        self.runtime = runtime
        self.session = decision.session
        agreed = decision.deflate
        self.deflate = None if agreed is None else MessageDeflate(agreed)
        self.reader = ws_framing.FrameReader(
            runtime.engine.max_payload, runtime.engine.max_fragments, self.deflate
        )
        self.transport: StreamTransport | None = None
        # While paused, the one answer kept for the client's pings (and for
        # its upgrade probes): the latest, as RFC 6455 allows, never a queue.
        self._pending_pong: bytes | None = None
        self._pending_reply: bytes | None = None
        self._queued = False
        self.link = WebSocketLink(runtime.engine, decision.session, decision.upgrade, self.wake)
        self.on_lost: Callable[[], object] | None = None
        """Called once the connection is gone (a thread waiting for its end)."""

    # -- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        # asyncio's, uvloop's (no subclass of asyncio's) or a green hub's
        self.transport = transport = cast(StreamTransport, transport)
        transport.set_write_buffer_limits(high=self.HIGH_WATER)
        self.runtime.websockets.add(self)
        if self.link.wants_output_now:
            self.wake()  # the OPEN packet and whatever on_open queued

    def data_received(self, data: bytes) -> None:
        error: ws_framing.FrameError | None = None
        try:
            events = self.reader.feed(data)
        except ws_framing.FrameError as exc:
            error, events = exc, exc.events
        session = self.session
        runtime = self.runtime
        link = self.link
        now = runtime.now()  # what one read brings arrived together
        runtime.cork()
        try:
            for event in events:
                transport = self.transport
                if transport is None or transport.is_closing() or session.state is _CLOSED:
                    return  # nothing counts after a close, the client's included
                if isinstance(event, (str, bytes)):
                    reply = link.receive(event, now)
                    if reply is not None:
                        if link.paused:
                            self._pending_reply = ws_framing.build_frame(reply)
                        else:
                            self._write(ws_framing.build_frame(reply))
                    elif link.closing:
                        self._close_socket(1000, "")
                elif isinstance(event, ws_framing.Ping):
                    if link.paused:
                        # A client that pings without reading would grow the
                        # transport's buffer by a pong per ping.
                        self._pending_pong = event.payload
                    else:
                        self._write(ws_framing.pong_frame(event.payload))
                elif isinstance(event, ws_framing.Close):
                    self._close_socket(1000 if event.code == 1005 else event.code, "")
        except Exception:
            _log_failure("WebSocket reader")
            self._close_socket(1011, "")
        finally:
            runtime.uncork()
        if error is not None:
            log_once(f"ws-frame-{error.code}", "closing a WebSocket: %s", error.reason)
            self._close_socket(error.code, error.reason)

    def pause_writing(self) -> None:
        self.link.pause()

    def resume_writing(self) -> None:
        pong, reply = self._pending_pong, self._pending_reply
        self._pending_pong = self._pending_reply = None
        if pong is not None:
            self._write(ws_framing.pong_frame(pong))
        if reply is not None:
            self._write(reply)
        self.link.resume()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.runtime.websockets.discard(self)
        self.link.lost(self.runtime.now())
        if self.on_lost is not None:
            self.on_lost()

    # -- output -------------------------------------------------------------------

    def wake(self) -> None:
        """The session has output or changed state: flush soon."""
        if not self._queued and self.transport is not None:
            self._queued = True
            self.runtime.want_flush(self)

    def flush(self) -> None:
        self._queued = False
        if self.transport is None:
            return
        link = self.link
        items = link.output()
        if items:
            deflate = self.deflate
            if deflate is None:
                self._write(ws_framing.wire_bytes(items, self.session.protocol))
            else:
                self._write(ws_framing.deflated_wire_bytes(items, self.session.protocol, deflate))
        if link.closing:
            # A reader that stopped reading would keep a closing socket (and
            # its buffer) forever: drop it instead of waiting for the drain.
            self._close_socket(1000, "", abort=link.paused)

    def _write(self, data: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def _close_socket(self, code: int, reason: str, *, abort: bool = False) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if abort:
            transport.abort()
            return
        transport.write(ws_framing.close_frame(code, reason))
        transport.close()

    def close(self) -> None:
        """Server shutdown: say goodbye and close."""
        self._close_socket(1001, "server shutting down", abort=self.link.paused)


CLIENT_GONE_AFTER: Final = 1.0
"""Seconds a parked poll waits before the host is asked whether its client
has gone (ASGI: one task per such poll awaits ``http.disconnect``)."""


async def _await_then(client_gone: ClientGone, wake: Callable[[bool], None]) -> None:
    await client_gone()
    wake(False)


class ChannelWebSocket:
    """An accepted WebSocket whose host speaks in whole messages
    (:class:`~realtime.http.MessageChannel`): the host's connection task
    reads here, and a writer task exists only while output is being sent.
    What the session queues while a batch goes out waits in its (bounded)
    outbox and leaves in the next batch.
    """

    __slots__ = ("_closed", "_more", "_queued", "_writer", "channel", "link", "runtime", "session")

    def __init__(
        self, runtime: AsyncioRuntime, decision: AcceptWebSocket, channel: MessageChannel
    ) -> None:
        self.runtime = runtime
        self.session = decision.session
        self.channel = channel
        self._queued = False
        self._more = False  # woken while a batch was going out
        self._closed = False
        self._writer: asyncio.Task[None] | None = None
        self.link = WebSocketLink(runtime.engine, decision.session, decision.upgrade, self.wake)

    async def run(self) -> None:
        if self.link.wants_output_now:
            self.wake()
        try:
            await self._read()
        finally:
            self._closed = True
            self.link.lost(self.runtime.now())
            if self._writer is None:
                await self.channel.close(1000)

    async def _read(self) -> None:
        runtime = self.runtime
        link = self.link
        while not link.closing and not self._closed:
            message = await self.channel.receive()
            if message is None:
                return
            if len(message) > runtime.engine.max_payload:
                # what FrameReader refuses on a raw socket, refused here
                log_once("ws-frame-1009", "closing a WebSocket: message too big")
                await self.channel.close(1009)
                return
            if not self._receive(message):
                return

    def _receive(self, message: Data) -> bool:
        """Hand one message to the link; False if the socket must stop."""
        runtime = self.runtime
        runtime.cork()
        try:
            reply = self.link.receive(message, runtime.now())
        except Exception:
            _log_failure("WebSocket reader")
            return False
        finally:
            runtime.uncork()
        if reply is not None:
            self._send([reply], close=False)
        return True

    def wake(self) -> None:
        if self._writer is not None:
            self._more = True
        elif not self._queued and not self._closed:
            self._queued = True
            self.runtime.want_flush(self)

    def flush(self) -> None:
        self._queued = False
        if self._closed or self._writer is not None:
            return
        link = self.link
        items = link.output()
        if items or link.closing:
            self._send(ws_framing.wire_payloads(items, self.session.protocol), link.closing)

    def _send(self, messages: list[Data], close: bool) -> None:
        task = _start_task(self.runtime.loop, self._write(messages, close))
        self._writer = None if task.done() else task  # an eager start may have finished it

    async def _write(self, messages: list[Data], close: bool) -> None:
        try:
            if messages:
                await self.channel.send(messages)
            if close:
                self._closed = True
                await self.channel.close(1000)
        except Exception:  # the client went away mid-write: the reader hears it
            self._closed = True
        finally:
            self._writer = None
        if self._more and not self._closed:
            self._more = False
            self.flush()  # what queued up while this batch went out
