"""eventlet's flavour of the green-thread runtime (:mod:`realtime.runtime.green`).

``GreenRuntime(engine, EventletHub())`` runs the core on eventlet's hub:
its timers are the hub's own, handlers spawn with ``spawn_n``, and another
OS thread wakes the hub through a pipe written with ``os`` as it was before
any monkey-patching.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any, Final

import eventlet
from eventlet import hubs, patcher
from eventlet.event import Event

from .alarm import Cancellable

# As they were before any monkey-patching: a green thread shares its OS thread
# with the hub (so it may touch the core directly); only a real thread of
# another OS thread must hand its calls over.
_os_thread: Final = patcher.original("_thread")
_os_time: Final = patcher.original("time")


class EventletSignal:
    """A one-shot :class:`~realtime.crossing.Signal` on eventlet's ``Event``
    (which may be sent only once)."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: Event = Event()

    def is_set(self) -> bool:
        return bool(self._event.ready())

    def set(self) -> None:
        if not self._event.ready():
            self._event.send(True)

    def wait(self, timeout: float | None = None) -> bool:
        return bool(self._event.wait(timeout))


class EventletHub:
    """:class:`~realtime.runtime.green.GreenHub` on eventlet."""

    name = "eventlet"
    os: ModuleType = patcher.original("os")

    def __init__(self) -> None:
        self._hub = hubs.get_hub()

    def os_thread_id(self) -> int:
        return int(_os_thread.get_ident())

    def os_sleep(self, seconds: float) -> None:
        _os_time.sleep(seconds)

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        eventlet.spawn_n(fn, *args)

    def spawn_joinable(self, fn: Callable[[], None]) -> Callable[[], None]:
        return eventlet.spawn(fn).wait  # type: ignore[no-any-return]

    def signal(self) -> EventletSignal:
        return EventletSignal()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        return self._hub.schedule_call_global(delay, callback)  # type: ignore[no-any-return]

    def wait_readable(self, fd: int) -> None:
        hubs.trampoline(fd, read=True)

    def watch(self, fd: int, readable: bool, callback: Callable[[], None]) -> Callable[[], None]:
        hub = self._hub
        listener = hub.add(
            hub.READ if readable else hub.WRITE,
            fd,
            lambda _fd: callback(),
            _ignore,  # what eventlet throws into a green thread waiting on fd: none does
            _nothing,
        )
        return lambda: hub.remove(listener)

    def sleep(self, seconds: float) -> None:
        eventlet.sleep(seconds)


def _ignore(exc: BaseException) -> None:
    return None


def _nothing() -> None:
    return None
