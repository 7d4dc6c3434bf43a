"""_start_stepped (realtime/runtime/asyncio.py): an ASGI WebSocket write
runs its first step at once and becomes a task only if it suspends; what it
awaits then, and a cancel of that task, reach the coroutine as a task's
would."""

from __future__ import annotations

import asyncio

import pytest

from realtime.runtime.asyncio import _start_stepped

BOUND = 10.0  # a hang guard only


async def test_a_coroutine_that_does_not_suspend_needs_no_task() -> None:
    done: list[str] = []

    async def write() -> None:
        done.append("written")

    assert _start_stepped(asyncio.get_running_loop(), write()) is None
    assert done == ["written"]  # before anything else ran


async def test_what_it_awaits_later_reaches_it_value_and_error_alike() -> None:
    loop = asyncio.get_running_loop()
    first: asyncio.Future[str] = loop.create_future()
    second: asyncio.Future[str] = loop.create_future()
    seen: list[object] = []

    async def write() -> None:
        seen.append(await first)
        try:
            await second
        except KeyError as exc:
            seen.append(exc)
        await asyncio.sleep(0)  # a bare yield on the way
        seen.append("end")

    task = _start_stepped(loop, write())
    assert task is not None and not task.done()
    first.set_result("room")
    await asyncio.sleep(0)
    second.set_exception(KeyError("gone"))
    await asyncio.wait_for(task, BOUND)
    assert seen[0] == "room"
    assert isinstance(seen[1], KeyError)
    assert seen[2] == "end"


async def test_a_cancelled_task_closes_the_coroutine() -> None:
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    cleaned: list[str] = []

    async def write() -> None:
        try:
            await never
        finally:
            cleaned.append("finally ran")

    task = _start_stepped(loop, write())
    assert task is not None
    await asyncio.sleep(0)  # the task is now waiting
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, BOUND)
    assert cleaned == ["finally ran"]
