"""The thread runtime: the same core, for a WSGI server with a thread per
request (gunicorn's gthread worker, werkzeug's threaded server).

It implements :class:`realtime.http.GreenHostRuntime` (what a WSGI host
calls) around the asyncio runtime, which runs the core on one event loop in
a thread of its own: request threads block on its answers. A parked poll
blocks its request thread until the loop answers it. An accepted
WebSocket's socket is handed to the loop, which reads, frames and writes it
as the front door does (backpressure included), while its request thread
waits for the end: no thread crossing per message.

An ``async def`` handler runs on the loop's thread, as on every asyncio
host, and must not block. A plain ``def`` handler may block, as a Flask
app's do (a database, an HTTP call, ``socket.call(...).wait()``): it runs on
one of ``handler_threads`` worker threads while its socket's next events
wait their turn (one socket's handlers still run one after another, in
order); its emits and joins are handed back to the loop, and its return
value acks from there.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Final

from ..errors import InvalidState
from ..http import AcceptWebSocket, CloseWebSocket, HttpRequest, HttpResponse
from .asyncio import AsyncioRuntime, Mountable, close_runtime, open_runtime

logger: Final = logging.getLogger("realtime")


class ThreadRuntime:
    """Implements :class:`realtime.http.GreenHostRuntime` for OS threads:
    one event loop thread runs the core, request threads wait for it."""

    def __init__(
        self, target: Mountable, drain_timeout: float = 10.0, handler_threads: int = 16
    ) -> None:
        self.target = target
        self.drain_timeout = drain_timeout
        self.handler_threads = handler_threads
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
            return open_runtime(self.target, self.loop, self.handler_threads)

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

    def serve_socket(
        self, sock: Any, decision: AcceptWebSocket | CloseWebSocket, accept: str
    ) -> None:
        """Hand the socket of an accepted WebSocket to the loop, which serves
        it as the front door serves its own (no thread crossing per message),
        and block this thread until it closes: the server would end the
        connection once its request thread returns."""
        inner = self.inner
        ended = threading.Event()
        handed = sock.dup()  # the loop's to close; the server closes its own

        async def adopt() -> None:
            try:
                transport, unclaimed = await self.loop.connect_accepted_socket(
                    lambda: _Unclaimed(ended.set), sock=handed
                )
            except OSError:
                handed.close()
                inner.refuse_websocket(decision)
                ended.set()
                return
            if unclaimed.lost:  # the client left before the 101
                inner.refuse_websocket(decision)
                return
            conn = inner.adopt_websocket(transport, decision, accept, bytes(unclaimed.early))
            if conn is not None:
                conn.on_lost = ended.set

        asyncio.run_coroutine_threadsafe(adopt(), self.loop).result()
        ended.wait()

    def refuse_websocket(self, decision: AcceptWebSocket | CloseWebSocket) -> None:
        inner = self.inner

        async def refuse() -> None:
            inner.refuse_websocket(decision)

        self._on_loop(refuse())


class _Unclaimed(asyncio.Protocol):
    """A handed-over socket's protocol until the WebSocket takes it: bytes
    that arrive meanwhile are kept for it, and a loss is told at once."""

    def __init__(self, on_lost: Callable[[], object]) -> None:
        self.early = bytearray()
        self.lost = False
        self._on_lost = on_lost

    def data_received(self, data: bytes) -> None:
        self.early += data

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._on_lost()
