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
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Final, Protocol, cast

from .._log import log_once
from ..coroutines import is_awaitable, never_suspends, run_now
from ..http import AcceptWebSocket, CloseWebSocket
from ..protocol.deadlines import Deadlines
from ..protocol.session import Session, State, Upgrade
from ..transports import websocket as ws_framing

logger: Final = logging.getLogger("realtime")

Data = str | bytes

# Before Python 3.12 ``State.OPEN`` costs a trip through the enum metaclass's
# __getattr__, ten times a global's: the per-message paths read these.
_OPEN: Final = State.OPEN
_CLOSED: Final = State.CLOSED


class Flushable(Protocol):
    def flush(self) -> None: ...


class EngineLike(Protocol):
    deadlines: Deadlines
    max_payload: int
    max_fragments: int

    def handle_timeouts(self, now: float) -> float | None: ...

    def receive_frame(
        self, session: Session, frame: Data, probe_socket: bool, now: float
    ) -> Data | None: ...

    def websocket_closed(self, session: Session, probe_socket: bool, now: float) -> None: ...


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


class AsyncioRuntime:
    """Implements :class:`realtime.types.Runtime` on one asyncio loop."""

    def __init__(self, engine: EngineLike, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.engine = engine
        self.loop = loop or asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._busy: set[SerialRunner] = set()
        self.websockets: set[WebSocketConnection] = set()
        self.closing = False
        self._dirty: list[Flushable] = []
        self._corked = 0
        self._flush_handle: asyncio.Handle | None = None

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
        self._arm()

    # -- the one timer ----------------------------------------------------------

    def start(self) -> None:
        self._arm()

    def _arm(self) -> None:
        when = self.engine.deadlines.next_deadline()
        if when is None:
            return
        if self._timer is not None and self._timer_when is not None and self._timer_when <= when:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_when = when
        self._timer = self.loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_when = None
        try:
            when = self.engine.handle_timeouts(self.loop.time())
        except Exception:
            _log_failure("timer")
            when = self.engine.deadlines.next_deadline()
        if when is not None and not self.closing:
            self._timer_when = when
            self._timer = self.loop.call_at(when, self._on_timer)

    async def stop(self) -> None:
        self.closing = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._flush()
        for conn in list(self.websockets):
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        for runner in list(self._busy):
            runner.cancel()

    # -- long polling -----------------------------------------------------------

    async def long_poll(self, session: Session) -> None:
        """Wait until the session has something for a parked GET."""
        if session.has_output() or session.state is not State.OPEN:
            return
        future: asyncio.Future[None] = self.loop.create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        session.waker = wake
        try:
            await future
        finally:
            if session.waker is wake:
                session.waker = None

    # -- WebSocket --------------------------------------------------------------

    def websocket(self, decision: AcceptWebSocket) -> WebSocketConnection:
        """The protocol that will own an accepted WebSocket's transport."""
        return WebSocketConnection(self, decision)

    def adopt_websocket(
        self,
        transport: asyncio.BaseTransport,
        decision: AcceptWebSocket | CloseWebSocket,
        accept: str,
        early: bytes,
    ) -> WebSocketConnection | None:
        """Answer an accepted handshake with 101 and own the transport from
        then on; ``early`` holds bytes the client sent right after its
        handshake (its first frames). The host must have let go of the
        transport first."""
        transport = cast(asyncio.Transport, transport)
        transport.write(ws_framing.switching_protocols(accept))
        if isinstance(decision, CloseWebSocket):
            transport.write(ws_framing.close_frame(decision.code, ""))
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

    def refuse_websocket(self, decision: AcceptWebSocket | CloseWebSocket) -> None:
        """The handshake the engine accepted cannot complete (bad key, or the
        client left): undo what accepting it started."""
        if isinstance(decision, CloseWebSocket):
            return  # nothing was started
        if not decision.upgrade:
            decision.session.fail("transport error", self.now())
        else:
            self.engine.websocket_closed(decision.session, True, self.now())

    def want_flush(self, conn: Flushable) -> None:
        """Write ``conn``'s output before the loop next waits for I/O.

        Everything a loop turn queues for one socket leaves in one write: a
        handler that emits 20 events to a room costs each member one
        ``send()``, not 20.
        """
        self._dirty.append(conn)
        if self._corked or self._flush_handle is not None:
            return
        self._flush_handle = self.loop.call_soon(self._flush)

    def flush_now(self) -> None:
        """Write what is waiting now rather than at the scheduled flush
        (unless corked: the uncork writes it). The scheduled flush stays:
        handlers that finish later in this loop turn then find one already
        scheduled instead of scheduling and cancelling one each."""
        if self._dirty and not self._corked:
            self._write_dirty()

    def _flush(self) -> None:
        self._flush_handle = None
        self._write_dirty()

    def _write_dirty(self) -> None:
        dirty = self._dirty
        while dirty:
            self._dirty = []
            for conn in dirty:
                conn.flush()
            dirty = self._dirty

    def cork(self) -> None:
        """Hold flushes while a burst of input is handled (see uncork)."""
        self._corked += 1

    def uncork(self) -> None:
        self._corked -= 1
        if not self._corked and self._dirty:
            self._write_dirty()


class WebSocketConnection(asyncio.Protocol):
    """An accepted WebSocket: reads frames into the engine and writes the
    session's outbox, as the asyncio protocol of the connection's transport.

    Nothing here waits, so a socket costs no task. Frames are parsed and
    handed to the engine as they arrive; output is written when the runtime
    flushes (once per loop turn). Backpressure comes from the transport:
    above its high-water mark it pauses us, packets stay in the session's
    outbox (bounded by ``max_buffer``), and ``resume_writing`` flushes them.
    """

    HIGH_WATER = 256 * 1024

    __slots__ = (
        "_paused",
        "_pending_pong",
        "_pending_reply",
        "_queued",
        "probe",
        "reader",
        "runtime",
        "session",
        "transport",
        "waker",
    )

    def __init__(self, runtime: AsyncioRuntime, decision: AcceptWebSocket) -> None:
        self.runtime = runtime
        self.session = decision.session
        self.probe = decision.upgrade
        self.reader = ws_framing.FrameReader(
            runtime.engine.max_payload, runtime.engine.max_fragments
        )
        self.transport: asyncio.Transport | None = None
        self._paused = False
        # While paused, the one answer kept for the client's pings (and for
        # its upgrade probes): the latest, as RFC 6455 allows, never a queue.
        self._pending_pong: bytes | None = None
        self._pending_reply: bytes | None = None
        self._queued = False
        self.waker: Callable[[], None] = self.wake  # one bound method: identity marks ownership
        self.session.ws_waker = self.waker

    # -- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)  # uvloop's: no subclass
        transport.set_write_buffer_limits(high=self.HIGH_WATER)
        self.runtime.websockets.add(self)
        if not self.probe:
            self.wake()  # the OPEN packet and whatever on_open queued

    def data_received(self, data: bytes) -> None:
        error: ws_framing.FrameError | None = None
        try:
            events = self.reader.feed(data)
        except ws_framing.FrameError as exc:
            error, events = exc, exc.events
        session = self.session
        runtime = self.runtime
        receive = runtime.engine.receive_frame
        now = runtime.now()  # what one read brings arrived together
        runtime.cork()
        try:
            for event in events:
                transport = self.transport
                if transport is None or transport.is_closing() or session.state is _CLOSED:
                    return  # nothing counts after a close, the client's included
                if isinstance(event, (str, bytes)):
                    if self.probe:
                        self._probe_message(event, now)
                    else:
                        receive(session, event, False, now)  # no answer but a probe's
                elif isinstance(event, ws_framing.Ping):
                    if self._paused:
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

    def _probe_message(self, frame: Data, now: float) -> None:
        """A frame on a socket that joined a polling session to upgrade it."""
        session = self.session
        probing = session.transport == "polling"
        if probing and session.ws_waker is not self.waker:
            self._close_socket(1000, "")  # the upgrade timed out
            return
        if not probing and session.ws_waker is self.waker:
            self.probe = False  # upgraded: from now on, the plain socket it has become
        reply = self.runtime.engine.receive_frame(session, frame, probing, now)
        if reply is not None:
            if self._paused:
                self._pending_reply = ws_framing.build_frame(reply)
            else:
                self._write(ws_framing.build_frame(reply))

    def pause_writing(self) -> None:
        self._paused = True
        self.session.ws_paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self.session.ws_paused = False
        pong, reply = self._pending_pong, self._pending_reply
        self._pending_pong = self._pending_reply = None
        if pong is not None:
            self._write(ws_framing.pong_frame(pong))
        if reply is not None:
            self._write(reply)
        self.wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.runtime.websockets.discard(self)
        session = self.session
        probing = self.probe and session.transport == "polling"
        # A stale probe socket that closes after a newer upgrade started must
        # not tear down the newer one's state.
        if not probing or session.ws_waker is self.waker or session.ws_waker is None:
            self.runtime.engine.websocket_closed(session, probing, self.runtime.now())
        if session.ws_waker is self.waker:
            session.ws_waker = None

    # -- output -------------------------------------------------------------------

    def wake(self) -> None:
        """The session has output or changed state: flush soon."""
        if not self._queued and self.transport is not None:
            self._queued = True
            self.runtime.want_flush(self)

    def flush(self) -> None:
        self._queued = False
        session = self.session
        if self.transport is None:
            return
        if session.ws_waker is not self.waker:
            self._close_socket(1000, "")  # a probe socket whose upgrade was abandoned
            return
        if session.transport != "websocket":
            # Still probing: this socket writes nothing until the upgrade is
            # done, but a session that ends meanwhile takes the socket along.
            if session.state is State.CLOSED or (
                session.state is State.CLOSING and session.upgrade is not Upgrade.PROBING
            ):
                self._close_socket(1000, "")
            return
        if self._paused and session.state is _OPEN:
            return  # resume_writing flushes
        items = session.take()
        if items:
            self._write(ws_framing.wire_bytes(items, session.protocol))
        if session.state is not _OPEN:
            session.finish()
            # A reader that stopped reading would keep a closing socket (and
            # its buffer) forever: drop it instead of waiting for the drain.
            self._close_socket(1000, "", abort=self._paused)

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
        self._close_socket(1001, "server shutting down", abort=self._paused)
