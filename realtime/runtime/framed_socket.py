"""A WebSocket on a socket that blocks its green thread, framed here.

:class:`FramedSocket` is a :class:`~realtime.http.GreenChannel` for the
green-thread runtime (:mod:`realtime.runtime.green`): a WSGI host under
eventlet or gevent hands it the connection's socket once the engine has
accepted the handshake, and RFC 6455 is :mod:`realtime.transports.websocket`'s,
as behind the front door. One read takes whatever the kernel holds (many
frames, or part of one), and one write sends a whole batch of frames: the
servers' own WebSocket classes read a frame in three or four ``recv`` calls
and write a message per ``send``, each a trip through the hub.
"""

from __future__ import annotations

import socket
from collections import deque
from typing import Final, Protocol

from .._log import log_once
from ..transports import websocket as ws_framing
from ..transports.deflate import MessageDeflate

READ_SIZE: Final = 65536
"""Bytes one ``recv`` may take: the frames a busy client has sent since."""


class BlockingSocket(Protocol):
    """What is used of a socket that blocks its green thread: eventlet's
    ``GreenSocket`` and gevent's unpatched socket are no ``socket.socket``."""

    def recv(self, size: int, /) -> bytes: ...

    def sendall(self, data: bytes, /) -> object: ...

    def shutdown(self, how: int, /) -> object: ...


class Lock(Protocol):
    """A lock of the hub's: waiting for it blocks one green thread only."""

    def acquire(self) -> object: ...

    def release(self) -> object: ...


class FramedSocket:
    """``sock`` (a green socket, after the 101 answer) as whole messages.

    The reader's green thread calls :meth:`receive`, the writer's
    :meth:`send`; ``lock`` keeps their writes (a batch, a pong, the close)
    from interleaving when a write has to wait for room. A broken frame ends
    the messages with the code RFC 6455 gives it; a client's close frame is
    answered with its own code."""

    __slots__ = ("_closed", "_deflate", "_end_code", "_lock", "_pending", "_reader", "_sock")

    def __init__(
        self,
        sock: BlockingSocket,
        lock: Lock,
        max_size: int,
        max_fragments: int,
        deflate: MessageDeflate | None = None,
    ) -> None:
        self._sock = sock
        self._lock = lock
        self._deflate = deflate
        self._reader = ws_framing.FrameReader(max_size, max_fragments, deflate)
        self._pending: deque[str | bytes] = deque()
        self._end_code: int | None = None  # the close to send once _pending is read
        self._closed = False

    def receive(self) -> str | bytes | None:
        pending = self._pending
        while not pending:
            if self._end_code is not None:
                self.close(self._end_code)
                return None
            if self._closed:
                return None
            try:
                data = self._sock.recv(READ_SIZE)
            except OSError:
                data = b""
            if not data:  # the client is gone: no one would read a close frame
                self._closed = True
                return None
            self._take(data)
        return pending.popleft()

    def _take(self, data: bytes) -> None:
        try:
            events = self._reader.feed(data)
        except ws_framing.FrameError as exc:
            log_once(f"ws-frame-{exc.code}", "closing a WebSocket: %s", exc.reason)
            events = exc.events
            self._end_code = exc.code
        for event in events:
            if isinstance(event, (str, bytes)):
                self._pending.append(event)
            elif isinstance(event, ws_framing.Ping):
                self._write(ws_framing.pong_frame(event.payload))
            elif isinstance(event, ws_framing.Close):
                # nothing counts after a close: what followed it is dropped
                self._end_code = 1000 if event.code == 1005 else event.code
                return

    def send(self, messages: list[str | bytes]) -> None:
        if self._closed or not messages:
            return
        self._write(ws_framing.payload_frames(messages, self._deflate))

    def _write(self, data: bytes) -> None:
        lock = self._lock
        lock.acquire()
        try:
            self._sock.sendall(data)
        finally:
            lock.release()

    def close(self, code: int) -> None:
        """Say goodbye with ``code`` (once) and end the TCP connection, so
        that a client which never answers the close frame lets go too."""
        if self._closed:
            return
        self._closed = True
        try:
            self._write(ws_framing.close_frame(code))
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # the client is gone already
            return
