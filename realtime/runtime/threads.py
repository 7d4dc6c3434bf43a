"""The thread runtime: the same core, for a WSGI server with a thread per
request (gunicorn's gthread worker, werkzeug's threaded server).

It implements :class:`realtime.http.GreenHostRuntime` (what a WSGI host
calls) around the asyncio runtime, which runs the core on one event loop in
a thread of its own: request threads block on its answers. A parked poll
blocks its request thread until the loop answers it; a WebSocket's request
thread reads whole messages and hands them to the loop, and one writer
thread per WebSocket sends what the loop gives it, so a client that does not
read holds its own writer only.

Handlers run on the loop's thread, as on every asyncio host: ``def`` and
``async def`` alike, so a handler must not block (hand blocking work to a
thread of your own: its emits are handed back to the loop).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Coroutine
from typing import Any, Final

from ..errors import InvalidArgument, InvalidState
from ..http import AcceptWebSocket, CloseWebSocket, GreenChannel, HttpRequest, HttpResponse
from .asyncio import AsyncioRuntime, Mountable, close_runtime, open_runtime

logger: Final = logging.getLogger("realtime")

MAX_IN_FLIGHT: Final = 64
"""By default, the messages one WebSocket's reader may hand the loop before
it waits for the loop to take them: a client that sends faster than its
handlers finish is slowed down at its socket, and the server's memory stays
bounded."""

_GONE: Final = object()  # what the writer thread's queue says when the socket is done


class ThreadRuntime:
    """Implements :class:`realtime.http.GreenHostRuntime` for OS threads:
    one event loop thread runs the core, request threads wait for it."""

    def __init__(
        self, target: Mountable, drain_timeout: float = 10.0, max_in_flight: int = MAX_IN_FLIGHT
    ) -> None:
        if max_in_flight < 1:
            raise InvalidArgument("max_in_flight must be at least 1")
        self.target = target
        self.drain_timeout = drain_timeout
        self.max_in_flight = max_in_flight
        self.loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self.loop.run_forever, name="realtime-loop", daemon=True
        )
        self._inner: AsyncioRuntime | None = None

    @property
    def inner(self) -> AsyncioRuntime:
        if self._inner is None:
            raise InvalidState("the thread runtime is not started")
        return self._inner

    @property
    def closing(self) -> bool:
        return self._inner is None or self._inner.closing

    def now(self) -> float:
        return self.loop.time()

    def _on_loop(self, work: Coroutine[Any, Any, Any]) -> Any:
        """Run ``work`` on the loop; block this thread until it is done."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def start(self) -> None:
        self._loop_thread.start()

        async def open_here() -> AsyncioRuntime:
            return open_runtime(self.target, self.loop)

        self._inner = self._on_loop(open_here())

    def stop(self) -> None:
        """Close every client, let handlers finish, and end the loop's thread."""
        inner = self._inner
        if inner is None or inner.closing:
            return
        self._on_loop(close_runtime(self.target, inner, self.drain_timeout))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._loop_thread.join(self.drain_timeout)

    # -- GreenHostRuntime ---------------------------------------------------------

    def respond(self, req: HttpRequest) -> HttpResponse | AcceptWebSocket | CloseWebSocket:
        """The engine's decision on ``req``, this thread blocked while its
        poll is parked."""
        if self.closing:
            return HttpResponse(503, {"Content-Type": "text/plain"}, b"shutting down")
        decision: HttpResponse | AcceptWebSocket | CloseWebSocket = self._on_loop(
            self.inner.respond(req)
        )
        return decision

    def serve_websocket(self, decision: AcceptWebSocket, channel: GreenChannel) -> None:
        """Serve an accepted WebSocket until it closes, blocking this thread
        (its reader); the loop serves it through a :class:`_LoopChannel`."""
        bridge = _LoopChannel(self.loop, channel, self.max_in_flight)
        served = asyncio.run_coroutine_threadsafe(
            self.inner.serve_websocket(decision, bridge), self.loop
        )
        # However the loop's side ends, the client is let go: this thread's
        # read then returns, even from a client that keeps sending.
        served.add_done_callback(lambda _: bridge.let_go())
        writer = threading.Thread(target=bridge.write, name="realtime-ws-writer", daemon=True)
        writer.start()
        try:
            while not served.done():
                message = channel.receive()
                bridge.hand_over(message)
                if message is None:
                    break
            served.result()
        except Exception:
            logger.exception("error in WebSocket reader")
        finally:
            bridge.finish()
            writer.join()

    def refuse_websocket(self, decision: AcceptWebSocket | CloseWebSocket) -> None:
        inner = self.inner

        async def refuse() -> None:
            inner.refuse_websocket(decision)

        self._on_loop(refuse())


class _LoopChannel:
    """A thread-served WebSocket as the loop's
    :class:`~realtime.http.MessageChannel`: the request thread's messages
    arrive through a bounded hand-over, and batches to send go to the
    WebSocket's writer thread, which tells the loop when each has left."""

    __slots__ = ("_arrived", "_channel", "_credit", "_gone", "_in_flight", "_loop", "_outgoing")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, channel: GreenChannel, in_flight: int
    ) -> None:
        self._loop = loop
        self._channel = channel
        self._arrived: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self._in_flight = in_flight
        self._credit = threading.Semaphore(in_flight)
        self._outgoing: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._gone = False  # the loop's side has ended: nothing more is read

    # the request thread's side

    def hand_over(self, message: str | bytes | None) -> None:
        if self._gone:
            return
        self._credit.acquire()
        if not self._gone:
            self._loop.call_soon_threadsafe(self._arrived.put_nowait, message)

    def let_go(self) -> None:
        """The loop's side ended: close the socket (once more does nothing)
        and free a reader that waits for room."""
        self._gone = True
        self._outgoing.put((None, 1000))
        self._credit.release(self._in_flight)

    def finish(self) -> None:
        """The request thread is done reading: the writer thread may end."""
        self._outgoing.put(_GONE)

    # the writer thread's side

    def write(self) -> None:
        channel = self._channel
        while True:
            item = self._outgoing.get()
            if item is _GONE:
                return
            done, action = item
            try:
                if isinstance(action, int):
                    channel.close(action)
                else:
                    channel.send(action)
                error: BaseException | None = None
            except Exception as exc:  # the client went away mid-write
                error = exc
            if done is not None:
                self._loop.call_soon_threadsafe(_settle, done, error)

    # the loop's side (MessageChannel)

    async def receive(self) -> str | bytes | None:
        message = await self._arrived.get()
        self._credit.release()
        return message

    async def send(self, messages: list[str | bytes]) -> None:
        await self._to_writer(messages)

    async def close(self, code: int) -> None:
        try:
            await self._to_writer(code)
        except Exception:  # the client is gone already, and with it the need to say so
            return

    async def _to_writer(self, action: list[str | bytes] | int) -> None:
        done: asyncio.Future[None] = self._loop.create_future()
        self._outgoing.put((done, action))
        await done


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
