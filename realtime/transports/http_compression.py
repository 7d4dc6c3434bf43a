"""gzip or deflate for polling answers, as engine.io's ``httpCompression``.

An answer of at least ``threshold`` bytes is compressed with the coding the
request's ``Accept-Encoding`` prefers among gzip and deflate (gzip on a
tie, as engine.io asks its negotiator in that order), and says so with
``Content-Encoding`` and ``Vary: Accept-Encoding``. Smaller answers, and
requests that accept neither coding, go out as they are. JSONP answers are
compressed too: engine.io's JSONP transport writes through the same
polling code. WebSocket traffic never passes here (see
:mod:`realtime.transports.deflate` for permessage-deflate).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..errors import InvalidArgument, InvalidArgumentType

_CODINGS: Final = ("gzip", "deflate")
_GZIP_WBITS: Final = 31  # zlib's gzip wrapper; "deflate" in HTTP is the zlib format


@dataclass(frozen=True, slots=True)
class HttpCompression:
    """``threshold``: the smallest answer body (bytes) worth compressing.
    ``level``: zlib's, 0-9, or -1 for its default (6)."""

    threshold: int = 1024
    level: int = -1

    def __post_init__(self) -> None:
        if self.threshold < 0:
            raise InvalidArgument("http_compression threshold must not be negative")
        if not -1 <= self.level <= 9:
            raise InvalidArgument("http_compression level is -1 (zlib's default) or 0-9")


def http_compression_setting(
    value: bool | HttpCompression | Mapping[str, Any] | None,
) -> HttpCompression | None:
    """The ``http_compression`` option: True (the defaults), False or None
    (off), an :class:`HttpCompression`, or a dict of its fields."""
    if value is True:
        return HttpCompression()
    if value is False or value is None:
        return None
    if isinstance(value, HttpCompression):
        return value
    if isinstance(value, Mapping):
        return HttpCompression(**value)
    raise InvalidArgumentType(f"http_compression is a bool or a dict of options, not {value!r}")


def preferred_coding(accept_encoding: str) -> str | None:
    """gzip or deflate, whichever ``Accept-Encoding`` weighs higher (``*``
    stands for any coding it does not name); None when it accepts neither."""
    weights: dict[str, float] = {}
    wildcard = 0.0
    for part in accept_encoding.split(","):
        name, _, params = part.partition(";")
        name = name.strip().lower()
        weight = 1.0
        for param in params.split(";"):
            key, _, raw = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(raw)
                except ValueError:
                    weight = 0.0
                if not 0.0 <= weight <= 1.0:  # also refuses nan
                    weight = 0.0
        if name == "*":
            wildcard = weight
        elif name in _CODINGS:
            weights[name] = weight
    best, best_weight = None, 0.0
    for coding in _CODINGS:
        weight = weights.get(coding, wildcard)
        if weight > best_weight:
            best, best_weight = coding, weight
    return best


def compress(body: bytes, coding: str, level: int) -> bytes:
    if coding == "gzip":
        packer = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
        return packer.compress(body) + packer.flush()
    return zlib.compress(body, level)


def compress_answer(
    setting: HttpCompression,
    request_headers: Mapping[str, str],
    headers: dict[str, str],
    body: bytes,
) -> bytes:
    """``body`` as it should go out (its length already at least the
    threshold), with ``headers`` completed to say how."""
    vary = headers.get("Vary")
    headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    coding = preferred_coding(request_headers.get("accept-encoding", ""))
    if coding is None:
        return body
    headers["Content-Encoding"] = coding
    return compress(body, coding, setting.level)
