"""In-memory peers for the Socket.IO layer: a Connection that records what the
server sends, and a Runtime with a hand-driven clock.

Neither is a mock: each implements its contract in :mod:`realtime.types` the
way the engine and the asyncio runtime do (closing a connection tells the
listener at once; sends after close are dropped; plain functions run inline
on a serial runner, coroutines in one asyncio task that drains the queue).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from realtime.protocol.deadlines import Deadlines
from realtime.server import Server, Socket
from realtime.types import Data, EngineListener, SharedMessage, TransportName

logger = logging.getLogger("tests.sio")

_ids = itertools.count()


class FakeConnection:
    """One Engine.IO connection seen from the server, driven by the test as
    the client. ``protocol`` is the Engine.IO revision (4 -> Socket.IO v5)."""

    def __init__(
        self,
        listener: EngineListener,
        protocol: int = 4,
        *,
        transport: TransportName = "websocket",
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        remote_addr: str | None = "127.0.0.1",
    ) -> None:
        self.listener = listener
        self.id = f"eio-{next(_ids)}"
        self.protocol = protocol
        self.transport: TransportName = transport
        self.jsonp = False
        self.closed = False
        self.writable = True  # the test says when the "transport" is backpressured
        self.close_reason: str | None = None
        self.headers: Mapping[str, str] = dict(headers or {"user-agent": "test"})
        self.query: Mapping[str, str] = dict(query or {"EIO": str(protocol)})
        self.remote_addr = remote_addr
        self.outbox: list[Data | SharedMessage] = []

    # -- Connection ---------------------------------------------------------------

    def send(self, data: Data) -> None:
        if not self.closed:
            self.outbox.append(data)

    def send_shared(self, message: SharedMessage) -> None:
        if not self.closed:
            self.outbox.append(message)

    def close(self, reason: str = "server disconnect") -> None:
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        self.listener.on_close(self, reason)

    # -- the client's side ----------------------------------------------------------

    def open(self) -> FakeConnection:
        self.listener.on_open(self)
        return self

    def receive(self, *messages: Data) -> None:
        """Messages from the client, in order."""
        for message in messages:
            if self.closed:
                return
            self.listener.on_message(self, message)

    def lost(self, reason: str = "transport close") -> None:
        """The engine noticed the client is gone (transport close, ping timeout)."""
        if not self.closed:
            self.closed = True
            self.close_reason = reason
            self.listener.on_close(self, reason)

    def take(self) -> list[Any]:
        """What the server sent since the last take, shared messages unwrapped
        (typed Any: tests compare them with literal strings and bytes)."""
        items, self.outbox = self.outbox, []
        return [item if isinstance(item, (str, bytes)) else item.data for item in items]


class _Runner:
    """Serial runner: plain functions inline; the first awaitable result starts
    one task that finishes it and then drains the rest of the queue."""

    def __init__(self, runtime: TestRuntime) -> None:
        self._runtime = runtime
        self._queue: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._busy = False

    @property
    def pending(self) -> int:
        return len(self._queue) if self._busy else 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._queue.append((fn, args))
        if not self._busy:
            self._busy = True
            self._drain_sync()

    def _drain_sync(self) -> None:
        while self._queue:
            result = self._call_next()
            if inspect.isawaitable(result):
                self._runtime.track(self._drain_async(result))
                return
        self._busy = False

    def _call_next(self) -> Any:
        fn, args = self._queue.popleft()
        try:
            return fn(*args)
        except Exception:
            logger.exception("submitted function failed")
            self._runtime.failures += 1
            return None

    async def _drain_async(self, pending: Any) -> None:
        while True:
            try:
                await pending
            except Exception:
                logger.exception("submitted coroutine failed")
                self._runtime.failures += 1
            pending = None
            while self._queue and pending is None:
                result = self._call_next()
                if inspect.isawaitable(result):
                    pending = result
            if pending is None:
                self._busy = False
                return


class TestRuntime:
    """A Runtime whose clock moves only when the test says so."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, start: float = 1000.0) -> None:
        self.clock = start
        self.tasks: set[asyncio.Task[Any]] = set()
        self.failures = 0
        self.deadline_moves = 0

    def now(self) -> float:
        return self.clock

    def serial_runner(self) -> _Runner:
        return _Runner(self)

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            result = fn(*args)
        except Exception:
            logger.exception("spawned function failed")
            self.failures += 1
            return
        if inspect.isawaitable(result):
            self.track(result)

    def track(self, awaitable: Any) -> None:
        task = asyncio.get_running_loop().create_task(awaitable)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def create_promise(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    def deadlines_changed(self) -> None:
        self.deadline_moves += 1

    offload = None  # plain handlers inline, as on the asyncio hosts

    def owns_thread(self) -> bool:
        return True  # the tests drive the core from one thread

    def call_soon_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
        self.spawn(fn, *args)

    def spawn_blocking(self, fn: Callable[..., Any], *args: Any) -> None:
        self.spawn(fn, *args)

    def sleep(self, seconds: float) -> Any:
        return asyncio.sleep(0)  # the clock moves only when the test says so

    # -- for tests --------------------------------------------------------------------

    def advance(self, seconds: float, deadlines: Deadlines) -> int:
        """Move the clock and fire what became due; returns how many fired."""
        self.clock += seconds
        return deadlines.fire(self.clock)

    async def settle(self) -> None:
        """Let every task run until none can make progress (no clock involved:
        the tasks only ever wait for each other or for the test)."""
        for _ in range(100):
            if not self.tasks:
                return
            await asyncio.sleep(0)


def make_server(**options: Any) -> tuple[Server, TestRuntime]:
    sio = Server(**options)
    runtime = TestRuntime()
    sio.bind(runtime)
    return sio, runtime


def connect(
    sio: Server, protocol: int = 4, nsp: str = "/", auth: Any = None, **kw: Any
) -> FakeConnection:
    """Open a connection and, for Socket.IO v5, send the CONNECT for ``nsp``."""
    conn = FakeConnection(sio, protocol, **kw).open()
    if protocol == 4:
        prefix = "" if nsp == "/" else nsp + ","
        conn.receive("0" + prefix + ("" if auth is None else _json(auth)))
    elif nsp != "/":
        conn.receive(f"0{nsp},")
    return conn


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def sid_of(answer: Data) -> str:
    """The socket id in a v5 CONNECT answer like ``0/nsp,{"sid":"..."}``."""
    assert isinstance(answer, str) and answer.startswith("0")
    return str(json.loads(answer[answer.index("{") :])["sid"])


class Gate:
    """An awaitable the test opens: lets a handler be caught mid-flight."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    async def wait(self) -> None:
        await self._event.wait()

    def open(self) -> None:
        self._event.set()


def socket_of(sio: Server, conn: FakeConnection, nsp: str = "/") -> Socket:
    """The server's socket for the last CONNECT answer ``conn`` was sent
    (taking what the connection was sent so far)."""
    answer = [m for m in conn.take() if isinstance(m, str) and m.startswith("0")][-1]
    socket = sio.get_socket(sid_of(answer), nsp)
    assert socket is not None
    return socket
