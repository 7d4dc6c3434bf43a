"""Handler results: which are awaitable, and which coroutines need no task.

An ``async def`` handler that never awaits cannot suspend: its coroutine
completes on its first step. Running that step at once, as a plain call,
gives the same result and order as a task would, without the task (before
Python 3.12 a task costs more than a small handler's whole work), and its
output leaves with the rest of the loop turn's. Whether a coroutine can
suspend is read once per code object from its bytecode: every suspension
point (``await``, ``async for``, ``async with``) compiles to one of
:data:`_SUSPENDING_OPS`.

The one difference a handler can see: inside a coroutine run this way,
``asyncio.current_task()`` is None, since no task runs it. It runs in a copy
of the current context, as a task's first step would.
"""

from __future__ import annotations

import contextvars
import dis
import inspect
from collections.abc import Generator
from types import CodeType, CoroutineType
from typing import Any, Final

from .errors import InvalidState

# What handlers return most often. ``inspect.isawaitable`` ends in an ABC
# check that costs several times these lookups, on every handler call.
_NEVER_AWAITABLE: Final = frozenset((type(None), dict, list, tuple, str, int, float, bool, bytes))


def is_awaitable(value: object) -> bool:
    """``inspect.isawaitable``, quick for coroutines and plain values."""
    kind = type(value)
    if kind is CoroutineType:
        return True
    return kind not in _NEVER_AWAITABLE and inspect.isawaitable(value)


# Across Python 3.10-3.14: YIELD_VALUE (or YIELD_FROM, 3.10) is at every
# suspension point; the others are what only await, async for and async with
# compile to, named too in case a version moves the yield elsewhere.
_SUSPENDING_OPS: Final = frozenset(
    op
    for name, op in dis.opmap.items()
    if name
    in {
        "YIELD_VALUE",
        "YIELD_FROM",
        "SEND",
        "GET_AWAITABLE",
        "GET_AITER",
        "GET_ANEXT",
        "BEFORE_ASYNC_WITH",
        "END_ASYNC_FOR",
    }
)
_MAX_KNOWN: Final = 4096  # handler functions are few; generated ones are judged each time
_known: Final[dict[CodeType, bool]] = {}


def never_suspends(value: object) -> bool:
    """True for a fresh coroutine whose code has no suspension point."""
    if type(value) is not CoroutineType:
        return False
    code = value.cr_code
    verdict = _known.get(code)
    if verdict is None:
        verdict = not any(op.opcode in _SUSPENDING_OPS for op in dis.get_instructions(code))
        if len(_known) < _MAX_KNOWN:
            _known[code] = verdict
    return verdict


def run_now(coro: CoroutineType[Any, Any, Any]) -> Any:
    """Run a coroutine for which :func:`never_suspends` holds to its end, in
    a copy of the current context; its value, or its exception raised."""
    return contextvars.copy_context().run(_finish, coro)


def _finish(coro: CoroutineType[Any, Any, Any]) -> Any:
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise InvalidState("a coroutine without a suspension point suspended")


class Done:
    """An awaitable that is already finished, returned by the calls that
    never wait (``emit``, ``enter_room``...) so that ``await sio.emit(...)``,
    as python-socketio's API is written, works too: awaiting it does nothing
    and gives None."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that ends at once

    def __repr__(self) -> str:
        return "<done>"


DONE: Final = Done()
