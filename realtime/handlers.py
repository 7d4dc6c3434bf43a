"""The application's functions: checked when registered, and the hooks that
watch a socket's traffic.

Every function the application registers gets the socket first:

==================================  ===========================================
registered with                     called as
==================================  ===========================================
``on(event)``, ``@event``           ``fn(socket, *args)``; the return value acks
``on("connect")``                   ``fn(socket, auth)``
``on("disconnect")``                ``fn(socket, reason)`` (``disconnecting`` too)
``on("error")``                     ``fn(socket, exc)``: a refused event's error
``on("*")``                         ``fn(socket, event, *args)``, events without
                                    a handler of their own; the return value acks
``on_any``                          ``fn(socket, event, *args)``, every incoming
                                    event, before its middlewares and handler
``on_any_outgoing``                 ``fn(socket, event, *args)``, every event sent
                                    to the socket, when it is sent
``Socket.use``                      ``fn(socket, event, args)``, before the
                                    handler; raise :class:`~realtime.EventRefused`
                                    to drop the event
==================================  ===========================================

:func:`check_handler` refuses, when it is registered, a function that cannot
be called that way, and names the difference when the function has the
shape of a python-socketio handler (a ``sid`` first, ``environ``).

:class:`HandlerRunner` is how every one of them runs, once registered: on
the socket's serial runner, inline when nothing involved is ``async def``
(or, where the runtime offloads plain functions, a ``def`` on a worker
thread while the socket's next work waits), timed when metrics ask for it,
and an exception counted (``handler_errors``) and logged, never let out to
the connection.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import Any, Final

from ._log import log_once
from .coroutines import is_awaitable, never_suspends, run_now
from .errors import HandlerSignatureError
from .protocol.counters import Counters, Timings
from .protocol.socketio import MAX_DEPTH_CEILING, MalformedPacket, decode
from .types import Offload, SharedMessage, TaskRunner

logger: Final = logging.getLogger("realtime.socketio")

Listener = Callable[..., Any]

# What a lifecycle handler is called with, by event: a stand-in per argument.
_LIFECYCLE: Final[dict[str, tuple[str, ...]]] = {
    "connect": ("socket", "auth"),
    "disconnect": ("socket", "reason"),
    "disconnecting": ("socket", "reason"),
    "error": ("socket", "exc"),
}
_POSITIONAL: Final = (
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
)


def _name(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn))


def check_handler(event: str, fn: Callable[..., Any], *, sid_at: int = 0) -> None:
    """Raise :class:`~realtime.HandlerSignatureError` if ``fn`` cannot be
    called as realtime calls the handler of ``event``. ``sid_at`` is the
    position where a python-socketio handler of this kind takes its ``sid``
    (1 for the catch-all, which python-socketio calls ``(event, sid, data)``).
    """
    if not callable(fn):
        raise HandlerSignatureError(f"the handler of {event!r} is not callable: {fn!r}")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # a builtin without a signature: nothing to check
    positional = [p.name for p in signature.parameters.values() if p.kind in _POSITIONAL]
    name = _name(fn)
    if event == "connect" and "environ" in signature.parameters:
        raise HandlerSignatureError(
            f"{name}{signature} has python-socketio's connect(sid, environ, auth) shape; "
            "realtime calls connect(socket, auth): the request's headers, query and address "
            "are socket.handshake, the id is socket.id"
        )
    for at in {0, sid_at}:
        if len(positional) > at and positional[at] == "sid":
            raise HandlerSignatureError(
                f"{name}{signature} takes a sid as python-socketio's handlers do; realtime "
                "passes the Socket itself first (its id is socket.id): "
                f"def {getattr(fn, '__name__', 'handler')}(socket, ...)"
            )
    expected = _LIFECYCLE.get(event)
    if expected is None:
        return
    try:
        signature.bind(*expected)
    except TypeError:
        raise HandlerSignatureError(
            f"realtime calls the {event!r} handler as {event}({', '.join(expected)}); "
            f"{name}{signature} cannot take that"
        ) from None


def check_callback(fn: Callable[..., Any]) -> None:
    """A broadcast's ack callback is called ``fn(err, replies)``: refuse one
    that cannot take that, such as python-socketio's callbacks, which take
    the one client's ack arguments."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(None, [])
    except TypeError:
        raise HandlerSignatureError(
            f"a broadcast's callback is called callback(err, replies); {_name(fn)}{signature} "
            "cannot take that. For one socket's ack arguments, as python-socketio's callback "
            "gets them: sio.get_socket(sid).emit(..., callback=fn)"
        ) from None


def handler_name(fn: Callable[..., Any]) -> str:
    """The event ``@event`` registers ``fn`` for: its name."""
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier() or name == "<lambda>":
        raise HandlerSignatureError(
            f"@event registers a function under its own name, and {fn!r} has none: "
            "use on(event, fn)"
        )
    return name


class SocketHooks:
    """What one socket's application registered on it: catch-all listeners
    both ways and packet middlewares. A socket without any has none of this
    object, so its hot paths test one field."""

    __slots__ = ("any", "outgoing", "uses")

    def __init__(self) -> None:
        self.any: list[Listener] = []
        self.outgoing: list[Listener] = []
        self.uses: list[Listener] = []


class SentEvents:
    """The event and arguments of the broadcasts a namespace delivers, for its
    outgoing listeners: the adapter hands every recipient the same encoded
    messages, so they are decoded back once per broadcast, not per recipient,
    and only while a listener is set."""

    __slots__ = ("_args", "_messages")

    def __init__(self) -> None:
        self._messages: Sequence[SharedMessage] | None = None
        self._args: list[Any] = []

    def of(self, messages: Sequence[SharedMessage]) -> list[Any]:
        """``[event, *args]`` of a broadcast's messages."""
        if messages is not self._messages:
            try:
                data = decode(
                    [m.data for m in messages],
                    5,
                    max_attachments=len(messages),
                    max_depth=MAX_DEPTH_CEILING,  # the server's own packets: no tighter limit
                ).data
            except MalformedPacket:
                # Nested deeper than any decoder reads back: sent, but the
                # listeners cannot be shown it.
                log_once("sent-too-deep", "an emit nested past %d levels", MAX_DEPTH_CEILING)
                data = None
            self._args = list(data) if isinstance(data, list) else []
            self._messages = messages  # held, so the identity stays this list's
        return self._args


def is_async(fn: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    # An instance whose class defines ``async def __call__``.
    return not inspect.isroutine(fn) and inspect.iscoroutinefunction(type(fn).__call__)


async def settle(value: Any) -> Any:
    return await value if is_awaitable(value) else value


def run_to_end(fn: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
    """Run a coroutine function that never really suspends, synchronously.

    The handler plumbing is written once, as coroutines that await a
    handler's result only when it is awaitable. With plain ``def`` handlers
    nothing is ever awaited, so the coroutine completes on its first step and
    the runner keeps running it inline, like any plain function.
    """
    coro = fn(*args)
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()
    logger.error("a plain def handler returned an awaitable; declare it with async def")


class HandlerRunner:
    """How the application's functions run, for every socket of one server.

    A socket queues its work (the handshake, each event, its disconnect
    handlers) on its own serial runner through :meth:`queue`, and calls each
    handler through :meth:`call` (a handler whose return value acks) or, for
    listeners and middlewares whose return value is not an answer,
    :func:`settle`, with :meth:`failed` in the ``except``.
    """

    __slots__ = ("counters", "offload", "timings")

    def __init__(self, counters: Counters) -> None:
        self.counters = counters
        self.timings: Timings | None = None
        """Handler durations, once metrics turn them on (None: no clock read)."""
        self.offload: Offload | None = None
        """The runtime's worker threads for plain functions (see
        :attr:`realtime.types.Runtime.offload`), or None: they run inline."""

    def queue(
        self,
        runner: TaskRunner,
        fns: Iterable[Callable[..., Any] | None],
        work: Callable[..., Coroutine[Any, Any, None]],
        *args: Any,
    ) -> None:
        """Queue ``work(*args)``, which calls ``fns``, on a socket's runner:
        as a coroutine if one of them is ``async def`` (or goes to a worker
        thread), else run to its end inline when its turn comes."""
        offloaded = self.offload is not None
        if any(fn is not None and (offloaded or is_async(fn)) for fn in fns):
            runner.submit(work, *args)
        else:
            runner.submit(run_to_end, work, *args)

    def invoke(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``; for a plain function where the runtime offloads
        them, an awaitable of that, computed on a worker thread (what
        :meth:`call` does inline for event handlers)."""
        offload = self.offload
        if offload is not None and not is_async(fn):
            return offload(fn, args)
        return fn(*args)

    def failed(self, message: str, *args: Any) -> None:
        """An application function raised: counted, and logged with its
        traceback (called in the ``except`` block)."""
        self.counters.handler_errors += 1
        logger.exception(message, *args)

    def call(
        self,
        handler: Callable[..., Any],
        socket: Any,
        args: list[Any],
        ack_id: int | None,
        event: str,
    ) -> Coroutine[Any, Any, None] | None:
        """Call ``handler(socket, *args)`` for ``event``; with ``ack_id``,
        ``socket.answer`` sends its result (not when it raised). A plain
        function is answered at once; an awaitable result comes back as a
        coroutine for the socket's runner to await. Nothing runs for a socket
        that never connected (the event came while it was connecting, and it
        was refused)."""
        if not socket.was_connected:
            return None
        timings = self.timings
        started = timings.clock() if timings is not None else 0.0
        try:
            offload = self.offload
            result: Any
            if offload is not None and not is_async(handler):
                result = offload(handler, (socket, *args))
            else:
                result = handler(socket, *args)  # every event's path: no extra call
            # An async def that never awaits is run now, like a def: no task.
            if result is not None and never_suspends(result):
                result = run_now(result)
        except Exception:
            self.failed("error in the handler of %r on %s", event, socket.namespace.name)
            result = None
            ack_id = None  # a handler that raised is not answered
        else:
            if result is not None and is_awaitable(result):
                return self._finish(result, socket, ack_id, started, event)
        if timings is not None:
            timings.handler_done(started)
        if ack_id is not None:
            socket.answer(result, ack_id)
        return None

    async def _finish(
        self,
        pending: Awaitable[Any],
        socket: Any,
        ack_id: int | None,
        started: float,
        event: str,
    ) -> None:
        try:
            result = await pending
        except Exception:
            self.failed("error in the handler of %r on %s", event, socket.namespace.name)
            ack_id = None
            result = None
        timings = self.timings
        if timings is not None:
            timings.handler_done(started)
        if ack_id is not None:
            socket.answer(result, ack_id)
