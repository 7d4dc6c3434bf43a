"""WebSocket: one Engine.IO packet per frame, both revisions.

:func:`build_frame` produces a whole unmasked RFC 6455 server frame, so a
broadcast can hand the same bytes to every recipient's socket.
"""

from __future__ import annotations

import struct

from ..protocol import engineio as eio
from ..protocol.engineio import Message, Packet
from ..protocol.session import Outgoing


def _wire_v4(data: eio.Data) -> bytes:
    return build_frame(eio.encode_ws(Packet(eio.PacketType.MESSAGE, data), 4))


def _wire_v3(data: eio.Data) -> bytes:
    return build_frame(eio.encode_ws(Packet(eio.PacketType.MESSAGE, data), 3))


_WIRE = {4: ("wire4", _wire_v4), 3: ("wire3", _wire_v3)}


def wire_frames(items: list[Outgoing], protocol: int) -> list[bytes]:
    """Whole RFC 6455 frames, ready for the socket; shared ones built once."""
    key, encode = _WIRE[protocol]
    return [
        item.frame(key, encode)
        if isinstance(item, Message)
        else build_frame(eio.encode_ws(item, protocol))
        for item in items
    ]


def build_frame(payload: str | bytes) -> bytes:
    """A final, unmasked frame: text for ``str``, binary for ``bytes``."""
    if isinstance(payload, str):
        data = payload.encode("utf-8")
        head = 0x81
    else:
        data = payload
        head = 0x82
    size = len(data)
    if size < 126:
        return bytes((head, size)) + data
    if size < 65536:
        return struct.pack("!BBH", head, 126, size) + data
    return struct.pack("!BBQ", head, 127, size) + data
