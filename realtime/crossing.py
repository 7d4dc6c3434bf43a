"""Calls from other threads: the application's emits and calls, handed to
the runtime's thread.

The core (sessions, rooms, outboxes, the deadline heap) belongs to one
thread: the asyncio loop's, or eventlet's hub's. A Flask view, a background
job or a thread of the application's own may still call ``sio.emit``: the
public API asks :func:`elsewhere` first, and when the caller is not on the
runtime's thread the call is handed over with the runtime's
``call_soon_threadsafe``, which also wakes a loop that sleeps. Asking costs
one thread-id comparison, so the handlers' own emits stay as cheap as before.

What waits for an answer there (``sio.call``) answers the calling thread with
a :class:`ThreadPromise`: ``promise.result(timeout)`` blocks that thread. The
green runtimes give their own green threads the same promise, on a signal of
their hub's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from typing import Any, Protocol, TypeGuard

from .errors import AckTimeout
from .types import Promise, Runtime


def elsewhere(runtime: Runtime | None) -> TypeGuard[Runtime]:
    """True when the caller is not on ``runtime``'s thread (False before the
    server is bound: nothing runs yet that a call could race with). A plain
    call of fixed arity: the emits ask it on their hot path."""
    return runtime is not None and not runtime.owns_thread()


def handed_over(runtime: Runtime | None, fn: Callable[..., Any], *args: Any) -> bool:
    """When the caller is on another thread: ``fn(*args)`` handed to the
    runtime's, and True (the caller returns); False to go on here."""
    if runtime is None or runtime.owns_thread():
        return False
    runtime.call_soon_threadsafe(fn, *args)
    return True


def call_over(runtime: Runtime, start: Callable[[Promise[Any]], None]) -> ThreadPromise:
    """``start(promise)`` on ``runtime``'s thread; the promise, for the caller's."""
    promise = ThreadPromise()
    runtime.call_soon_threadsafe(start, promise)
    return promise


class Signal(Protocol):
    """A flag one thread sets and another waits on: :class:`threading.Event`,
    gevent's ``Event``, or eventlet's through its runtime."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...

    def wait(self, timeout: float | None = None) -> bool:
        """Block until it is set; False after ``timeout`` seconds."""


class ThreadPromise:
    """A value the runtime's thread sets for another thread (or for a green
    thread, on a ``signal`` of its hub's): ``result()`` blocks until it does
    (or ``timeout`` seconds pass: :class:`~realtime.errors.AckTimeout`), and
    ``wait()`` too (None after ``timeout``). Awaiting it blocks the same way,
    as a thread has no loop to return to."""

    __slots__ = ("_error", "_event", "_value")

    def __init__(self, signal: Signal | None = None) -> None:
        self._event: Signal = threading.Event() if signal is None else signal
        self._value: Any = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        return self._event.is_set()

    def set_result(self, value: Any) -> None:
        if not self._event.is_set():
            self._value = value
            self._event.set()

    def set_exception(self, exc: BaseException) -> None:
        if not self._event.is_set():
            self._error = exc
            self._event.set()

    def result(self, timeout: float | None = None) -> Any:
        if not self._event.wait(timeout):
            raise AckTimeout("no answer yet")
        if self._error is not None:
            raise self._error
        return self._value

    def wait(self, timeout: float | None = None) -> Any:
        """The value, or None when ``timeout`` seconds pass first."""
        if not self._event.wait(timeout):
            return None
        return self.result()

    def __await__(self) -> Generator[Any, None, Any]:
        return self.result()
        yield  # makes this a generator; never reached
