"""permessage-deflate (RFC 7692), sans-IO: the negotiation of a client's
offer and one socket's compression state.

Off unless the server asks for it (``per_message_deflate``), as in
engine.io. :func:`negotiate` reads ``Sec-WebSocket-Extensions`` and returns
the :class:`DeflateAgreement` to answer with, or None (the socket then works
uncompressed). :class:`MessageDeflate` compresses messages of at least
``threshold`` bytes and inflates the client's, never past ``max_size``: the
inflater is asked for at most one byte more than the bound, so a small
message that would inflate to gigabytes costs the server ``max_size`` bytes
and a 1009 close of that socket.

zlib's state is the cost: about 256 KiB for a compressor with a 15-bit
window at ``mem_level`` 8, and 40 KiB for an inflater. Both are made on the
first message that needs them; without context takeover each is dropped
after its message.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..errors import InvalidArgument, InvalidArgumentType

EXTENSION: Final = "permessage-deflate"
_TAIL: Final = b"\x00\x00\xff\xff"  # what a sync flush ends with; RFC 7692 leaves it off the wire
_WINDOW_PARAMS: Final = ("server_max_window_bits", "client_max_window_bits")
_FLAG_PARAMS: Final = ("server_no_context_takeover", "client_no_context_takeover")


@dataclass(frozen=True, slots=True)
class PerMessageDeflate:
    """The ``per_message_deflate`` option (engine.io's ``perMessageDeflate``).

    ``threshold``: messages shorter than this many bytes go uncompressed.
    ``server_no_context_takeover`` / ``client_no_context_takeover``: ask
    that each message be compressed on its own (less memory held per
    socket, worse ratios). ``server_max_window_bits`` (9-15): the window
    the server compresses with, smaller if the client asks.
    ``client_max_window_bits`` (8-15, or None to leave it to the client):
    asked of clients that offer to take it. ``level`` (-1 for zlib's
    default, 0-9) and ``mem_level`` (1-9) go to zlib's compressor.
    """

    threshold: int = 1024
    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int | None = None
    level: int = -1
    mem_level: int = 8

    def __post_init__(self) -> None:
        if self.threshold < 0:
            raise InvalidArgument("per_message_deflate threshold must not be negative")
        # zlib refuses a raw 8-bit window for compressing; it inflates one.
        if not 9 <= self.server_max_window_bits <= 15:
            raise InvalidArgument("server_max_window_bits is 9 to 15")
        if self.client_max_window_bits is not None and not 8 <= self.client_max_window_bits <= 15:
            raise InvalidArgument("client_max_window_bits is 8 to 15, or None")
        if not -1 <= self.level <= 9 or not 1 <= self.mem_level <= 9:
            raise InvalidArgument("per_message_deflate level is -1 to 9 and mem_level 1 to 9")


def per_message_deflate_setting(
    value: bool | PerMessageDeflate | Mapping[str, Any] | None,
) -> PerMessageDeflate | None:
    """The ``per_message_deflate`` option: False or None (off, the
    default), True (the defaults), a :class:`PerMessageDeflate` or a dict
    of its fields."""
    if value is False or value is None:
        return None
    if value is True:
        return PerMessageDeflate()
    if isinstance(value, PerMessageDeflate):
        return value
    if isinstance(value, Mapping):
        return PerMessageDeflate(**value)
    raise InvalidArgumentType(f"per_message_deflate is a bool or a dict of options, not {value!r}")


@dataclass(frozen=True, slots=True)
class DeflateAgreement:
    """What both sides agreed on for one socket."""

    threshold: int
    level: int
    mem_level: int
    server_window_bits: int
    client_window_bits: int
    server_no_context_takeover: bool
    client_no_context_takeover: bool
    response: str  # the Sec-WebSocket-Extensions value of the 101


def negotiate(header: str, setting: PerMessageDeflate) -> DeflateAgreement | None:
    """The first acceptable permessage-deflate offer of ``header`` (the
    client lists them in its order of preference), agreed with ``setting``;
    None when there is none. An offer with an unknown, repeated or invalid
    parameter is declined, as RFC 7692 asks, and the next one considered."""
    for offer in header.split(","):
        name, *raw_params = (part.strip() for part in offer.split(";"))
        if name.lower() != EXTENSION:
            continue
        params = _offer_params(raw_params)
        agreement = None if params is None else _agree(params, setting)
        if agreement is not None:
            return agreement
    return None


def _offer_params(raw_params: list[str]) -> dict[str, int | None] | None:
    params: dict[str, int | None] = {}
    for raw in raw_params:
        key, equals, value = raw.partition("=")
        key = key.strip().lower()
        value = value.strip().strip('"')
        if key in params:
            return None
        if key in _FLAG_PARAMS and not equals:
            params[key] = None
        elif key in _WINDOW_PARAMS:
            if not equals and key == "client_max_window_bits":
                params[key] = None  # "I can take the parameter": no value
                continue
            if not (value.isascii() and value.isdigit() and 8 <= int(value) <= 15):
                return None
            params[key] = int(value)
        else:
            return None
    return params


def _agree(params: dict[str, int | None], setting: PerMessageDeflate) -> DeflateAgreement | None:
    server_bits = setting.server_max_window_bits
    asked = params.get("server_max_window_bits")
    if asked is not None:
        if asked < 9:
            return None  # zlib (since 1.2.9) cannot compress with an 8-bit window
        server_bits = min(server_bits, asked)
    server_nct = setting.server_no_context_takeover or "server_no_context_takeover" in params
    client_nct = setting.client_no_context_takeover or "client_no_context_takeover" in params
    client_bits = 15
    if setting.client_max_window_bits is not None and "client_max_window_bits" in params:
        client_bits = min(setting.client_max_window_bits, params["client_max_window_bits"] or 15)
    parts = [EXTENSION]
    if server_nct:
        parts.append("server_no_context_takeover")
    if client_nct:
        parts.append("client_no_context_takeover")
    if asked is not None or server_bits != 15:
        parts.append(f"server_max_window_bits={server_bits}")
    if client_bits != 15:
        parts.append(f"client_max_window_bits={client_bits}")
    return DeflateAgreement(
        threshold=setting.threshold,
        level=setting.level,
        mem_level=setting.mem_level,
        server_window_bits=server_bits,
        client_window_bits=client_bits,
        server_no_context_takeover=server_nct,
        client_no_context_takeover=client_nct,
        response="; ".join(parts),
    )


class MessageDeflate:
    """One socket's compressor and inflater, as agreed."""

    __slots__ = ("_deflater", "_inflater", "agreement", "threshold")

    def __init__(self, agreement: DeflateAgreement) -> None:
        self.agreement = agreement
        self.threshold = agreement.threshold
        self._deflater: Any = None  # zlib's objects, made when first needed
        self._inflater: Any = None

    def compress(self, data: bytes) -> bytes:
        """One message's compressed payload (the frame's RSV1 says so)."""
        agreement = self.agreement
        deflater = self._deflater
        if deflater is None:
            deflater = zlib.compressobj(
                agreement.level,
                zlib.DEFLATED,
                -agreement.server_window_bits,
                agreement.mem_level,
            )
        out: bytes = deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH)
        self._deflater = None if agreement.server_no_context_takeover else deflater
        return out[:-4] if out.endswith(_TAIL) else out

    def inflate(self, data: bytes, max_size: int) -> bytes | None:
        """One compressed message inflated, or None if it would inflate past
        ``max_size`` bytes. Raises ``zlib.error`` for a broken stream."""
        agreement = self.agreement
        inflater = self._inflater
        if inflater is None:
            # Never under 9 bits: zlib compresses an 8-bit window with a
            # 9-bit one, and a larger window inflates any smaller one.
            inflater = zlib.decompressobj(-max(9, agreement.client_window_bits))
        out: bytes = inflater.decompress(data + _TAIL, max_size + 1)
        # A client that ended its stream (a final block) starts afresh.
        keep = not agreement.client_no_context_takeover and not inflater.eof
        self._inflater = inflater if keep else None
        if len(out) > max_size:
            self._inflater = None  # the socket closes; its state need not wait for that
            return None
        return out
