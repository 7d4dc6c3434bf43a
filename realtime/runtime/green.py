"""The green-thread runtime: the same core, on eventlet's hub or gevent's.

:class:`GreenRuntime` implements :class:`realtime.types.Runtime` (what the
core calls) and :class:`realtime.http.GreenHostRuntime` (what a WSGI host
calls) once, for any hub that lets green threads block: one hub timer armed
at the engine's next deadline, handlers run by one green thread per burst of
events of a socket, a request's green thread blocked in
:meth:`GreenRuntime.respond` while its poll is parked, and in
:meth:`GreenRuntime.serve_socket` for a WebSocket's life (served from the hub's callbacks).

What differs between eventlet and gevent is small and lives behind
:class:`GreenHub`: spawning, a one-shot signal, a hub timer, waiting for a
file descriptor, and the OS calls as they were before monkey-patching
(:mod:`realtime.runtime.eventlet`, :mod:`realtime.runtime.gevent`).

Handlers are plain ``def``s, which may block the hub's way (green I/O, its
``sleep``). An ``async def`` handler runs too, as long as what it awaits is
the server's (acks: ``await socket.call(...)`` blocks its green thread); one
that awaits asyncio's own (``asyncio.sleep``) is stopped, and the log says so.
"""

from __future__ import annotations

import _socket
import contextlib
import inspect
import logging
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, Final, Protocol

from .._log import log_once
from ..coroutines import DONE, is_awaitable
from ..crossing import Signal, ThreadPromise
from ..http import (
    AcceptWebSocket,
    CloseWebSocket,
    Flushable,
    HttpRequest,
    HttpResponse,
    LongPoll,
)
from ..protocol.session import State
from ..types import Offload
from .alarm import Alarm, Cancellable
from .asyncio import (
    ConnectionRuntime,
    EngineLike,
    WebSocketConnection,
    handshake_answer,
    host_decision,
)
from .hub_transport import HubTransport

logger: Final = logging.getLogger("realtime")


class GreenHub(Protocol):
    """What one green-thread library gives the runtime."""

    name: str
    """Its name, for the log."""
    os: ModuleType
    """:mod:`os` as it was before monkey-patching: another OS thread writes
    the doorbell pipe with it."""

    def os_thread_id(self) -> int:
        """The OS thread's id, whatever monkey-patching made of ``threading``."""

    def os_sleep(self, seconds: float) -> None:
        """Sleep the OS thread (a caller off the hub)."""

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` in a green thread of its own."""

    def spawn_joinable(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Run ``fn()`` in a green thread; returns what waits for its end."""

    def signal(self) -> Signal: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """``callback()`` in the hub itself after ``delay`` seconds."""

    def wait_readable(self, fd: int) -> None:
        """Block this green thread until ``fd`` can be read."""

    def watch(self, fd: int, readable: bool, callback: Callable[[], None]) -> Callable[[], None]:
        """``callback()`` in the hub itself each time ``fd`` is readable (or
        writable) until the returned function is called."""

    def sleep(self, seconds: float) -> None:
        """Block this green thread only."""


def _run(fn: Callable[..., Any], args: tuple[Any, ...], hub_name: str = "a green hub") -> None:
    """``fn(*args)``, failures logged. An awaitable result is driven here:
    what it awaits of ours (an ack's :class:`~realtime.crossing.ThreadPromise`
    on a signal of the hub's) blocks the green
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
                "%s awaits something of asyncio's (asyncio.sleep, a task...): on %s, "
                "use its own calls, or an asyncio host (realtime.run, realtime.ASGIApp)",
                getattr(fn, "__qualname__", repr(fn)),
                hub_name,
            )
    except Exception:
        logger.exception("error in %s", getattr(fn, "__qualname__", repr(fn)))


class GreenRunner:
    """Runs submissions one after another in a green thread that exists
    while there is work (one per burst of events, never one per event)."""

    __slots__ = ("_hub", "_queue", "_running")

    def __init__(self, hub: GreenHub) -> None:
        self._hub = hub
        self._queue: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._running = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._queue.append((fn, args))
        if not self._running:
            self._running = True
            self._hub.spawn(self._drain)

    def _drain(self) -> None:
        queue = self._queue
        name = self._hub.name
        try:
            while queue:
                fn, args = queue.popleft()
                _run(fn, args, name)
        finally:
            self._running = False

    @property
    def pending(self) -> int:
        return max(0, len(self._queue) - (1 if self._running else 0))


class GreenRuntime(ConnectionRuntime):
    """Implements :class:`realtime.types.Runtime` and
    :class:`realtime.http.GreenHostRuntime` on ``hub``."""

    def __init__(self, engine: EngineLike, hub: GreenHub) -> None:
        self.engine = engine
        self.hub = hub
        # Plain handlers run in their green thread, where blocking switches.
        self.offload: Offload | None = None
        self._alarm = Alarm(engine, self.now, self._call_at)
        self.closing = False
        self.websockets: set[WebSocketConnection] = set()
        self._dirty: list[Flushable] = []
        self._corked = 0
        self._flush_handle = None
        self._loop_thread_id = hub.os_thread_id()
        self._handed: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._doorbell: tuple[int, int] | None = None  # a pipe: other threads ring it

    # -- Runtime ------------------------------------------------------------------

    def now(self) -> float:
        return time.monotonic()

    def serial_runner(self) -> GreenRunner:
        return GreenRunner(self.hub)

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        self.hub.spawn(_run, fn, args, self.hub.name)

    def create_promise(self) -> ThreadPromise:
        return ThreadPromise(self.hub.signal())

    def deadlines_changed(self) -> None:
        self._alarm.arm()

    def owns_thread(self) -> bool:
        return self.hub.os_thread_id() == self._loop_thread_id

    def call_soon_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.owns_thread():
            self.spawn(fn, *args)
            return
        doorbell = self._doorbell
        if doorbell is None:
            log_once("closed-hub", "a call from another thread came after the server stopped")
            return
        self._handed.append((fn, args))  # deque appends are atomic
        self.hub.os.write(doorbell[1], b"\0")

    def spawn_blocking(self, fn: Callable[..., Any], *args: Any) -> None:
        self.call_soon_threadsafe(fn, *args)  # a green thread: it may block the hub's way

    def sleep(self, seconds: float) -> Awaitable[None]:
        if self.owns_thread():
            self.hub.sleep(seconds)
        else:
            self.hub.os_sleep(seconds)
        return DONE

    def _answer_doorbell(self, read_end: int) -> None:
        """The hub's side of the pipe: run what other threads handed over."""
        handed = self._handed
        os = self.hub.os
        while not self.closing:
            self.hub.wait_readable(read_end)
            os.read(read_end, 4096)
            while handed:
                fn, args = handed.popleft()
                self.spawn(fn, *args)
        os.close(read_end)

    # -- the one timer ------------------------------------------------------------

    def start(self) -> None:
        self._alarm.arm()
        if self._doorbell is None:
            os = self.hub.os
            read_end, write_end = os.pipe()
            os.set_blocking(read_end, False)
            self._doorbell = (read_end, write_end)
            self.hub.spawn(self._answer_doorbell, read_end)

    def _call_at(self, when: float, callback: Callable[[], None]) -> Cancellable:
        # In the hub: nothing the callback runs may block, and nothing does
        # (the core never waits; handlers run in their own green threads).
        return self.hub.call_later(max(0.0, when - self.now()), callback)

    def stop(self) -> None:
        self.closing = True
        self._alarm.close()
        self._flush()
        for conn in list(self.websockets):
            conn.close()
        doorbell, self._doorbell = self._doorbell, None
        if doorbell is not None:
            self.hub.os.write(doorbell[1], b"\0")  # the doorbell's green thread sees closing
            self.hub.os.close(doorbell[1])

    # -- GreenHostRuntime ---------------------------------------------------------

    def respond(self, req: HttpRequest) -> HttpResponse | AcceptWebSocket | CloseWebSocket:
        """The engine's decision on ``req``, this green thread blocked while
        its poll is parked."""
        decision = host_decision(self.engine, req, self.now(), self.closing)
        if not isinstance(decision, LongPoll):
            return decision
        session = decision.session
        if not session.has_output() and session.state is State.OPEN:
            woken = self.hub.signal()
            wake = woken.set  # one bound method: release_poll tells it by identity
            session.park_poll(wake)
            try:
                woken.wait()
            finally:
                session.release_poll(wake)
        else:
            session.release_poll()
        return self.engine.poll_response(session, req)

    def serve_socket(
        self, sock: Any, decision: AcceptWebSocket | CloseWebSocket, accept: str
    ) -> None:
        """Answer the handshake on ``sock``, then serve the WebSocket from the
        hub's callbacks (a :class:`~realtime.runtime.hub_transport.HubTransport`
        under the embedded server's :class:`WebSocketConnection`) while this
        green thread waits for its end."""
        if isinstance(decision, CloseWebSocket):
            with contextlib.suppress(OSError):
                sock.sendall(handshake_answer(decision, accept))
                sock.shutdown(socket.SHUT_RDWR)
            return
        try:
            sock.sendall(handshake_answer(decision, accept))
            # The hub's own socket object on a descriptor of our own: the
            # server closes its socket once this green thread returns.
            raw = _socket.socket(fileno=self.hub.os.dup(sock.fileno()))
            raw.setblocking(False)
        except OSError:  # the client left during its handshake
            self.refuse_websocket(decision)
            return
        ended = self.hub.signal()
        conn = WebSocketConnection(self, decision)
        conn.on_lost = ended.set
        conn.connection_made(HubTransport(raw, self.hub, conn))
        ended.wait()

    # -- writing: what WebSocketConnection asks of its runtime ------------------------

    def _schedule_flush(self, flush: Callable[[], None]) -> object:
        return self.hub.call_later(0.0, flush)  # the hub's next turn

    def refuse_websocket(self, decision: AcceptWebSocket | CloseWebSocket) -> None:
        self.engine.refuse_websocket(decision, self.now())
