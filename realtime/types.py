"""The contracts between the layers.

The engine hands connections to a listener (the Socket.IO server, or the raw
handlers of a bare :class:`~realtime.Engine`); the listener never sees a
transport. Everything that waits belongs to a :class:`Runtime`, which the host
integration creates and binds; the layers below only ever call it.

All listener callbacks run on the runtime's thread and must not block: they
decode, update state and hand work to a :class:`TaskRunner`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

Data = str | bytes
"""One Engine.IO message: text, or binary."""

TransportName = Literal["polling", "websocket"]

T_co = TypeVar("T_co", covariant=True)


@runtime_checkable
class Connection(Protocol):
    """An Engine.IO connection as the layers above see it."""

    @property
    def id(self) -> str:
        """The Engine.IO session id (``sid``)."""

    @property
    def protocol(self) -> int:
        """The Engine.IO revision the client speaks: 3 or 4."""

    @property
    def transport(self) -> TransportName:
        """``"polling"`` (XHR or JSONP) or ``"websocket"``; changes on upgrade."""

    @property
    def jsonp(self) -> bool:
        """True when the client polls through JSONP."""

    @property
    def closed(self) -> bool: ...

    @property
    def close_reason(self) -> str | None:
        """Why the connection closed, in the engine's own words (finer than
        the Node reason a disconnect handler hears); empty or None while open."""

    @property
    def writable(self) -> bool:
        """Whether a message sent now leaves at once (a volatile one is
        dropped otherwise): a WebSocket not paused, or a parked poll."""

    @property
    def headers(self) -> Mapping[str, str]:
        """Headers of the handshake request (lower-case names)."""

    @property
    def query(self) -> Mapping[str, str]:
        """Query parameters of the handshake request."""

    @property
    def remote_addr(self) -> str | None: ...

    def send(self, data: Data) -> None:
        """Queue one message and wake the writer. Never blocks."""

    def send_shared(self, message: SharedMessage) -> None:
        """Queue a message encoded once for many recipients."""

    def close(self, reason: str = "server disconnect") -> None:
        """Close the connection; the listener's ``on_close`` follows."""


class SharedMessage(Protocol):
    """One message sent to many connections: the payload plus a cache of its
    encodings per framing variant, filled on first use and then reused."""

    @property
    def data(self) -> Data: ...


class EngineListener(Protocol):
    """What the engine calls as connections open, speak and close."""

    def on_open(self, conn: Connection) -> None:
        """A connection completed its Engine.IO handshake."""

    def on_message(self, conn: Connection, data: Data) -> None:
        """A connection sent a message (text as str, binary as bytes)."""

    def on_close(self, conn: Connection, reason: str) -> None:
        """A connection closed; ``reason`` says why (Engine.IO's words)."""


class TaskRunner(Protocol):
    """Runs callables one after another, in submission order.

    ``fn`` may be a plain function or a coroutine function; the next one starts
    when the previous one finished. Exceptions are logged, never raised here.
    """

    def submit(self, fn: Callable[..., Any], *args: Any) -> None: ...

    @property
    def pending(self) -> int:
        """Submissions waiting for an earlier one to finish."""


class Promise(Protocol[T_co]):
    """A value that will arrive later: awaitable once, resolved by the core."""

    def done(self) -> bool: ...

    def set_result(self, value: Any) -> None: ...

    def set_exception(self, exc: BaseException) -> None: ...

    def __await__(self) -> Generator[Any, None, T_co]: ...


Offload = Callable[[Callable[..., Any], tuple[Any, ...]], Awaitable[Any]]
"""Calls a plain ``def`` handler on a worker thread: an awaitable of its result."""


class Runtime(Protocol):
    """The only code that waits. One per event loop (or hub)."""

    offload: Offload | None
    """Where plain ``def`` handlers run. None: inline, on the core's thread
    (asyncio hosts by default, where a handler must not block; green hosts,
    where its blocking switches green threads). The thread host, whose
    ``def`` handlers may block as a Flask app's do, runs them on worker
    threads, and so do the asyncio hosts given ``handler_threads``."""

    def now(self) -> float:
        """Monotonic seconds; the ``now`` handed to the core."""

    def serial_runner(self) -> TaskRunner:
        """A new runner whose submissions run one after another."""

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` concurrently with everything else; exceptions are logged."""

    def create_promise(self) -> Promise[Any]: ...

    def deadlines_changed(self) -> None:
        """The earliest deadline moved earlier: re-arm the timer loop."""

    def owns_thread(self) -> bool:
        """Whether the caller is on the thread that runs the core (the loop's,
        the hub's); every emit asks, so it must cost about a comparison."""

    def call_soon_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the core's thread soon, waking it if it
        sleeps; callable from any thread. Failures are logged there."""

    def spawn_blocking(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn``, which may block its thread, beside the core: an OS
        thread of its own (asyncio), a green thread (eventlet). Callable from
        any thread; exceptions are logged."""

    def sleep(self, seconds: float) -> Awaitable[None]:
        """Wait ``seconds``: an awaitable on the loop's thread (asyncio);
        blocking the caller, then already done, anywhere else."""


AsyncOrSync = Callable[..., Any | Awaitable[Any]]


class ServerWatcher(Protocol):
    """Told what happens to a server's namespaces and sockets
    (:meth:`realtime.Server.watch`): what instrumentation such as the Admin UI
    follows. Called synchronously; must not block."""

    def namespace_created(self, namespace: Any) -> None:
        """A namespace came to be (one named, or a dynamic child)."""

    def namespace_removed(self, namespace: Any) -> None:
        """A dynamic child namespace lost its last socket and is gone."""

    def socket_connected(self, socket: Any) -> None:
        """A socket joined a namespace (its connect handler accepted it)."""

    def socket_disconnected(self, socket: Any, reason: str) -> None:
        """A socket left its namespace; ``reason`` is its disconnect reason."""

    def socket_upgraded(self, socket: Any) -> None:
        """The socket's connection moved from polling to WebSocket."""
