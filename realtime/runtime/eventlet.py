"""The eventlet runtime: the same core, on green threads.

It implements :class:`realtime.types.Runtime` (what the core calls) with
eventlet's hub: one hub timer armed at the engine's next deadline, handlers
run by one green thread per burst of events of a socket, and
:class:`realtime.http.GreenHostRuntime` (what a WSGI host calls): a request's
green thread blocks in :meth:`EventletRuntime.respond` while its poll is
parked, and in :meth:`EventletRuntime.serve_websocket` for a WebSocket's life.

Handlers are plain ``def``s, which may block in eventlet's way (green I/O,
``eventlet.sleep``). An ``async def`` handler runs too, as long as what it
awaits is the server's (acks: ``await socket.call(...)`` blocks its green
thread); one that awaits asyncio's own (``asyncio.sleep``) is stopped, and
the log says so.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Final

import eventlet
from eventlet import hubs, patcher
from eventlet.event import Event

from .._log import log_once
from ..coroutines import DONE, is_awaitable
from ..http import (
    AcceptWebSocket,
    CloseWebSocket,
    Forward,
    GreenChannel,
    HttpRequest,
    HttpResponse,
    LongPoll,
)
from ..link import LinkState, WebSocketLink
from ..protocol.session import State
from ..transports import websocket as ws_framing
from .alarm import Alarm
from .asyncio import EngineLike

logger: Final = logging.getLogger("realtime")

# The OS thread's id and calls, as they were before any monkey-patching: a
# green thread shares its OS thread with the hub (so it may touch the core
# directly); only a real thread of another OS thread must hand its calls over.
_os_thread: Final = patcher.original("_thread")
_os: Final = patcher.original("os")
_os_time: Final = patcher.original("time")


def _run(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """``fn(*args)``, failures logged. An awaitable result is driven here:
    what it awaits of ours (an ack's :class:`GreenPromise`) blocks the green
    thread instead of suspending, so it completes in one step unless it
    awaits something of asyncio's, which cannot run on green threads."""
    try:
        result = fn(*args)
        if result is not None and is_awaitable(result):
            steps = result if inspect.iscoroutine(result) else result.__await__()
            try:
                steps.send(None)
            except StopIteration:
                return
            steps.close()
            log_once(
                "green-async",
                "%s awaits something of asyncio's (asyncio.sleep, a task...): on eventlet, "
                "use eventlet's calls, or an asyncio host (realtime.run, realtime.ASGIApp)",
                getattr(fn, "__qualname__", repr(fn)),
            )
    except Exception:
        logger.exception("error in %s", getattr(fn, "__qualname__", repr(fn)))


class GreenRunner:
    """Runs submissions one after another in a green thread that exists
    while there is work (one per burst of events, never one per event)."""

    __slots__ = ("_queue", "_running")

    def __init__(self) -> None:
        self._queue: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._running = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._queue.append((fn, args))
        if not self._running:
            self._running = True
            eventlet.spawn_n(self._drain)

    def _drain(self) -> None:
        queue = self._queue
        try:
            while queue:
                fn, args = queue.popleft()
                _run(fn, args)
        finally:
            self._running = False

    @property
    def pending(self) -> int:
        return max(0, len(self._queue) - (1 if self._running else 0))


class GreenPromise:
    """A value that arrives later, for green code: ``wait()`` blocks this
    green thread until it does, and so does awaiting it (an ``async def``
    handler awaiting an ack therefore never suspends; see ``_run``)."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: Event = Event()

    def done(self) -> bool:
        return bool(self._event.ready())

    def set_result(self, value: Any) -> None:
        if not self._event.ready():
            self._event.send(value)

    def set_exception(self, exc: BaseException) -> None:
        if not self._event.ready():
            self._event.send_exception(exc)

    def wait(self, timeout: float | None = None) -> Any:
        return self._event.wait(timeout)

    def __await__(self) -> Generator[Any, None, Any]:
        return self._event.wait()
        yield  # makes this a generator; never reached


class EventletRuntime:
    """Implements :class:`realtime.types.Runtime` and
    :class:`realtime.http.GreenHostRuntime` on eventlet's hub."""

    def __init__(self, engine: EngineLike) -> None:
        self.engine = engine
        self.hub = hubs.get_hub()
        self._alarm = Alarm(engine, self.now, self._call_at)
        self.closing = False
        self.websockets: set[GreenWebSocket] = set()
        self._thread = _os_thread.get_ident()
        self._handed: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._doorbell: tuple[int, int] | None = None  # a pipe: other threads ring it

    # -- Runtime ------------------------------------------------------------------

    def now(self) -> float:
        return time.monotonic()

    def serial_runner(self) -> GreenRunner:
        return GreenRunner()

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        eventlet.spawn_n(_run, fn, args)

    def create_promise(self) -> GreenPromise:
        return GreenPromise()

    def deadlines_changed(self) -> None:
        self._alarm.arm()

    def owns_thread(self) -> bool:
        return bool(_os_thread.get_ident() == self._thread)

    def call_soon_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.owns_thread():
            eventlet.spawn_n(_run, fn, args)
            return
        doorbell = self._doorbell
        if doorbell is None:
            log_once("closed-hub", "a call from another thread came after the server stopped")
            return
        self._handed.append((fn, args))  # deque appends are atomic
        _os.write(doorbell[1], b"\0")

    def spawn_blocking(self, fn: Callable[..., Any], *args: Any) -> None:
        self.call_soon_threadsafe(fn, *args)  # a green thread: it may block the eventlet way

    def sleep(self, seconds: float) -> Awaitable[None]:
        if self.owns_thread():
            eventlet.sleep(seconds)
        else:
            _os_time.sleep(seconds)
        return DONE

    def _answer_doorbell(self, read_end: int) -> None:
        """The hub's side of the pipe: run what other threads handed over."""
        handed = self._handed
        while not self.closing:
            hubs.trampoline(read_end, read=True)
            _os.read(read_end, 4096)
            while handed:
                fn, args = handed.popleft()
                eventlet.spawn_n(_run, fn, args)
        _os.close(read_end)

    # -- the one timer ------------------------------------------------------------

    def start(self) -> None:
        self._alarm.arm()
        if self._doorbell is None:
            read_end, write_end = _os.pipe()
            _os.set_blocking(read_end, False)
            self._doorbell = (read_end, write_end)
            eventlet.spawn_n(self._answer_doorbell, read_end)

    def _call_at(self, when: float, callback: Callable[[], None]) -> Any:
        # In the hub: nothing the callback runs may block, and nothing does
        # (the core never waits; handlers run in their own green threads).
        return self.hub.schedule_call_global(max(0.0, when - self.now()), callback)

    def stop(self) -> None:
        self.closing = True
        self._alarm.close()
        for ws in list(self.websockets):
            ws.wake()
        doorbell, self._doorbell = self._doorbell, None
        if doorbell is not None:
            _os.write(doorbell[1], b"\0")  # the doorbell's green thread sees closing and ends
            _os.close(doorbell[1])

    # -- GreenHostRuntime ---------------------------------------------------------

    def respond(self, req: HttpRequest) -> HttpResponse | AcceptWebSocket | CloseWebSocket:
        """The engine's decision on ``req``, this green thread blocked while
        its poll is parked."""
        if self.closing:
            return HttpResponse(503, {"Content-Type": "text/plain"}, b"shutting down")
        decision = self.engine.handle_request(req, self.now())
        if isinstance(decision, Forward):
            return decision.refused()
        if not isinstance(decision, LongPoll):
            return decision
        session = decision.session
        if not session.has_output() and session.state is State.OPEN:
            event = Event()

            def wake() -> None:
                if not event.ready():
                    event.send(None)

            session.park_poll(wake)
            try:
                event.wait()
            finally:
                session.release_poll(wake)
        else:
            session.release_poll()
        return self.engine.poll_response(session, req)

    def serve_websocket(self, decision: AcceptWebSocket, channel: GreenChannel) -> None:
        """Serve an accepted WebSocket until it closes, blocking this green thread."""
        GreenWebSocket(self, decision, channel).run()

    def refuse_websocket(self, decision: AcceptWebSocket | CloseWebSocket) -> None:
        self.engine.refuse_websocket(decision, self.now())


class GreenWebSocket:
    """An accepted WebSocket on green threads: the request's green thread
    reads, one writer green thread sends what the link gives it when woken."""

    __slots__ = ("_replies", "_wakeup", "channel", "link", "runtime", "session")

    def __init__(
        self, runtime: EventletRuntime, decision: AcceptWebSocket, channel: GreenChannel
    ) -> None:
        self.runtime = runtime
        self.session = decision.session
        self.channel = channel
        self._wakeup: Event = Event()
        self._replies: list[str | bytes] = []
        self.link = WebSocketLink(runtime.engine, decision.session, decision.upgrade, self.wake)

    def wake(self) -> None:
        if not self._wakeup.ready():
            self._wakeup.send(None)

    def run(self) -> None:
        runtime = self.runtime
        link = self.link
        runtime.websockets.add(self)
        writer = eventlet.spawn(self._write)
        if link.wants_output_now:
            self.wake()
        try:
            while not link.closing and not runtime.closing:
                message = self.channel.receive()
                if message is None:
                    break
                if len(message) > runtime.engine.max_payload:
                    log_once("ws-frame-1009", "closing a WebSocket: message too big")
                    self.channel.close(1009)
                    break
                reply = link.receive(message, runtime.now())
                if reply is not None:
                    self._replies.append(reply)
                if reply is not None or link.closing:
                    self.wake()
        except Exception:
            logger.exception("error in WebSocket reader")
        finally:
            runtime.websockets.discard(self)
            link.lost(runtime.now())
            self.wake()
            writer.wait()
            self.channel.close(1000)

    def _write(self) -> None:
        link = self.link
        channel = self.channel
        try:
            while True:
                self._wakeup.wait()
                self._wakeup = Event()
                replies, self._replies = self._replies, []
                items = link.output()
                out = replies + ws_framing.wire_payloads(items, self.session.protocol)
                if out:
                    channel.send(out)
                if link.closing or self.runtime.closing:
                    channel.close(1001 if self.runtime.closing else 1000)
                    return
                if link.state is LinkState.CLOSED:
                    return
        except Exception:  # the client went away mid-write: the reader hears it
            return
