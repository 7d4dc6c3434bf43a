"""gevent's flavour of the green-thread runtime (:mod:`realtime.runtime.green`).

``GreenRuntime(engine, GeventHub())`` runs the core on gevent's hub, under
``gevent.pywsgi`` or gunicorn's gevent worker, monkey-patched or not: its
timer is a watcher of the hub's loop, handlers spawn with ``spawn_raw``, and
another OS thread wakes the hub through a pipe written with ``os`` as it was
before any monkey-patching.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import ModuleType
from typing import Any, Final

import gevent
import gevent.event
import gevent.monkey
import gevent.socket

from ..crossing import Signal
from .alarm import Cancellable

# As they were before any monkey-patching (gevent's patches threading's ids
# to greenlets' and time.sleep to the hub's).
_os_thread_id: Final[Callable[[], int]] = gevent.monkey.get_original("_thread", "get_ident")
_os_sleep: Final[Callable[[float], None]] = gevent.monkey.get_original("time", "sleep")


class GeventTimer:
    """A timer watcher of gevent's loop, with the ``cancel`` the alarm calls."""

    __slots__ = ("_watcher",)

    def __init__(self, delay: float, callback: Callable[[], None]) -> None:
        self._watcher = gevent.get_hub().loop.timer(delay)
        self._watcher.start(self._fire, callback)

    def _fire(self, callback: Callable[[], None]) -> None:
        self._watcher.close()  # a one-shot: its loop resources go now, not at collection
        callback()

    def cancel(self) -> None:
        self._watcher.close()


class GeventHub:
    """:class:`~realtime.runtime.green.GreenHub` on gevent."""

    name = "gevent"
    os: ModuleType = os  # gevent's monkey-patching leaves os.read and os.write alone

    def os_thread_id(self) -> int:
        return _os_thread_id()

    def os_sleep(self, seconds: float) -> None:
        _os_sleep(seconds)

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        gevent.spawn_raw(fn, *args)

    def spawn_joinable(self, fn: Callable[[], None]) -> Callable[[], None]:
        return gevent.spawn(fn).join  # type: ignore[no-any-return]

    def signal(self) -> Signal:
        return gevent.event.Event()  # type: ignore[no-any-return]

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        return GeventTimer(delay, callback)

    def wait_readable(self, fd: int) -> None:
        gevent.socket.wait_read(fd)

    def watch(self, fd: int, readable: bool, callback: Callable[[], None]) -> Callable[[], None]:
        watcher = gevent.get_hub().loop.io(fd, 1 if readable else 2)
        watcher.start(callback)
        return watcher.close  # type: ignore[no-any-return]

    def sleep(self, seconds: float) -> None:
        gevent.sleep(seconds)
