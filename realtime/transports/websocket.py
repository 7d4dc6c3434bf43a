"""WebSocket: one Engine.IO packet per frame, both revisions, and the RFC 6455
wire format itself, sans-IO.

:func:`build_frame` produces a whole unmasked server frame, so a broadcast
hands the same bytes to every recipient's socket. :class:`FrameReader` turns
the bytes a client sends into messages and control events; the runtime owns
the socket and decides nothing the reader has not told it.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, TypeVar

from ..errors import RealtimeError
from ..protocol import engineio as eio
from ..protocol.engineio import Message
from ..protocol.session import Outgoing
from .deflate import MessageDeflate

T = TypeVar("T")

# -- Engine.IO packets as frames ---------------------------------------------------


def _wire_v4(data: eio.Data) -> bytes:
    return build_frame(eio.encode_message_ws(data, 4))


def _wire_v3(data: eio.Data) -> bytes:
    return build_frame(eio.encode_message_ws(data, 3))


_WIRE: Final = {4: ("wire4", _wire_v4), 3: ("wire3", _wire_v3)}


def wire_bytes(items: list[Outgoing], protocol: int) -> bytes:
    """:func:`wire_frames` joined, for one write."""
    if len(items) == 1:
        item = items[0]
        if type(item) is str:
            # The usual answer: one short text message for this client alone,
            # framed here without the general path's four calls.
            data = ("4" + item).encode()
            if len(data) < 126:
                return bytes((0x80 | _TEXT, len(data))) + data
    frames = wire_frames(items, protocol)
    return frames[0] if len(frames) == 1 else b"".join(frames)


def wire_frames(items: list[Outgoing], protocol: int) -> list[bytes]:
    """Whole RFC 6455 frames, ready for the socket; shared ones built once."""
    key, encode = _WIRE[protocol]
    return _encode_each(items, protocol, key, encode, _packet_frame)


_PAYLOAD: Final = {4: "ws4", 3: "ws3"}


def _payload_v4(data: eio.Data) -> eio.Data:
    return eio.encode_message_ws(data, 4)


def _payload_v3(data: eio.Data) -> eio.Data:
    return eio.encode_message_ws(data, 3)


def wire_payloads(items: list[Outgoing], protocol: int) -> list[eio.Data]:
    """One message payload per item, for a host whose server does the RFC
    6455 framing (ASGI, WSGI); shared ones encoded once."""
    encode = _payload_v4 if protocol == 4 else _payload_v3
    return _encode_each(items, protocol, _PAYLOAD[protocol], encode, eio.encode_ws)


def deflated_wire_bytes(items: list[Outgoing], protocol: int, deflate: MessageDeflate) -> bytes:
    """:func:`wire_bytes` for a socket that agreed on permessage-deflate:
    messages of at least the threshold compressed, with RSV1 set. The
    compression is this socket's (its context carries over between
    messages), so only the payloads are shared, not the frames."""
    frames = []
    for payload in wire_payloads(items, protocol):
        if isinstance(payload, str):
            head, data = 0x80 | _TEXT, payload.encode("utf-8")
        else:
            head, data = 0x80 | _BINARY, payload
        if len(data) >= deflate.threshold:
            head |= _RSV1
            data = deflate.compress(data)
        frames.append(_frame(head, data))
    return b"".join(frames)


def _packet_frame(packet: eio.Packet, protocol: int) -> bytes:
    return build_frame(eio.encode_ws(packet, protocol))


def _encode_each(
    items: list[Outgoing],
    protocol: int,
    key: str,
    encode: Callable[[eio.Data], T],
    packet: Callable[[eio.Packet, int], T],
) -> list[T]:
    out: list[T] = []
    for item in items:
        # Most items are the data of a message for this client alone: ask
        # about them first.
        if isinstance(item, (str, bytes)):
            out.append(encode(item))
        elif isinstance(item, Message):
            out.append(item.frame(key, encode))
        else:
            out.append(packet(item, protocol))
    return out


# -- frames out --------------------------------------------------------------------

_TEXT, _BINARY, _CLOSE, _PING, _PONG, _CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
_RSV1: Final = 0x40  # permessage-deflate: this message is compressed


def build_frame(payload: str | bytes) -> bytes:
    """A final, unmasked frame: text for ``str``, binary for ``bytes``."""
    if isinstance(payload, str):
        head, data = 0x80 | _TEXT, payload.encode("utf-8")
    else:
        head, data = 0x80 | _BINARY, payload
    size = len(data)
    if size < 126:  # most frames: _frame's first case, without the call
        return bytes((head, size)) + data
    return _frame(head, data)


def _frame(head: int, data: bytes) -> bytes:
    size = len(data)
    if size < 126:
        return bytes((head, size)) + data
    if size < 65536:
        return struct.pack("!BBH", head, 126, size) + data
    return struct.pack("!BBQ", head, 127, size) + data


def close_frame(code: int = 1000, reason: str = "") -> bytes:
    # A control frame carries at most 125 bytes: the code and 123 of reason,
    # cut on a character boundary so the reason stays valid UTF-8.
    text = reason.encode("utf-8")[:123].decode("utf-8", "ignore").encode("utf-8")
    return _frame(0x80 | _CLOSE, struct.pack("!H", code) + text)


def pong_frame(payload: bytes) -> bytes:
    return _frame(0x80 | _PONG, payload)


# -- the opening handshake ---------------------------------------------------------

_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class HandshakeError(RealtimeError):
    """The request cannot become a WebSocket; answer it with a 400."""


def accept_key(headers: Mapping[str, str]) -> str:
    """``Sec-WebSocket-Accept`` for a valid client handshake (lower-case
    header names); raises :class:`HandshakeError` otherwise."""
    if headers.get("upgrade", "").lower() != "websocket":
        raise HandshakeError("not a WebSocket upgrade")
    if "upgrade" not in headers.get("connection", "").lower():
        raise HandshakeError("Connection header lacks 'upgrade'")
    if headers.get("sec-websocket-version", "") != "13":
        raise HandshakeError("only WebSocket version 13 is supported")
    key = headers.get("sec-websocket-key", "").strip()
    try:
        nonce = base64.b64decode(key, validate=True)
    except ValueError:  # binascii.Error included
        raise HandshakeError("Sec-WebSocket-Key is not base64") from None
    if len(nonce) != 16:
        raise HandshakeError("Sec-WebSocket-Key must be 16 bytes")
    digest = hashlib.sha1(key.encode("ascii") + _GUID).digest()
    return base64.b64encode(digest).decode("ascii")


def switching_protocols(accept: str, extensions: str | None = None) -> bytes:
    """The whole 101 answer, with the agreed extensions (permessage-deflate
    at most); no subprotocol is offered."""
    agreed = f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions else ""
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n{agreed}\r\n"
    ).encode("ascii")


# -- frames in ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ping:
    payload: bytes


@dataclass(frozen=True, slots=True)
class Close:
    code: int  # 1005 when the client gave none
    reason: str


class Pong:
    """An unsolicited or answering pong: nothing to do."""


PONG: Final = Pong()

Event = str | bytes | Ping | Close | Pong


class FrameError(RealtimeError):
    """The client broke RFC 6455; close with ``code``. ``events`` holds what
    the same :meth:`FrameReader.feed` completed before the broken frame: it
    is delivered, so what reaches the application does not depend on how
    TCP happened to split the stream."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.events: list[Event] = []


def unmask(payload: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    """XOR with the repeated 4-byte key, as one big-integer operation in C."""
    size = len(payload)
    if not size:
        return b""
    key = (mask * ((size + 3) >> 2))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        size, "little"
    )


MAX_FRAGMENTS: Final = 1024
"""Frames one message may arrive in. Clients fragment rarely and coarsely;
many tiny (or empty) fragments cost the server a frame's work each."""


class FrameReader:
    """Client-to-server frames in, complete messages and control events out.

    Bounded: a message (all its fragments together) larger than
    ``max_size`` is refused before its bytes are buffered, so one client
    holds at most ``max_size`` plus a frame header here. Fragments are
    joined into one buffer as they arrive (no object per fragment), and a
    message in more than ``max_fragments`` frames is refused (1008), so a
    stream of one-byte or empty continuations ends promptly.

    With ``deflate`` (the socket agreed on permessage-deflate), a message
    whose first frame has RSV1 set is inflated once whole, to at most
    ``max_size`` bytes: beyond that it is refused (1009) without inflating
    the rest.
    """

    __slots__ = (
        "_buffer",
        "_compressed",
        "_fragment_count",
        "_fragments",
        "_message_opcode",
        "deflate",
        "max_fragments",
        "max_size",
    )

    def __init__(
        self,
        max_size: int,
        max_fragments: int = MAX_FRAGMENTS,
        deflate: MessageDeflate | None = None,
    ) -> None:
        self.max_size = max_size
        self.max_fragments = max_fragments
        self.deflate = deflate
        self._compressed = False  # the fragmented message under way had RSV1
        self._buffer = bytearray()  # an incomplete frame, grown in place
        self._fragments = bytearray()  # the payload of the fragmented message under way
        self._fragment_count = 0
        self._message_opcode = 0  # opcode of the fragmented message under way

    def feed(self, data: bytes) -> list[Event]:
        """Everything ``data`` completes, in order. Raises :class:`FrameError`."""
        events: list[Event] = []
        try:
            self._parse(data, events)
        except FrameError as exc:
            exc.events = events
            raise
        return events

    def _parse(self, data: bytes, events: list[Event]) -> None:
        # Runs once per read of every client: the usual frame (whole and
        # text) is unmasked and decoded inline, as unmask() and _message()
        # would, two calls fewer per message.
        buf: bytes | bytearray
        if self._buffer:
            self._buffer += data
            buf = self._buffer
        else:
            buf = data
        end = len(buf)
        pos = 0
        while end - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            if b0 & 0x70 and (b0 & 0x30 or self.deflate is None):
                raise FrameError(1002, "reserved bits set without an extension")
            if not b1 & 0x80:
                raise FrameError(1002, "client frames must be masked")
            size = b1 & 0x7F
            head = pos + 2
            if size == 126:
                if end - head < 2:
                    break
                size = int.from_bytes(buf[head : head + 2], "big")
                head += 2
            elif size == 127:
                if end - head < 8:
                    break
                size = int.from_bytes(buf[head : head + 8], "big")
                head += 8
            opcode = b0 & 0x0F
            if opcode >= 0x8:
                if size > 125 or not b0 & 0x80:
                    raise FrameError(1002, "control frames are short and never fragmented")
            elif size + len(self._fragments) > self.max_size:
                raise FrameError(1009, "message too big")
            stop = head + 4 + size
            if stop > end:
                break
            pos = stop
            if b0 == 0x81 and size and not self._message_opcode:  # the usual: a whole text frame
                key = (buf[head : head + 4] * ((size + 3) >> 2))[:size]
                masked = int.from_bytes(buf[head + 4 : stop], "little")
                payload = (masked ^ int.from_bytes(key, "little")).to_bytes(size, "little")
                try:
                    events.append(payload.decode())
                except UnicodeDecodeError:
                    raise FrameError(1007, "text frame is not UTF-8") from None
                continue
            payload = unmask(buf[head + 4 : stop], buf[head : head + 4])
            event = self._frame(b0 & 0x80, opcode, payload, b0 & _RSV1)
            if event is not None:
                events.append(event)
        if pos >= end:
            if buf is not data:
                self._buffer.clear()
        elif buf is data:
            self._buffer = bytearray(data[pos:])
        else:
            del self._buffer[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes, rsv1: int) -> Event | None:
        if opcode in (_TEXT, _BINARY):
            if self._message_opcode:
                raise FrameError(1002, "a new message began inside a fragmented one")
            if not fin:
                self._message_opcode = opcode
                self._compressed = bool(rsv1)
                self._fragments += payload
                self._fragment_count = 1
                return None
            return _message(opcode, self._inflate(payload) if rsv1 else payload)
        if rsv1:
            raise FrameError(1002, "RSV1 on a frame that begins no message")
        if opcode == _CONTINUATION:
            if not self._message_opcode:
                raise FrameError(1002, "continuation without a message")
            self._fragment_count += 1
            if self._fragment_count > self.max_fragments:
                raise FrameError(1008, "message in too many fragments")
            self._fragments += payload
            if not fin:
                return None
            opcode, self._message_opcode = self._message_opcode, 0
            whole = bytes(self._fragments)
            # A fresh buffer, not clear(): clear() keeps the grown allocation
            # for the socket's life.
            self._fragments = bytearray()
            self._fragment_count = 0
            if self._compressed:
                self._compressed = False
                whole = self._inflate(whole)
            return _message(opcode, whole)
        if opcode == _PING:
            return Ping(payload)
        if opcode == _PONG:
            return PONG
        if opcode == _CLOSE:
            return _close(payload)
        raise FrameError(1002, f"unknown opcode {opcode:#x}")

    def _inflate(self, payload: bytes) -> bytes:
        deflate = self.deflate
        assert deflate is not None  # RSV1 is refused without it
        try:
            whole = deflate.inflate(payload, self.max_size)
        except zlib.error:
            raise FrameError(1007, "invalid compressed data") from None
        if whole is None:
            raise FrameError(1009, "message too big once inflated")
        return whole


def _message(opcode: int, payload: bytes) -> str | bytes:
    if opcode == _BINARY:
        return payload
    try:
        return payload.decode()
    except UnicodeDecodeError:
        raise FrameError(1007, "text frame is not UTF-8") from None


def _close(payload: bytes) -> Close:
    if not payload:
        return Close(1005, "")
    if len(payload) == 1:
        raise FrameError(1002, "close frame with a one-byte body")
    code = int.from_bytes(payload[:2], "big")
    if code < 1000 or code in (1004, 1005, 1006, 1015) or 1016 <= code < 3000 or code >= 5000:
        raise FrameError(1002, f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError(1007, "close reason is not UTF-8") from None
    return Close(code, reason)
