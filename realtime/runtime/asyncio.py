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
from ..protocol.session import Session, State
from ..transports import websocket as ws_framing

logger = logging.getLogger("realtime")

Data = str | bytes


class WebSocketPort(Protocol):
    """A host's accepted WebSocket, reduced to what the pump needs."""

    async def receive(self) -> Data | None:
        """The next data frame, or None once the socket closed."""

    async def send(self, frame: Data) -> None: ...

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
        probe = decision.upgrade
        wake = asyncio.Event()
        waker = wake.set  # one bound method, so identity tells if it is still ours
        session.ws_waker = waker
        self.websockets.add(port)
        writer = self.loop.create_task(self._write(session, port, wake, waker))
        if not probe:
            wake.set()  # the OPEN packet and whatever on_open queued
        try:
            while True:
                frame = await port.receive()
                if frame is None or session.state is State.CLOSED:
                    break
                probing = probe and session.transport == "polling"
                if probing and session.ws_waker is not waker:
                    break  # the upgrade timed out
                reply = self.engine.receive_frame(session, frame, probing, self.loop.time())
                if reply is not None:
                    await port.send(reply)
        except Exception:
            _log_failure("WebSocket reader")
        finally:
            probing = probe and session.transport == "polling"
            self.engine.websocket_closed(session, probing, self.loop.time())
            wake.set()
            writer.cancel()
            self.websockets.discard(port)
            await port.close()

    async def _write(
        self,
        session: Session,
        port: WebSocketPort,
        wake: asyncio.Event,
        waker: Callable[[], None],
    ) -> None:
        try:
            while True:
                await wake.wait()
                wake.clear()
                if session.transport == "websocket":
                    items = session.take()
                    for frame in ws_framing.frame_payloads(items, session.protocol):
                        await port.send(frame)
                    if session.state is not State.OPEN:
                        session.finish()
                        await port.close()
                        return
                elif session.ws_waker is not waker or session.state is not State.OPEN:
                    await port.close()  # a probe socket whose upgrade was abandoned
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            # The peer vanished mid-write: the reader sees the close and
            # ends the session.
            await port.close()
