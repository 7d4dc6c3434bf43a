"""The worker threads plain ``def`` handlers run on, the thread host's and
the asyncio hosts' given ``handler_threads`` (realtime/runtime/handler_threads.py
HandlerThreads): results and exceptions reach the loop's future, the
caller's context goes along, and no more than ``size`` threads ever exist."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

import realtime
from realtime.runtime.handler_threads import HandlerThreads

BOUND = 10.0  # a hang guard only

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


async def test_a_result_an_exception_and_the_context_reach_the_loop() -> None:
    workers = HandlerThreads(asyncio.get_running_loop(), 2)
    try:
        assert await asyncio.wait_for(workers.run(lambda a, b: a + b, (2, 3)), BOUND) == 5

        def fails() -> None:
            raise KeyError("missing")

        with pytest.raises(KeyError, match="missing"):
            await asyncio.wait_for(workers.run(fails, ()), BOUND)

        def stops() -> None:
            raise StopIteration  # a future cannot hold it: it comes back wrapped

        with pytest.raises(RuntimeError, match="StopIteration") as raised:
            await asyncio.wait_for(workers.run(stops, ()), BOUND)
        assert isinstance(raised.value.__cause__, StopIteration)

        request_id.set("r-7")
        seen = await asyncio.wait_for(
            workers.run(lambda: (request_id.get(), threading.current_thread().name), ()), BOUND
        )
        assert seen[0] == "r-7"
        assert seen[1].startswith("realtime-handler-")
        assert seen[1] != threading.current_thread().name
    finally:
        workers.stop()


async def test_no_more_than_size_threads_run_and_the_rest_wait() -> None:
    workers = HandlerThreads(asyncio.get_running_loop(), 2)
    gate = threading.Event()
    started = threading.Semaphore(0)
    names: set[str] = set()

    def held() -> str:
        names.add(threading.current_thread().name)
        started.release()
        gate.wait(BOUND)
        return threading.current_thread().name

    try:
        futures = [workers.run(held, ()) for _ in range(5)]
        # two start; the other three wait in the queue for a free worker
        for _ in range(2):
            assert await asyncio.to_thread(started.acquire, True, BOUND)
        assert not await asyncio.to_thread(started.acquire, True, 0.1)
        assert len(names) == 2
        gate.set()
        done = await asyncio.wait_for(asyncio.gather(*futures), BOUND)
        assert set(done) == names  # the same two threads served all five
    finally:
        workers.stop()


async def test_stop_lets_queued_jobs_finish_then_ends_the_workers() -> None:
    workers = HandlerThreads(asyncio.get_running_loop(), 1)
    futures = [workers.run(lambda n=n: n * 10, ()) for n in range(3)]
    threads = list(workers._threads)
    workers.stop()
    assert await asyncio.wait_for(asyncio.gather(*futures), BOUND) == [0, 10, 20]
    for thread in threads:
        await asyncio.to_thread(thread.join, BOUND)
        assert not thread.is_alive()
    # and a job offered after stop is refused, not queued where no worker takes it
    with pytest.raises(realtime.InvalidState, match="handler threads have stopped"):
        workers.run(lambda: None, ())
