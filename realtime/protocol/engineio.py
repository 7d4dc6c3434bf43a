"""Engine.IO packets and payloads, revisions 3 and 4. Pure: strings and bytes in and out.

The two revisions differ only in framing:

=====================  =================================  ===============================
                       EIO 4                              EIO 3
=====================  =================================  ===============================
polling payload        packets joined by ``\\x1e``         ``<len>:<packet>`` where len counts
                                                          UTF-16 code units
binary in text         ``b<base64>``                      ``b4<base64>``
XHR2 binary payload    (none)                             ``\\x00|\\x01 <digits> \\xff <data>``
binary WebSocket frame raw data                           type byte ``\\x04`` + data
heartbeat              server pings, client pongs         client pings, server pongs
=====================  =================================  ===============================
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

from ..errors import DecodeError

Data = str | bytes

RECORD_SEPARATOR: Final = "\x1e"

T = TypeVar("T")


class PacketType(enum.IntEnum):
    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


_TYPE_CHARS: Final = {str(t.value): t for t in PacketType}


@dataclass(slots=True)  # not frozen: a frozen dataclass is several times slower to build
class Packet:
    type: PacketType
    data: Data = ""

    @property
    def binary(self) -> bool:
        return isinstance(self.data, bytes)


class Message:
    """One MESSAGE packet shared by every recipient of a broadcast, with its
    encodings cached per framing. Implements :class:`realtime.types.SharedMessage`.

    Each transport asks for its framing with its own key and encoder, so the
    first recipient on that framing pays for the encoding and the others
    reuse the same object (for WebSocket, the whole frame's bytes).
    """

    __slots__ = ("_frames", "data")

    def __init__(self, data: Data) -> None:
        self.data = data
        self._frames: dict[str, Any] = {}

    def frame(self, key: str, encode: Callable[[Data], T]) -> T:
        try:
            return cast(T, self._frames[key])
        except KeyError:
            encoded = self._frames[key] = encode(self.data)
            return encoded


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError("invalid base64 in binary packet") from exc


# -- single packets ----------------------------------------------------------------


def encode_text_v4(packet: Packet) -> str:
    """A packet as text (polling payload member): binary becomes ``b<base64>``."""
    if isinstance(packet.data, bytes):
        return "b" + _b64(packet.data)
    return str(packet.type.value) + packet.data


def encode_text_v3(packet: Packet) -> str:
    if isinstance(packet.data, bytes):
        return "b" + str(packet.type.value) + _b64(packet.data)
    return str(packet.type.value) + packet.data


def encode_ws(packet: Packet, protocol: int) -> Data:
    """A packet as one WebSocket frame payload."""
    if isinstance(packet.data, bytes):
        if protocol == 3:
            return bytes((packet.type.value,)) + packet.data
        return packet.data
    return str(packet.type.value) + packet.data


def encode_message_ws(data: Data, protocol: int) -> Data:
    """``encode_ws`` of a MESSAGE packet, without building the packet."""
    if isinstance(data, str):
        return "4" + data
    return b"\x04" + data if protocol == 3 else data


def decode_text(text: str, protocol: int) -> Packet:
    """One packet in text form (a WebSocket text frame or a payload member)."""
    if not text:
        raise DecodeError("empty packet")
    head = text[0]
    if head == "b":
        if protocol == 4:
            return Packet(PacketType.MESSAGE, _unb64(text[1:]))
        if len(text) < 2 or text[1] not in _TYPE_CHARS:
            raise DecodeError("invalid binary packet type")
        return Packet(_TYPE_CHARS[text[1]], _unb64(text[2:]))
    ptype = _TYPE_CHARS.get(head)
    if ptype is None:
        raise DecodeError("unknown packet type")
    return Packet(ptype, text[1:])


def decode_ws(frame: Data, protocol: int) -> Packet:
    """One WebSocket frame payload."""
    if isinstance(frame, str):
        if frame[:1] == "b":  # base64 is a polling-only encoding
            raise DecodeError("base64 binary over WebSocket")
        return decode_text(frame, protocol)
    if protocol == 4:
        return Packet(PacketType.MESSAGE, bytes(frame))
    if not frame:
        raise DecodeError("empty binary frame")
    try:
        ptype = PacketType(frame[0])
    except ValueError as exc:
        raise DecodeError("unknown binary packet type") from exc
    return Packet(ptype, bytes(frame[1:]))


# -- payloads (polling bodies) ------------------------------------------------------


def encode_payload_v4(packets: list[Packet]) -> str:
    return RECORD_SEPARATOR.join(encode_text_v4(p) for p in packets)


def iter_payload_v4(body: str) -> Iterator[Packet]:
    """The packets of an EIO 4 text payload, one at a time: a body of many
    small packets is never held as a list of parts (a 666 KB POST of one-byte
    packets would hold 22 MB that way)."""
    if not body:
        raise DecodeError("empty payload")
    pos = 0
    while True:
        separator = body.find(RECORD_SEPARATOR, pos)
        if separator < 0:
            yield decode_text(body[pos:], 4)
            return
        yield decode_text(body[pos:separator], 4)
        pos = separator + 1


def decode_payload_v4(body: str) -> list[Packet]:
    return list(iter_payload_v4(body))


def utf16_length(text: str) -> int:
    """Length as JavaScript counts it: UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def with_length_prefix(encoded: str) -> str:
    return f"{utf16_length(encoded)}:{encoded}"


def encode_payload_v3(packets: list[Packet]) -> str:
    """EIO 3 text payload: binary packets as ``b4<base64>``."""
    return "".join(with_length_prefix(encode_text_v3(p)) for p in packets)


def decode_payload_v3(body: str) -> list[Packet]:
    return list(iter_payload_v3(body))


def iter_payload_v3(body: str) -> Iterator[Packet]:
    """EIO 3 text payload, one packet at a time. Lengths count UTF-16 code
    units, so walk code points and count the ones outside the BMP twice."""
    if not body:
        raise DecodeError("empty payload")
    pos, end = 0, len(body)
    while pos < end:
        colon = body.find(":", pos)
        length = body[pos:colon]
        # isdigit() alone admits "²" (int() refuses it) and other scripts' digits.
        if colon <= pos or len(length) > 10 or not (length.isascii() and length.isdigit()):
            raise DecodeError("invalid payload length")
        units = int(length)
        start = stop = colon + 1
        counted = 0
        while counted < units:
            if stop >= end:
                raise DecodeError("payload shorter than its length")
            counted += 2 if ord(body[stop]) > 0xFFFF else 1
            stop += 1
        if counted != units or units == 0:
            raise DecodeError("invalid payload length")
        yield decode_text(body[start:stop], 3)
        pos = stop


def encode_binary_payload_v3(packets: list[Packet]) -> bytes:
    """The XHR2 binary payload: per packet a marker (0 text, 1 binary), the
    length as one byte per decimal digit, 0xFF, then the bytes. Text packets
    are UTF-8, and their length counts bytes."""
    out = bytearray()
    for packet in packets:
        if isinstance(packet.data, bytes):
            body = bytes((packet.type.value,)) + packet.data
            out.append(1)
        else:
            body = (str(packet.type.value) + packet.data).encode("utf-8")
            out.append(0)
        out += bytes(int(d) for d in str(len(body)))
        out.append(0xFF)
        out += body
    return bytes(out)


def decode_binary_payload_v3(body: bytes) -> list[Packet]:
    return list(iter_binary_payload_v3(body))


def iter_binary_payload_v3(body: bytes) -> Iterator[Packet]:
    """The XHR2 binary payload, one packet at a time."""
    pos, end = 0, len(body)
    if not body:
        raise DecodeError("empty payload")
    while pos < end:
        kind = body[pos]
        if kind not in (0, 1):
            raise DecodeError("invalid binary payload marker")
        pos += 1
        length = 0
        digits = 0
        while True:
            if pos >= end:
                raise DecodeError("truncated binary payload")
            byte = body[pos]
            pos += 1
            if byte == 0xFF:
                break
            if byte > 9 or digits >= 10:
                raise DecodeError("invalid binary payload length")
            length = length * 10 + byte
            digits += 1
        if digits == 0 or length == 0 or pos + length > end:
            raise DecodeError("invalid binary payload length")
        chunk = body[pos : pos + length]
        pos += length
        if kind == 1:
            try:
                ptype = PacketType(chunk[0])
            except ValueError as exc:
                raise DecodeError("unknown binary packet type") from exc
            yield Packet(ptype, bytes(chunk[1:]))
        else:
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DecodeError("invalid UTF-8 in payload") from exc
            yield decode_text(text, 3)
