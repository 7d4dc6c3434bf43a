"""The worker threads plain ``def`` handlers run on, where the host asks for
them: always on the WSGI threads host (``WSGIApp(..., handler_threads=16)``),
and on the asyncio hosts (``realtime.run``, ``realtime.ASGIApp``) given
``handler_threads=N``.

A ``def`` handler there may block (a database query, an HTTP call): it holds
one worker and its own socket, whose next events wait their turn, while the
loop goes on serving every other client. The runtime that owns the workers
(:class:`~realtime.runtime.asyncio.AsyncioRuntime`) hands their ``run`` to
the handler runner as its ``offload`` and stops them when it stops.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any

from ..errors import InvalidArgument, InvalidState


def check_handler_threads(count: object, least: int) -> None:
    """Refuse a ``handler_threads`` that is not a whole count of ``least``
    or more (0 on the asyncio hosts: no workers, handlers on the loop)."""
    # bool is an int: handler_threads=True reads as "use threads", and would get one
    if isinstance(count, bool) or not isinstance(count, int) or count < least:
        raise InvalidArgument(f"handler_threads is a count of {least} or more, not {count!r}")


class HandlerThreads:
    """The worker threads plain ``def`` handlers run on: up to ``size``,
    started as the work needs them. Lighter than a ``ThreadPoolExecutor``
    with ``asyncio.wrap_future`` (one future, the loop's, per call; no
    chained second future and its locks): the thread hop is on every event
    of a ``def`` handler."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = loop
        self.size = size
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)  # one release per worker waiting for a job
        self._threads: list[threading.Thread] = []
        self._stopped = False

    def run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """``fn(*args)`` on a worker thread, in a copy of this context (as
        ``asyncio.to_thread`` runs it); called on the loop's thread, which
        the returned future resolves on. Refused once stopped: no worker
        would take it, and its future would never resolve."""
        if self._stopped:
            raise InvalidState("the handler threads have stopped: the runtime is closed")
        future = self.loop.create_future()
        self._jobs.put((future, fn, args, contextvars.copy_context()))
        if not self._idle.acquire(blocking=False) and len(self._threads) < self.size:
            worker = threading.Thread(
                target=self._work, name=f"realtime-handler-{len(self._threads)}", daemon=True
            )
            self._threads.append(worker)
            worker.start()
        return future

    def stop(self) -> None:
        """Let each worker end once the jobs queued before are done."""
        self._stopped = True
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        jobs, settle = self._jobs, self.loop.call_soon_threadsafe
        while True:
            job = jobs.get()
            if job is None:
                return
            future, fn, args, context = job
            try:
                result = context.run(fn, *args)
            except BaseException as exc:  # handed to the awaiting handler runner
                error: BaseException | None = exc
                result = None
            else:
                error = None
            try:
                settle(_settle, future, result, error)
            except RuntimeError:  # the loop is closed: nobody awaits the result
                return
            finally:
                del job, future, result, error
            self._idle.release()


_Job = tuple["asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...], contextvars.Context]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if isinstance(error, StopIteration):  # a future refuses it: it would end the awaiting coroutine
        wrapped = RuntimeError("a handler raised StopIteration")
        wrapped.__cause__ = error
        error = wrapped
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
