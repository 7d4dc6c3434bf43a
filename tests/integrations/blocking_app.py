"""A plain ``def`` handler that blocks until another client's event releases
it, for every host that runs ``def`` handlers on worker threads: the WSGI
threads host and ASGI serve :func:`blocking_server` in the test's process,
and ``python blocking_app.py PORT THREADS`` serves it with ``realtime.run``
(``handler_threads=THREADS``).

Whether the loop stayed free is told by what happened, never by how long it
took: the other client's "release" is handled while "block" still waits on
its gate (a handler on the loop would hold that event until the gate's
bound ran out). The bounds only keep a broken run from hanging.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
import socketio

import realtime

BOUND = 10.0  # a hang guard only: every wait ends on a condition


def blocking_server() -> realtime.Server:
    sio = realtime.Server()
    gate = threading.Event()
    order: list[str] = []

    @sio.on("block")
    def block(socket: realtime.Socket) -> str:
        order.append("block started")
        socket.emit("started")  # leaves at once from a worker; from the loop, once this returns
        released = gate.wait(BOUND)
        order.append("block ended")
        return "released" if released else "never released"

    def thread_name() -> str:
        return threading.current_thread().name

    @sio.use
    def middleware(socket: realtime.Socket, auth: Any) -> None:
        socket.data["threads"] = [thread_name()]

    @sio.on("connect")
    def connect(socket: realtime.Socket, auth: Any) -> None:
        socket.data["threads"].append(thread_name())

    @sio.on_any(namespace="/watched")
    def listener(socket: realtime.Socket, event: str, *args: Any) -> None:
        socket.data["threads"] = [thread_name()]

    @sio.on("watched", namespace="/watched")
    def watched(socket: realtime.Socket) -> list[str]:
        return [*socket.data["threads"], thread_name()]

    @sio.on("after")
    def after(socket: realtime.Socket) -> dict[str, Any]:
        order.append("after")
        return {"threads": [*socket.data["threads"], thread_name()], "order": list(order)}

    @sio.on("release")
    def release(socket: realtime.Socket) -> list[str]:
        seen = list(order)
        gate.set()
        return seen

    return sio


def assert_count_refused(make: Callable[[Any], object], count: Any, *, compiled: bool) -> None:
    """``make(count)`` refuses a bad ``handler_threads`` with the project's
    message. Where ``make`` is compiled, mypyc checks its ``int`` annotation
    before realtime's own check runs: its TypeError for what is no int, and
    True taken as 1 (as for ``emit(42)``, tests/test_public_api.py)."""
    if compiled and type(count) is not int:
        if count is True:
            make(count)  # accepted, as one thread
        else:
            with pytest.raises(TypeError):
                make(count)
        return
    with pytest.raises(ValueError, match="handler_threads is a count of 0 or more"):
        make(count)


async def only_its_socket_waits(url: str) -> None:
    """While one socket's ``def`` handler blocks, another socket's handler
    runs (and releases it), and the blocked socket's next event waits its
    turn. The middleware, the connect handler, the handlers and an
    any-event listener each ran on a worker thread, never the loop's."""
    blocked = socketio.AsyncClient(reconnection=False)
    other = socketio.AsyncClient(reconnection=False)
    started = asyncio.Event()
    blocked.on("started", started.set)
    answers: list[asyncio.Future[Any]] = []
    try:
        await blocked.connect(url, transports=["websocket"], wait_timeout=BOUND)
        await other.connect(
            url, transports=["polling"], namespaces=["/", "/watched"], wait_timeout=BOUND
        )
        blocked_answer = asyncio.ensure_future(blocked.call("block", timeout=BOUND))
        after_answer = asyncio.ensure_future(blocked.call("after", timeout=BOUND))
        answers += (blocked_answer, after_answer)
        await asyncio.wait_for(started.wait(), BOUND)
        assert await other.call("release", timeout=BOUND) == ["block started"]
        assert await blocked_answer == "released"
        after = await after_answer
        assert after["order"] == ["block started", "block ended", "after"]
        threads = after["threads"] + await other.call("watched", namespace="/watched")
        assert len(threads) == 5
        assert all(name.startswith("realtime-handler-") for name in threads), threads
    finally:
        # a failed run leaves answers unawaited: the failure, not their timeouts, is the news
        for answer in answers:
            if not answer.cancel() and not answer.cancelled():
                answer.exception()
        await blocked.disconnect()
        await other.disconnect()


served = blocking_server()
"""What ``python -m realtime blocking_app:served --handler-threads N`` serves."""


if __name__ == "__main__":
    realtime.run(blocking_server(), port=int(sys.argv[1]), handler_threads=int(sys.argv[2]))
