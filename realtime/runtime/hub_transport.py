"""A connection's socket served from a green hub's own callbacks.

:class:`HubTransport` is the part of an asyncio transport that
:class:`~realtime.runtime.asyncio.WebSocketConnection` uses (``write``,
``close``, ``abort``, ``is_closing``, write-buffer limits, and the
protocol's ``data_received`` / ``pause_writing`` / ``resume_writing`` /
``connection_lost``), on a non-blocking socket that eventlet's or gevent's
hub watches: the green runtime serves an accepted WebSocket with the same
protocol object as the embedded server, RFC 6455 and backpressure included.

Why not a green thread per socket blocked in ``recv``: each wait of one
goes through the hub (eventlet registers the socket with epoll and takes it
off again around every wait), which was about half of a WebSocket echo's
time there. A watch stays registered while the socket lives, and its
callback reads whatever the kernel holds; writes go out at once when the
kernel has room, and wait for a writable callback when it has not.
"""

from __future__ import annotations

import _socket
import contextlib
import logging
from collections.abc import Callable
from typing import Final, Protocol

logger: Final = logging.getLogger("realtime")

READ_SIZE: Final = 65536
"""Bytes one read may take: the frames a busy client has sent since."""

_WOULD_BLOCK: Final = (BlockingIOError, InterruptedError)


class Watcher(Protocol):
    """What the hub offers: ``watch(fd, readable, callback)`` calls
    ``callback()`` in the hub each time ``fd`` is readable (or writable)
    until the returned function is called; ``call_later`` runs a callback in
    the hub after ``delay`` seconds."""

    def watch(self, fd: int, readable: bool, callback: Callable[[], None]) -> Callable[[], None]:
        """Watch ``fd``; returns what stops watching it."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> object: ...


class StreamProtocol(Protocol):
    """The asyncio protocol methods the transport calls."""

    def data_received(self, data: bytes) -> None: ...

    def pause_writing(self) -> None: ...

    def resume_writing(self) -> None: ...

    def connection_lost(self, exc: Exception | None) -> None: ...


class HubTransport:
    """``sock`` (non-blocking, this transport's to close) for ``protocol``,
    on ``hub``'s callbacks. Above the high-water mark of unsent bytes the
    protocol is paused; below a quarter of it, resumed. ``close`` sends
    what is buffered first; ``abort`` drops it. ``connection_lost`` comes
    from the hub's next turn, as asyncio calls it, never from inside a
    call of the protocol's."""

    __slots__ = (
        "_buffer",
        "_closing",
        "_fd",
        "_high",
        "_hub",
        "_lost",
        "_low",
        "_paused",
        "_protocol",
        "_sock",
        "_stop_reading",
        "_stop_writing",
    )

    def __init__(self, sock: _socket.socket, hub: Watcher, protocol: StreamProtocol) -> None:
        self._sock = sock
        self._fd = sock.fileno()
        self._hub = hub
        self._protocol = protocol
        self._buffer = bytearray()
        self._high = 64 * 1024
        self._low = self._high // 4
        self._paused = False
        self._closing = False
        self._lost = False
        self._stop_writing: Callable[[], None] | None = None
        self._stop_reading: Callable[[], None] | None = hub.watch(self._fd, True, self._readable)

    # -- the transport's side ------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        if high is not None:
            self._high = high
        self._low = self._high // 4 if low is None else low

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def write(self, data: bytes) -> None:
        if self._closing:
            return  # as asyncio's: nothing goes out after close
        buffer = self._buffer
        if not buffer:
            try:
                sent = self._sock.send(data)
            except _WOULD_BLOCK:
                sent = 0
            except OSError:
                self._end()
                return
            if sent == len(data):
                return
            buffer += memoryview(data)[sent:]
            self._stop_writing = self._hub.watch(self._fd, False, self._writable)
        else:
            buffer += data
        if not self._paused and len(buffer) > self._high:
            self._paused = True
            self._protocol.pause_writing()

    def close(self) -> None:
        """Stop reading, send what is buffered, then close the socket."""
        if self._closing:
            return
        self._closing = True
        self._stop(reading=True)
        if not self._buffer:
            self._end()

    def abort(self) -> None:
        """Close now, dropping what is buffered."""
        self._closing = True
        self._buffer.clear()
        self._end()

    # -- the hub's callbacks ----------------------------------------------------------

    def _readable(self) -> None:
        try:
            data = self._sock.recv(READ_SIZE)
        except _WOULD_BLOCK:
            return
        except OSError:
            data = b""
        if not data:  # the client is gone: no one would read what is buffered
            self.abort()
            return
        try:
            self._protocol.data_received(data)
        except Exception:
            logger.exception("error in a WebSocket's reader")
            self.abort()

    def _writable(self) -> None:
        buffer = self._buffer
        try:
            sent = self._sock.send(buffer)
        except _WOULD_BLOCK:
            return
        except OSError:
            self.abort()
            return
        del buffer[:sent]
        if not buffer:
            self._stop(reading=False)
            if self._closing:
                self._end()
                return
        if self._paused and len(buffer) <= self._low:
            self._paused = False
            try:
                self._protocol.resume_writing()
            except Exception:
                logger.exception("error in a WebSocket's writer")
                self.abort()

    # -- the end ----------------------------------------------------------------------

    def _stop(self, *, reading: bool) -> None:
        if reading:
            stop, self._stop_reading = self._stop_reading, None
        else:
            stop, self._stop_writing = self._stop_writing, None
        if stop is not None:
            stop()

    def _end(self) -> None:
        """Close the socket (the watches first: a hub must not watch a
        closed descriptor), and tell the protocol on the hub's next turn."""
        if self._lost:
            return
        self._lost = True
        self._closing = True
        self._buffer.clear()
        self._stop(reading=True)
        self._stop(reading=False)
        with contextlib.suppress(OSError):
            self._sock.shutdown(_socket.SHUT_RDWR)
        self._sock.close()
        self._hub.call_later(0.0, self._tell_lost)

    def _tell_lost(self) -> None:
        try:
            self._protocol.connection_lost(None)
        except Exception:
            logger.exception("error in a WebSocket's end")
