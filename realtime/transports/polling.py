"""XHR long-polling: the body of a GET answer and of a POST, both revisions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from ..errors import DecodeError
from ..protocol import engineio as eio
from ..protocol.engineio import Message, Packet
from ..protocol.session import Outgoing

TEXT_TYPE: Final = "text/plain; charset=UTF-8"
BINARY_TYPE: Final = "application/octet-stream"


def _member_v4(data: eio.Data) -> str:
    return eio.encode_text_v4(Packet(eio.PacketType.MESSAGE, data))


def _member_v3(data: eio.Data) -> str:
    return eio.with_length_prefix(eio.encode_text_v3(Packet(eio.PacketType.MESSAGE, data)))


def encode_text(items: list[Outgoing], protocol: int) -> str:
    """A text payload; binary travels as base64. Shared messages reuse their
    cached encoding, so a broadcast is encoded once per revision."""
    if protocol == 4:
        return eio.RECORD_SEPARATOR.join(
            item.frame("text4", _member_v4)
            if isinstance(item, Message)
            else eio.encode_text_v4(item)
            if isinstance(item, Packet)
            else _member_v4(item)
            for item in items
        )
    return "".join(
        item.frame("text3", _member_v3)
        if isinstance(item, Message)
        else eio.with_length_prefix(eio.encode_text_v3(item))
        if isinstance(item, Packet)
        else _member_v3(item)
        for item in items
    )


def _as_packet(item: Outgoing) -> Packet:
    if isinstance(item, Packet):
        return item
    return Packet(eio.PacketType.MESSAGE, item.data if isinstance(item, Message) else item)


def encode_body(items: list[Outgoing], protocol: int, b64: bool) -> tuple[bytes, str]:
    """The answer to a GET: body and content type. EIO 3 clients that can take
    binary (no ``b64=1``) get the XHR2 binary payload when anything is binary."""
    if protocol == 3 and not b64:
        packets = [_as_packet(item) for item in items]
        if any(isinstance(packet.data, bytes) for packet in packets):
            return eio.encode_binary_payload_v3(packets), BINARY_TYPE
    return encode_text(items, protocol).encode("utf-8"), TEXT_TYPE


def iter_text_body(text: str, protocol: int) -> Iterator[Packet]:
    if protocol == 4:
        return eio.iter_payload_v4(text)
    return eio.iter_payload_v3(text)


def iter_body(body: bytes, protocol: int) -> Iterator[Packet]:
    """The packets of a POST body, decoded one at a time as they are handled.
    An EIO 3 binary payload starts with a 0 or 1 marker byte, a text one with
    a digit, so the body itself tells them apart (clients and proxies disagree
    on content types)."""
    if protocol == 3 and body[:1] in (b"\x00", b"\x01"):
        return eio.iter_binary_payload_v3(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError("payload is not UTF-8") from exc
    return iter_text_body(text, protocol)


def decode_text_body(text: str, protocol: int) -> list[Packet]:
    return list(iter_text_body(text, protocol))


def decode_body(body: bytes, content_type: str, protocol: int) -> list[Packet]:
    """All the packets of a POST body at once (``content_type`` is not
    consulted: see :func:`iter_body`)."""
    return list(iter_body(body, protocol))
