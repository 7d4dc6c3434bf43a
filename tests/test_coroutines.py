"""Which handler results need a task: an ``async def`` that cannot suspend is
run at once, everything that can suspend still gets a task of its own."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from test_runtime_flush import client_frame, connected

import realtime
from realtime.coroutines import is_awaitable, never_suspends, run_now


def server_frame(text: str) -> bytes:
    data = text.encode()
    return bytes((0x81, len(data))) + data


request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


async def returns(value: Any) -> Any:
    if value == "never":
        print("a branch is enough")  # no await anywhere: cannot suspend
    return value


async def awaits_in_a_branch_never_taken(flag: bool) -> int:
    if flag:
        await asyncio.sleep(0)
    return 1


@asynccontextmanager
async def nothing() -> AsyncIterator[None]:
    yield


async def uses_async_with() -> None:
    async with nothing():
        pass


async def ticks() -> AsyncIterator[int]:
    yield 1


async def uses_async_for() -> list[int]:
    return [i async for i in ticks()]


async def awaits_in_a_comprehension(items: list[Awaitable[int]]) -> list[int]:
    return [await item for item in items]


async def raises() -> None:
    raise KeyError("boom")


async def sets_the_context_var() -> str:
    request_id.set("inside")
    return request_id.get()


def test_a_coroutine_without_suspension_points_never_suspends() -> None:
    coro = returns(5)
    assert never_suspends(coro)
    assert run_now(coro) == 5


@pytest.mark.parametrize(
    "make",
    [
        lambda: awaits_in_a_branch_never_taken(False),  # judged on its code, not its path
        uses_async_with,
        uses_async_for,
        lambda: awaits_in_a_comprehension([]),
    ],
)
def test_any_suspension_point_means_a_task(make: Any) -> None:
    coro = make()
    try:
        assert not never_suspends(coro)
    finally:
        coro.close()


def test_only_coroutines_are_judged() -> None:
    loop = asyncio.new_event_loop()
    try:
        future = loop.create_future()
        assert not never_suspends(future)
        assert is_awaitable(future)
    finally:
        loop.close()
    for value in (None, 1, "x", {"a": 1}, [1], (1,), b"", returns):
        assert not never_suspends(value)
        assert not is_awaitable(value)


def test_run_now_raises_what_the_coroutine_raises() -> None:
    with pytest.raises(KeyError, match="boom"):
        run_now(raises())


def test_run_now_runs_in_a_copy_of_the_context_like_a_task() -> None:
    assert run_now(sets_the_context_var()) == "inside"
    assert request_id.get() == "none"


async def test_handlers_that_await_still_run_in_their_own_task() -> None:
    sio = realtime.Server()
    seen: list[Any] = []

    @sio.on("plain")
    async def plain(socket: realtime.Socket) -> str:
        seen.append(asyncio.current_task())
        return "plain"

    @sio.on("timed")
    async def timed(socket: realtime.Socket) -> str:
        task = asyncio.current_task()
        await asyncio.wait_for(asyncio.sleep(0), 5)
        seen.append(task)
        return "timed"

    conn, transport = await connected(sio)
    conn.data_received(client_frame('421["plain"]') + client_frame('422["timed"]'))
    assert transport.writes == [server_frame('431["plain"]')]  # answered with the read
    for _ in range(5):
        await asyncio.sleep(0)
    assert transport.writes[1:] == [server_frame('432["timed"]')]
    # The one that never awaits ran inline, in whatever called data_received
    # (here the test's task, in a server the loop's I/O callback: no task).
    me = asyncio.current_task()
    assert seen[0] is me
    assert isinstance(seen[1], asyncio.Task) and seen[1] is not me


async def test_a_failing_handler_that_never_awaits_is_logged_and_the_socket_lives(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sio = realtime.Server()

    @sio.on("bad")
    async def bad(socket: realtime.Socket) -> None:
        raise ValueError("broken handler")

    @sio.on("good")
    async def good(socket: realtime.Socket) -> str:
        return "fine"

    conn, transport = await connected(sio)
    conn.data_received(client_frame('421["bad"]') + client_frame('422["good"]'))
    assert transport.writes == [server_frame('432["fine"]')]
    assert "broken handler" in caplog.text


async def test_ack_callbacks_of_every_kind_run_and_failures_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sio = realtime.Server()
    got: list[tuple[str, Any]] = []

    def plain(value: Any) -> None:
        got.append(("plain", value))

    async def inline(value: Any) -> None:
        got.append(("inline", value))

    async def suspends(value: Any) -> None:
        await asyncio.sleep(0)
        got.append(("suspends", asyncio.current_task() is not None))

    def broken(value: Any) -> None:
        raise RuntimeError("broken callback")

    conn, _transport = await connected(sio)
    (socket,) = sio.of("/").sockets.values()
    for callback in (plain, inline, suspends, broken):
        socket.emit("ask", callback=callback)
    acks = b"".join(client_frame(f"43{i}[{i}]") for i in range(4))
    conn.data_received(acks)
    assert got == [("plain", 0), ("inline", 1)]  # at once, no task for either
    for _ in range(3):
        await asyncio.sleep(0)
    assert got[2] == ("suspends", True)
    assert "broken callback" in caplog.text
