"""Socket.IO packets, revisions 4 (on Engine.IO 3) and 5 (on Engine.IO 4). Pure.

Wire format of one packet (the same in both revisions)::

    <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]

followed, for BINARY_EVENT and BINARY_ACK, by ``<attachments>`` binary Engine.IO
messages whose positions in the payload are marked by
``{"_placeholder":true,"num":N}``. Because those attachments arrive as separate
messages, decoding is stateful: one :class:`Decoder` per connection.

What differs between the revisions is the meaning of some packets, not their
framing:

==================  ===================================  ====================================
                    revision 5 (Engine.IO 4)             revision 4 (Engine.IO 3)
==================  ===================================  ====================================
CONNECT, client     ``0/nsp,{auth}``                     ``0/nsp?query,`` (no payload)
CONNECT, server     ``0/nsp,{"sid":"..."}``              ``0/nsp,`` and ``0`` sent unasked
type 4              CONNECT_ERROR ``{"message","data"}``  ERROR, a plain JSON string
==================  ===================================  ====================================

The decoder hides the first difference: a revision 4 namespace query becomes the
CONNECT packet's ``data`` (a dict of strings), so the layer above reads the auth
of both revisions from the same place. :func:`connect_answer` and
:func:`connect_error` build the server's side of the other two.
"""

from __future__ import annotations

import enum
import json
import json.encoder
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from ..errors import DecodeError, InvalidArgument, InvalidArgumentType, Unsendable

Data = str | bytes

DEFAULT_MAX_ATTACHMENTS: Final = 10

# Arrays and objects one payload may nest. Python's JSON scanner recurses, so
# nesting near the interpreter's recursion limit would decode or not
# depending on how deep the stack already is, and what did decode would fail
# again in whatever recursed over it next (an echo, a log line). Capped so
# that a limit always stays well below the recursion limit.
DEFAULT_MAX_DEPTH: Final = 64
MAX_DEPTH_CEILING: Final = 256

# Client events with these names would be mistaken for lifecycle events on
# one side or the other, so the reference parser refuses them too.
RESERVED_EVENTS: Final = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)

# Ack ids above this lose precision in a JavaScript number.
MAX_ACK_ID: Final = 2**53 - 1
_MAX_ID_DIGITS: Final = len(str(MAX_ACK_ID))

# JSON "\ud800" decodes to a lone surrogate, which has no UTF-8 encoding.
_LONE_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")  # raw: re reads the escapes


class PacketType(enum.IntEnum):
    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4  # called ERROR in revision 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


_TYPE_CHARS: Final = {str(int(t)): t for t in PacketType}  # int() would also read "٣" as 3
_TYPE_DIGITS: Final = {t: str(int(t)) for t in PacketType}
# Before Python 3.12, a lookup such as ``PacketType.EVENT`` goes through the enum
# metaclass's __getattr__ hook and costs ~0.1 µs, ten times a global's:
# the per-packet paths read these names instead.
EVENT: Final = PacketType.EVENT
ACK: Final = PacketType.ACK
EVENT_TYPES: Final = (PacketType.EVENT, PacketType.BINARY_EVENT)
ACK_TYPES: Final = (PacketType.ACK, PacketType.BINARY_ACK)
_BINARY_TYPES: Final = (PacketType.BINARY_EVENT, PacketType.BINARY_ACK)
_AS_BINARY: Final = {
    PacketType.EVENT: PacketType.BINARY_EVENT,
    PacketType.ACK: PacketType.BINARY_ACK,
}
_PLAIN_TYPES: Final = {"2": EVENT, "3": ACK}  # the types _decode_header's fast path reads


@dataclass(slots=True)  # not frozen: a frozen dataclass is several times slower to build
class Packet:
    """One Socket.IO packet. ``data`` is the decoded JSON payload (``None``
    when absent) with attachments restored as :class:`bytes`."""

    type: PacketType
    nsp: str = "/"
    data: Any = None
    id: int | None = None

    @property
    def is_event(self) -> bool:
        return self.type in EVENT_TYPES

    @property
    def is_ack(self) -> bool:
        return self.type in ACK_TYPES


class MalformedPacket(DecodeError):
    """A packet that breaks the protocol. ``kind`` names the rule it broke, in
    a few fixed words, so that callers can log each kind once."""

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind = kind
        super().__init__(f"{kind}: {detail}" if detail else kind)


# -- encoding ----------------------------------------------------------------------


def encode(packet: Packet) -> list[Data]:
    """Encode ``packet`` as the Engine.IO messages to send, in order: the text
    header, then one binary message per attachment.

    bytes, bytearray and memoryview anywhere in the payload of an EVENT or ACK
    become attachments, and the packet is then sent as BINARY_EVENT or
    BINARY_ACK. Raises :class:`~realtime.errors.Unsendable` (a TypeError and
    a ValueError) for payloads JSON cannot carry (including NaN, which
    JavaScript would silently turn into null).
    """
    return encode_fields(packet.type, packet.nsp, packet.data, packet.id)


def encode_fields(ptype: PacketType, nsp: str, data: Any, ack_id: int | None) -> list[Data]:
    """:func:`encode` of the packet these fields make, without building it:
    what a socket sends goes this way."""
    attachments: list[bytes] = []
    payload = "" if data is None else _dumps(data, attachments)
    if attachments:
        ptype = _AS_BINARY.get(ptype, ptype)
        if ptype not in _BINARY_TYPES:
            raise Unsendable(f"{ptype.name} packets cannot carry binary data")
    head = _TYPE_DIGITS[ptype]
    if ptype in _BINARY_TYPES:
        head += f"{len(attachments)}-"
    if nsp != "/":
        head += nsp + ","
    if ack_id is not None:
        head += str(ack_id)
    if not attachments:
        return [head + payload]
    return [head + payload, *attachments]


class _NotPlain(Exception):
    """Raised by the fast encoder at the first value JSON cannot carry as is.
    (Not a TypeError: a compiled build cannot subclass most builtin types.)"""


def _not_plain(value: object) -> Any:
    raise _NotPlain(f"{type(value).__name__} is not JSON serializable")


def _plain_encoder() -> Callable[[Any, int], Iterable[str]]:
    """JSON for payloads without binary, as chunks: the C encoder, built once.

    ``json.dumps`` with options builds a new encoder per call, which costs as
    much as encoding a small event. No circular-reference markers: a cycle
    ends in RecursionError, which :func:`_dumps` reports as
    :class:`~realtime.errors.Unsendable`, as it does json's own check. Called
    as ``(data, 0)``, the C encoder's own signature, so that the hot path has
    no wrapper function in between.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    quote = getattr(json.encoder, "c_encode_basestring", None)
    if make is not None and quote is not None:
        try:
            encode: Callable[[Any, int], Iterable[str]] = make(
                None, _not_plain, quote, None, ":", ",", False, False, False
            )
        except TypeError:  # another signature: the pure encoder below
            pass
        else:
            return encode
    encoder = json.JSONEncoder(
        separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_not_plain
    )
    return lambda data, _level: encoder.iterencode(data)


_plain_chunks = _plain_encoder()


def _dumps(data: Any, attachments: list[bytes]) -> str:
    plain = True
    try:
        text = "".join(_plain_chunks(data, 0))
    except _NotPlain:
        plain = False  # encoded below, outside this handler: no chained traceback
    except RecursionError:
        raise Unsendable("circular reference or nesting too deep") from None
    except ValueError as exc:  # NaN or an infinity
        raise _unsendable(exc) from None
    if not plain:
        text = _dumps_with_attachments(data, attachments, ensure_ascii=False)
    # isascii() reads a flag the string already has; the search scans it.
    if text.isascii() or _LONE_SURROGATE.search(text) is None:
        return text
    # Written raw, a lone surrogate would make the frame's UTF-8 encoding fail
    # for every recipient: send it escaped, as JSON.stringify does.
    attachments.clear()
    return _dumps_with_attachments(data, attachments, ensure_ascii=True)


def _dumps_with_attachments(data: Any, attachments: list[bytes], *, ensure_ascii: bool) -> str:
    def placeholder(value: object) -> dict[str, Any]:
        # json calls this for every value it cannot encode, in document order,
        # so placeholders are numbered the way the reference parser numbers them.
        if isinstance(value, (bytes, bytearray, memoryview)):
            attachments.append(bytes(value))
            return {"_placeholder": True, "num": len(attachments) - 1}
        raise Unsendable(
            f"cannot send a value of type {type(value).__name__}: an event's arguments "
            "hold JSON values (dict, list, str, int, float, bool, None) and bytes only"
        )

    try:
        return json.dumps(
            data,
            separators=(",", ":"),
            ensure_ascii=ensure_ascii,
            allow_nan=False,
            default=placeholder,
        )
    except Unsendable:
        raise
    except (ValueError, RecursionError) as exc:  # NaN, an infinity, a cycle
        raise _unsendable(exc) from None


def _unsendable(exc: Exception) -> Unsendable:
    return Unsendable(f"{exc or 'too deep'}: NaN, infinities and cycles have no JSON form")


def connect_answer(nsp: str, sid: str, revision: int, pid: str | None = None) -> Packet:
    """The server's CONNECT accepting a socket into ``nsp``; ``pid`` is the
    private id of its recoverable session (revision 5 only)."""
    if revision < 5:
        return Packet(PacketType.CONNECT, nsp, None)
    return Packet(
        PacketType.CONNECT, nsp, {"sid": sid} if pid is None else {"sid": sid, "pid": pid}
    )


def connect_error(nsp: str, message: str, data: Any, revision: int) -> Packet:
    """The server's refusal of a socket: revision 5 carries ``message`` and
    ``data``; revision 4 clients expect a plain string, so ``data`` is dropped."""
    if revision >= 5:
        payload: Any = {"message": message} if data is None else {"message": message, "data": data}
    else:
        payload = message
    return Packet(PacketType.CONNECT_ERROR, nsp, payload)


# -- decoding ----------------------------------------------------------------------


class Decoder:
    """Decodes the Engine.IO messages of one connection into packets.

    :meth:`feed` returns a packet once it is complete: at once for a text
    packet, after its last attachment for a binary one. Anything malformed
    raises :class:`MalformedPacket`; the connection should then be closed, as
    the decoder's state is no longer meaningful.
    """

    def __init__(
        self,
        revision: int = 5,
        *,
        max_attachments: int = DEFAULT_MAX_ATTACHMENTS,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        if revision not in (4, 5):
            raise InvalidArgument(f"unknown Socket.IO revision {revision}")
        check_max_depth(max_depth)
        self.revision = revision
        self.max_attachments = max_attachments
        self.max_depth = max_depth
        # Nesting deeper than max_depth takes an opening and a closing bracket
        # per level: a shorter text cannot, and is not counted at all.
        self._deep_text = 2 * max_depth + 2
        self._pending: Packet | None = None
        self._expected = 0
        self._buffers: list[bytes] = []

    @property
    def awaiting_attachments(self) -> bool:
        return self._pending is not None

    def feed(self, data: Data) -> Packet | None:
        if isinstance(data, str):
            if self._pending is not None:
                raise MalformedPacket("missing attachment", "text message while awaiting binary")
            packet, expected = self._decode_header(data)
            if expected == 0:
                return _restore(packet, []) if packet.type in _BINARY_TYPES else packet
            self._pending, self._expected, self._buffers = packet, expected, []
            return None
        if self._pending is None:
            raise MalformedPacket("unexpected binary", "binary message outside a binary packet")
        self._buffers.append(bytes(data))
        if len(self._buffers) < self._expected:
            return None
        packet, buffers = self._pending, self._buffers
        self._pending, self._expected, self._buffers = None, 0, []
        return _restore(packet, buffers)

    def _decode_header(self, text: str) -> tuple[Packet, int]:
        ack_id: int | None
        ptype = _PLAIN_TYPES.get(text[:1])
        if ptype is not None:
            # Most packets: an event or ack on "/", as ``2[...]`` or
            # ``2<id>[...]``; the general path below decodes them the same
            # way, only slower. The scanner is what ``json.loads`` runs after
            # two layers of Python and a copy of the text. Anything else (a
            # namespace, an id out of range, whitespace or extra data after
            # the JSON) goes the general way.
            bracket = 1 if text[1:2] == "[" else text.find("[", 2)
            digits = text[1:bracket]
            ack_id = None
            if (
                bracket > 0
                and digits
                and len(digits) <= _MAX_ID_DIGITS
                and digits.isdigit()
                and digits.isascii()
            ):
                ack_id = int(digits)
            # An id out of range goes the general way, which says so before
            # it reads the JSON: both paths give the same verdict.
            if bracket > 0 and (not digits or (ack_id is not None and ack_id <= MAX_ACK_ID)):
                try:
                    payload, stop = _scan_json(text, bracket)
                except RecursionError:
                    raise MalformedPacket("nesting too deep", _over(self.max_depth)) from None
                except (ValueError, StopIteration):
                    detail = repr(text[bracket : bracket + 40])
                    raise MalformedPacket("invalid json", detail) from None
                if stop == len(text):
                    if stop >= self._deep_text:
                        _check_depth(text, payload, self.max_depth)
                    if ptype is EVENT:
                        _check_event(payload)
                    else:
                        _check(ptype, payload, ack_id)
                    return Packet(ptype, "/", payload, ack_id), 0
        if not text:
            raise MalformedPacket("empty packet")
        ptype = _TYPE_CHARS.get(text[0])
        if ptype is None:
            raise MalformedPacket("unknown packet type", repr(text[:1]))
        i, end = 1, len(text)

        attachments = 0
        if ptype in _BINARY_TYPES:
            dash = text.find("-", i)
            digits = text[i:dash] if dash >= 0 else ""
            if not (digits.isascii() and digits.isdigit()):
                raise MalformedPacket("bad attachment count", repr(text[i : i + 12]))
            # Checked on the digit count first: int() of a huge string is slow.
            if len(digits) > len(str(self.max_attachments)) or int(digits) > self.max_attachments:
                raise MalformedPacket("too many attachments", digits[:12])
            attachments = int(digits)
            if attachments == 0:
                # A binary packet without binary is a plain one in disguise;
                # Node's parser refuses it too ("Illegal attachments").
                raise MalformedPacket("bad attachment count", "a binary packet needs attachments")
            i = dash + 1

        nsp = "/"
        if i < end and text[i] == "/":
            comma = text.find(",", i)
            stop = end if comma < 0 else comma
            nsp = text[i:stop]
            i = stop if comma < 0 else comma + 1

        start = i
        while i < end and "0" <= text[i] <= "9":
            i += 1
        ack_id = None
        if i > start:
            if i - start > _MAX_ID_DIGITS or int(text[start:i]) > MAX_ACK_ID:
                raise MalformedPacket("bad ack id", text[start : start + 20])
            ack_id = int(text[start:i])

        data: Any = None
        if i < end:
            try:
                data = _DECODER.decode(text[i:])
            except RecursionError:
                raise MalformedPacket("nesting too deep", _over(self.max_depth)) from None
            except ValueError:
                raise MalformedPacket("invalid json", repr(text[i : i + 40])) from None
            if end >= self._deep_text:
                _check_depth(text, data, self.max_depth)

        query = None
        if self.revision == 4 and ptype == PacketType.CONNECT and "?" in nsp:
            nsp, _, query = nsp.partition("?")
        _check(ptype, data, ack_id)
        if query is not None and data is None:
            data = dict(parse_qsl(query, keep_blank_values=True))
        return Packet(ptype, nsp or "/", data, ack_id), attachments


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # JSON has no infinity, but float("1e999") is one: refused here, or the
    # value would decode and then fail every encoder it met (allow_nan=False).
    # Called for numbers with a fraction or an exponent only.
    value = float(text)
    if value - value:  # 0.0 for a finite value, NaN (true) for an infinity
        raise ValueError(f"{text[:20]} is out of range")
    return value


# Built once, not per packet.
_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
# One JSON value at an index: (value, end), the scanner json.loads ends in.
# Bad input raises JSONDecodeError, or StopIteration where the text ends
# before a value does. (Set by JSONDecoder.__init__; typeshed omits it.)
_scan_json: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def check_max_depth(max_depth: int) -> None:
    if not 1 <= max_depth <= MAX_DEPTH_CEILING:
        raise InvalidArgument(
            f"max_depth must be between 1 and {MAX_DEPTH_CEILING}, not {max_depth}"
        )


def _over(max_depth: int) -> str:
    return f"more than {max_depth} levels"


def _check_depth(text: str, data: Any, max_depth: int) -> None:
    """Refuse ``data`` when its arrays and objects nest deeper than
    ``max_depth``. Every level opens a bracket, so a text with few brackets
    passes on two C-speed counts; only the others are walked, without
    recursion. (Texts too short to nest that deep are not even counted.)"""
    if text.count("[") + text.count("{") <= max_depth or not isinstance(data, (list, dict)):
        return
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            if isinstance(child, (list, dict)):
                if depth >= max_depth:
                    raise MalformedPacket("nesting too deep", _over(max_depth))
                stack.append((child, depth + 1))


def _check(ptype: PacketType, data: Any, ack_id: int | None) -> None:
    """The payload rules of each packet type."""
    if ptype in EVENT_TYPES:
        _check_event(data)
    elif ptype in ACK_TYPES:
        if ack_id is None:
            raise MalformedPacket("bad ack id", "an ack needs an id")
        if not isinstance(data, list):
            raise MalformedPacket("invalid payload", "an ack needs an array")
    elif ack_id is not None:
        raise MalformedPacket("bad ack id", f"{ptype.name} takes no id")
    elif ptype == PacketType.CONNECT:
        if data is not None and not isinstance(data, dict):
            raise MalformedPacket("invalid payload", "CONNECT takes an object")
    elif ptype == PacketType.DISCONNECT:
        if data is not None:
            raise MalformedPacket("invalid payload", "DISCONNECT takes no payload")
    elif ptype == PacketType.CONNECT_ERROR and not isinstance(data, (str, dict)):
        raise MalformedPacket("invalid payload", "CONNECT_ERROR takes a string or an object")


def check_event(event: object) -> str:
    """An event name the application emits: a string, and not a reserved one."""
    if not isinstance(event, str):
        raise InvalidArgumentType(f"event names are strings, not {type(event).__name__}")
    if event in RESERVED_EVENTS:
        raise InvalidArgument(f"{event!r} is a reserved event name")
    return event


def _check_event(data: Any) -> None:
    if not isinstance(data, list) or not data:
        raise MalformedPacket("invalid payload", "an event needs a non-empty array")
    if not isinstance(data[0], str):
        raise MalformedPacket("bad event name", type(data[0]).__name__)
    if data[0] in RESERVED_EVENTS:
        raise MalformedPacket("reserved event name", data[0])


def _restore(packet: Packet, buffers: list[bytes]) -> Packet:
    """Put the attachments back where their placeholders are.

    Iterative, so that a deeply nested (but valid) payload cannot exhaust the
    stack. The containers were freshly parsed, so they are changed in place.
    """
    data = packet.data
    root = [data]
    stack: list[list[Any] | dict[str, Any]] = [root]
    while stack:
        container = stack.pop()
        keys: Any = container.keys() if isinstance(container, dict) else range(len(container))
        for key in keys:
            value = container[key]
            if isinstance(value, dict):
                if value.get("_placeholder") is True:
                    container[key] = _attachment(value.get("num"), buffers)
                else:
                    stack.append(value)
            elif isinstance(value, list):
                stack.append(value)
    return Packet(packet.type, packet.nsp, root[0], packet.id)


def _attachment(num: Any, buffers: list[bytes]) -> bytes:
    # bool is an int in Python but not a number in JSON's sense.
    if type(num) is not int or not 0 <= num < len(buffers):
        raise MalformedPacket("bad placeholder", repr(num)[:20])
    return buffers[num]


def decode(messages: list[Data], revision: int = 5, **options: Any) -> Packet:
    """Decode one complete packet (header and attachments) at once."""
    decoder = Decoder(revision, **options)
    packet: Packet | None = None
    for i, message in enumerate(messages):
        packet = decoder.feed(message)
        if packet is not None and i != len(messages) - 1:
            raise MalformedPacket("unexpected binary", "more attachments than announced")
    if packet is None:
        raise MalformedPacket("missing attachment", "fewer attachments than announced")
    return packet
