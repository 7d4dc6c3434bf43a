"""The asyncio runtime: the only code that waits.

It owns one timer (armed at the engine's next deadline), runs handlers, parks
long-polling GETs and pumps WebSocket frames. The host integration gives it
a :class:`WebSocketPort` per socket; everything it decides comes from the
engine.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from ..http import AcceptWebSocket
from ..protocol.deadlines import Deadlines
from ..protocol.session import Session, State, Upgrade
from ..transports import websocket as ws_framing

logger = logging.getLogger("realtime")

Data = str | bytes


class WebSocketPort(Protocol):
    """A host's accepted WebSocket, reduced to what the pump needs.

    Frames are whole RFC 6455 frames built by the transport layer, so one
    broadcast frame is built once and written to every recipient as is.
    """

    async def receive(self) -> Data | None:
        """The next data frame's payload, or None once the socket closed."""

    def can_write(self) -> bool:
        """True while the socket's send buffer is below its high-water mark."""

    def write(self, frames: list[bytes]) -> None:
        """Write whole frames now, without waiting."""

    async def drain(self) -> None:
        """Wait until the send buffer is below its high-water mark."""

    async def close(self) -> None: ...


class EngineLike(Protocol):
    deadlines: Deadlines

    def handle_timeouts(self, now: float) -> float | None: ...

    def receive_frame(
        self, session: Session, frame: Data, probe_socket: bool, now: float
    ) -> Data | None: ...

    def websocket_closed(self, session: Session, probe_socket: bool, now: float) -> None: ...


def _log_failure(what: str) -> None:
    logger.exception("error in %s", what)


class SerialRunner:
    """Runs submissions one after another. Plain functions run inline; the
    first coroutine starts one task that drains the queue, then ends — one
    task per burst of events, never one per event."""

    __slots__ = ("_loop", "_queue", "_running", "_tasks")

    def __init__(self, loop: asyncio.AbstractEventLoop, tasks: set[asyncio.Task[Any]]) -> None:
        self._loop = loop
        self._queue: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._running = False
        self._tasks = tasks

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._queue.append((fn, args))
        if self._running:
            return
        self._running = True
        queue = self._queue
        while queue:
            fn, args = queue.popleft()
            try:
                result = fn(*args)
            except Exception:
                _log_failure(getattr(fn, "__qualname__", repr(fn)))
                continue
            if inspect.isawaitable(result):
                task = self._loop.create_task(self._drain(result))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                return
        self._running = False

    async def _drain(self, pending: Any) -> None:
        queue = self._queue
        try:
            while True:
                try:
                    await pending
                except Exception:
                    _log_failure("handler")
                pending = None
                while queue and pending is None:
                    fn, args = queue.popleft()
                    try:
                        result = fn(*args)
                    except Exception:
                        _log_failure(getattr(fn, "__qualname__", repr(fn)))
                        continue
                    if inspect.isawaitable(result):
                        pending = result
                if pending is None:
                    return
        finally:
            self._running = False


class AsyncioRuntime:
    """Implements :class:`realtime.types.Runtime` on one asyncio loop."""

    def __init__(self, engine: EngineLike, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.engine = engine
        self.loop = loop or asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.websockets: set[WebSocketPort] = set()
        self.closing = False

    # -- Runtime protocol -------------------------------------------------------

    def now(self) -> float:
        return self.loop.time()

    def serial_runner(self) -> SerialRunner:
        return SerialRunner(self.loop, self._tasks)

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            result = fn(*args)
        except Exception:
            _log_failure(getattr(fn, "__qualname__", repr(fn)))
            return
        if inspect.isawaitable(result):
            task = self.loop.create_task(self._guard(result))
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
        for port in list(self.websockets):
            await port.close()
        for task in list(self._tasks):
            task.cancel()

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

    async def serve_websocket(self, decision: AcceptWebSocket, port: WebSocketPort) -> None:
        """Pump one accepted WebSocket until it or its session closes."""
        session = decision.session
        pump = _WebSocketPump(self, session, port)
        self.websockets.add(port)
        probe = decision.upgrade
        if not probe:
            pump.wake()  # the OPEN packet and whatever on_open queued
        try:
            while True:
                frame = await port.receive()
                if frame is None or session.state is State.CLOSED:
                    break
                probing = probe and session.transport == "polling"
                if probing and session.ws_waker is not pump.waker:
                    break  # the upgrade timed out
                reply = self.engine.receive_frame(session, frame, probing, self.loop.time())
                if reply is not None:
                    port.write([ws_framing.build_frame(reply)])
        except Exception:
            _log_failure("WebSocket reader")
        finally:
            probing = probe and session.transport == "polling"
            # A stale probe socket that closes after a newer upgrade started
            # must not tear down the newer one's state.
            if not probing or session.ws_waker is pump.waker or session.ws_waker is None:
                self.engine.websocket_closed(session, probing, self.loop.time())
            pump.stop()
            self.websockets.discard(port)
            await port.close()


class _WebSocketPump:
    """Moves a session's outbox onto its socket.

    The common case costs no task and no wakeup: the session's waker writes
    the queued frames straight to the socket. Only when the socket's buffer is
    full (a slow reader) or the session is closing does a writer task start;
    it waits for the buffer to drain, writes, and ends. Meanwhile packets stay
    in the session's outbox, which is bounded by ``max_buffer``.
    """

    __slots__ = ("port", "runtime", "session", "waker", "writer")

    def __init__(self, runtime: AsyncioRuntime, session: Session, port: WebSocketPort) -> None:
        self.runtime = runtime
        self.session = session
        self.port = port
        self.writer: asyncio.Task[None] | None = None
        self.waker: Callable[[], None] = self.wake  # one bound method: identity marks ownership
        session.ws_waker = self.waker

    def wake(self) -> None:
        session = self.session
        if self.writer is not None:
            return  # the writer task is on it and will look again before ending
        if session.ws_waker is not self.waker:
            self._start_writer()  # a probe socket whose upgrade was abandoned: close it
        elif session.transport != "websocket":
            if session.state is State.CLOSED or (
                session.state is State.CLOSING and session.upgrade is not Upgrade.PROBING
            ):
                self._start_writer()
        elif session.state is State.OPEN and self.port.can_write():
            items = session.take()
            if items:
                self.port.write(ws_framing.wire_frames(items, session.protocol))
        else:
            self._start_writer()

    def _start_writer(self) -> None:
        self.writer = self.runtime.loop.create_task(self._write())

    async def _write(self) -> None:
        session, port = self.session, self.port
        try:
            while session.transport == "websocket" and session.has_output():
                await port.drain()
                items = session.take()
                port.write(ws_framing.wire_frames(items, session.protocol))
            if session.state is not State.OPEN or session.ws_waker is not self.waker:
                if session.transport == "websocket":
                    session.finish()
                await port.close()
        except asyncio.CancelledError:
            raise
        except Exception:
            # The peer vanished mid-write: the reader sees the close and ends
            # the session.
            await port.close()
        finally:
            self.writer = None

    def stop(self) -> None:
        if self.writer is not None:
            self.writer.cancel()
            self.writer = None
        if self.session.ws_waker is self.waker:
            self.session.ws_waker = None
