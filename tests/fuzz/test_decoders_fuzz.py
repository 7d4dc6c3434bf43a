"""Every decoder against arbitrary input, and round trips from generated packets.

A decoder may only answer in two ways: a value, or the project's DecodeError
(MalformedPacket for Socket.IO, which is one). Anything else that escapes
(IndexError, ValueError, UnicodeError, RecursionError...) is a bug: the engine
turns a DecodeError into a clean ``400`` and a closed session, while any other
exception escapes the request handler.

Tests named ``test_bug_*`` pin a bug found here; they fail until its fix lands.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

from hypothesis import example, given
from hypothesis import strategies as st

from realtime.errors import BadRequest, DecodeError
from realtime.protocol import engineio as eio
from realtime.protocol import socketio as sio
from realtime.protocol.engineio import Message, Packet, PacketType
from realtime.transports import jsonp, polling

T = TypeVar("T")


def decoded_or_refused(decode: Callable[..., T], *args: Any) -> T | None:
    """The decoder's value, or None when it refused with DecodeError. Any other
    exception propagates and fails the test."""
    try:
        return decode(*args)
    except DecodeError:
        return None


# -- strategies ------------------------------------------------------------------------

PROTOCOLS = st.sampled_from([3, 4])

# Text off the wire is decoded UTF-8, so it never holds a lone surrogate
# (only a JSON escape like "\\ud800" can produce one, generated on purpose below).
NO_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
CHARS = st.characters(exclude_categories=NO_SURROGATES)
# Characters that decoders treat specially, mixed into otherwise arbitrary text
# so that examples hit the interesting paths often.
SPECIAL = st.sampled_from(
    ["\x1e", ":", "b", "4", "0", "😀", "𝄞", "\u2028", "\\", "\n", "n", "%", "&", "=", "\x00"]
)
# "²" and "٣" are digits to str.isdigit() (and "٣" to int()) but not to a wire format.
UNICODE_DIGITS = st.characters(categories=("Nd", "No"))
TEXT = st.text(alphabet=st.one_of(CHARS, SPECIAL, UNICODE_DIGITS), max_size=40)
NO_SEPARATOR = st.text(
    alphabet=st.one_of(
        st.characters(exclude_characters="\x1e", exclude_categories=NO_SURROGATES),
        st.sampled_from(["😀", ":"]),
    ),
    max_size=40,
)

EIO_TEXT = st.one_of(
    TEXT,
    st.tuples(st.sampled_from(["", "b", "b4", "b9", "b7", "4", "2", "6", "7"]), TEXT).map("".join),
    st.binary(max_size=30).map(lambda b: "b" + base64.b64encode(b).decode()),
    st.binary(max_size=30).map(lambda b: "b4" + base64.b64encode(b).decode()),
)

V3_TEXT_PAYLOAD = st.one_of(
    TEXT,
    st.lists(
        st.tuples(
            st.one_of(
                st.integers(0, 40).map(str),
                st.text(UNICODE_DIGITS, min_size=1, max_size=3),
                st.text(max_size=3),
                st.just("99999999999999"),
            ),
            st.sampled_from([":", ":", ";", ""]),
            EIO_TEXT,
        ).map("".join),
        max_size=5,
    ).map("".join),
)

V3_BINARY_PAYLOAD = st.one_of(
    st.binary(max_size=60),
    st.lists(
        st.tuples(
            st.sampled_from([b"\x00", b"\x01", b"\x02", b"4", b""]),
            st.lists(st.integers(0, 12), max_size=12).map(bytes),
            st.sampled_from([b"\xff", b"\xff", b""]),
            st.one_of(st.binary(max_size=20), TEXT.map(lambda t: t.encode())),
        ).map(b"".join),
        max_size=5,
    ).map(b"".join),
)


def eio_packets(protocol: int, *, separator_free: bool = False) -> st.SearchStrategy[Packet]:
    """Packets each revision can carry: EIO 4 text payloads cannot hold \\x1e,
    and EIO 4 sends binary only as MESSAGE."""
    text = NO_SEPARATOR if separator_free else TEXT
    text_packets = st.builds(Packet, st.sampled_from(list(PacketType)), text)
    if protocol == 4:
        binary = st.builds(Packet, st.just(PacketType.MESSAGE), st.binary(max_size=30))
    else:
        binary = st.builds(Packet, st.sampled_from(list(PacketType)), st.binary(max_size=30))
    return st.one_of(text_packets, binary)


# -- Engine.IO: arbitrary input --------------------------------------------------------


@given(EIO_TEXT, PROTOCOLS)
def test_decode_text_answers_a_packet_or_decode_error(text: str, protocol: int) -> None:
    packet = decoded_or_refused(eio.decode_text, text, protocol)
    if packet is None:
        return
    assert isinstance(packet.type, PacketType)
    encoded = (eio.encode_text_v4 if protocol == 4 else eio.encode_text_v3)(packet)
    assert eio.decode_text(encoded, protocol) == packet


@given(st.one_of(EIO_TEXT, st.binary(max_size=40)), PROTOCOLS)
def test_decode_ws_answers_a_packet_or_decode_error(frame: str | bytes, protocol: int) -> None:
    packet = decoded_or_refused(eio.decode_ws, frame, protocol)
    if packet is None:
        return
    if isinstance(frame, str):
        assert not frame.startswith("b")  # base64 belongs to polling only
    assert eio.decode_ws(eio.encode_ws(packet, protocol), protocol) == packet


@given(st.one_of(TEXT, st.lists(EIO_TEXT, max_size=6).map("\x1e".join)))
def test_decode_payload_v4_answers_packets_or_decode_error(body: str) -> None:
    packets = decoded_or_refused(eio.decode_payload_v4, body)
    if packets is None:
        return
    assert len(packets) == body.count("\x1e") + 1
    assert eio.decode_payload_v4(eio.encode_payload_v4(packets)) == packets


@given(V3_TEXT_PAYLOAD)
@example("²:4x")  # a superscript two passes str.isdigit() but not int()
def test_decode_payload_v3_answers_packets_or_decode_error(body: str) -> None:
    packets = decoded_or_refused(eio.decode_payload_v3, body)
    if packets is None:
        return
    assert packets and eio.decode_payload_v3(eio.encode_payload_v3(packets)) == packets


def test_bug_payload_v3_length_must_be_ascii_digits() -> None:
    """Lengths are ASCII digits. "²" made int() raise ValueError (escaping the
    engine); U+0661 (an Arabic-Indic one) was read as a length of 1."""
    for body in ("²:4x", "\u0661:4", "1\u0661:4xxxxxxxxxx"):
        assert decoded_or_refused(eio.decode_payload_v3, body) is None, body


@given(V3_BINARY_PAYLOAD)
def test_decode_binary_payload_v3_answers_packets_or_decode_error(body: bytes) -> None:
    packets = decoded_or_refused(eio.decode_binary_payload_v3, body)
    if packets is None:
        return
    assert packets
    assert eio.decode_binary_payload_v3(eio.encode_binary_payload_v3(packets)) == packets


@given(st.one_of(V3_BINARY_PAYLOAD, V3_TEXT_PAYLOAD.map(str.encode), st.binary()), PROTOCOLS)
def test_polling_decode_body_answers_packets_or_decode_error(body: bytes, protocol: int) -> None:
    packets = decoded_or_refused(polling.decode_body, body, "text/plain", protocol)
    assert packets is None or all(isinstance(p, Packet) for p in packets)


FORM_BODIES = st.one_of(
    st.binary(max_size=60),
    st.dictionaries(st.sampled_from(["d", "j", "x", ""]), TEXT, max_size=3).map(
        lambda fields: urlencode(fields).encode()
    ),
    st.lists(st.sampled_from(["d=", "%", "%e2%80", "%ff", "+", "&", "=", "\\n", "%5C"]))
    .map("".join)
    .map(str.encode),
    st.integers(1, 40).map(lambda n: "&".join(["d=4x"] * n).encode()),
)


@given(FORM_BODIES, PROTOCOLS)
def test_jsonp_unwrap_answers_text_or_decode_error(body: bytes, protocol: int) -> None:
    text = decoded_or_refused(jsonp.unwrap, body)
    if text is not None:
        decoded_or_refused(polling.decode_text_body, text, protocol)


@given(TEXT)
@example("²")
@example("٣")
def test_jsonp_callback_index_is_ascii_digits_or_bad_request(raw: str) -> None:
    try:
        index = jsonp.callback_index(raw)
    except BadRequest:
        return
    # It is written into JavaScript source: only 0-9 make a valid index there.
    assert index.isascii() and index.isdigit()


def test_bug_jsonp_callback_index_refuses_unicode_digits() -> None:
    """``j=²`` was accepted and the answer began ``___eio[²](``: not JavaScript."""
    for raw in ("²", "٣", "1٣"):
        try:
            jsonp.callback_index(raw)
        except BadRequest:
            continue
        raise AssertionError(f"{raw!r} accepted as a JSONP index")


# -- Engine.IO: round trips from packets ---------------------------------------------


@given(st.lists(eio_packets(4, separator_free=True), min_size=1, max_size=6))
def test_payload_v4_round_trip(packets: list[Packet]) -> None:
    encoded = eio.encode_payload_v4(packets)
    assert eio.decode_payload_v4(encoded) == packets
    assert eio.encode_payload_v4(eio.decode_payload_v4(encoded)) == encoded


@given(st.lists(eio_packets(3), min_size=1, max_size=6))
def test_payload_v3_round_trip_with_separators_and_astral_text(packets: list[Packet]) -> None:
    encoded = eio.encode_payload_v3(packets)
    assert eio.decode_payload_v3(encoded) == packets
    assert eio.encode_payload_v3(eio.decode_payload_v3(encoded)) == encoded


@given(st.lists(eio_packets(3), min_size=1, max_size=6))
def test_binary_payload_v3_round_trip(packets: list[Packet]) -> None:
    encoded = eio.encode_binary_payload_v3(packets)
    assert eio.decode_binary_payload_v3(encoded) == packets
    assert eio.encode_binary_payload_v3(eio.decode_binary_payload_v3(encoded)) == encoded


@given(st.data(), PROTOCOLS)
def test_websocket_frame_round_trip(data: st.DataObject, protocol: int) -> None:
    packet = data.draw(eio_packets(protocol))
    frame = eio.encode_ws(packet, protocol)
    assert eio.decode_ws(frame, protocol) == packet
    assert eio.encode_ws(eio.decode_ws(frame, protocol), protocol) == frame


@given(st.lists(st.one_of(NO_SEPARATOR, st.binary(max_size=20)), min_size=1, max_size=6))
def test_shared_messages_decode_like_packets(datas: list[str | bytes]) -> None:
    """Cached broadcast encodings read back as the MESSAGE packets they stand for."""
    want = [Packet(PacketType.MESSAGE, d) for d in datas]
    for protocol in (3, 4):
        for b64 in (True, False):
            body, ctype = polling.encode_body([Message(d) for d in datas], protocol, b64)
            assert polling.decode_body(body, ctype, protocol) == want


@given(TEXT)
def test_utf16_length_counts_code_units(text: str) -> None:
    assert eio.utf16_length(text) == len(text.encode("utf-16-le")) // 2


def client_escape(payload: str) -> str:
    """What engine.io-client's JSONP transport writes into its form field."""
    return payload.replace("\\n", "\\\n").replace("\n", "\\n")


@given(TEXT.filter(lambda t: "\\\n" not in t), PROTOCOLS)
def test_jsonp_round_trip(payload: str, protocol: int) -> None:
    # A backslash right before a newline cannot survive the client's escaping
    # (the envelope is ambiguous there, in every engine.io server alike).
    body = urlencode({"d": client_escape(payload)}).encode()
    assert jsonp.unwrap(body) == payload
    script = jsonp.wrap(payload, "7").decode()
    assert script.startswith("___eio[7](") and script.endswith(");")
    assert "\u2028" not in script and "\u2029" not in script
    assert json.loads(script[len("___eio[7](") : -2]) == payload


# -- Socket.IO -------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
KEYS = TEXT.filter(lambda k: k != "_placeholder")


def json_values(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(KEYS, kids, max_size=4)),
        max_leaves=12,
    )


JSON = json_values(SCALARS)
JSON_WITH_BYTES = json_values(st.one_of(SCALARS, st.binary(max_size=12)))
EVENT_NAMES = TEXT.filter(lambda n: n not in sio.RESERVED_EVENTS)
ACK_IDS = st.integers(0, sio.MAX_ACK_ID)


def namespaces(revision: int) -> st.SearchStrategy[str]:
    # A revision 4 CONNECT reads "?" as the start of its query.
    banned = ",?" if revision == 4 else ","
    rest = st.text(
        alphabet=st.characters(exclude_characters=banned, exclude_categories=NO_SURROGATES),
        max_size=12,
    )
    return st.one_of(st.just("/"), rest.map(lambda r: "/" + r))


def sio_packets(revision: int) -> st.SearchStrategy[sio.Packet]:
    P, nsp = sio.PacketType, namespaces(revision)
    return st.one_of(
        st.builds(
            sio.Packet,
            st.just(P.CONNECT),
            nsp,
            st.one_of(st.none(), st.dictionaries(KEYS, JSON, max_size=3)),
        ),
        st.builds(sio.Packet, st.just(P.DISCONNECT), nsp),
        st.builds(
            sio.Packet,
            st.just(P.EVENT),
            nsp,
            st.tuples(EVENT_NAMES, st.lists(JSON_WITH_BYTES, max_size=4)).map(
                lambda t: [t[0], *t[1]]
            ),
            st.one_of(st.none(), ACK_IDS),
        ),
        st.builds(sio.Packet, st.just(P.ACK), nsp, st.lists(JSON_WITH_BYTES, max_size=4), ACK_IDS),
        st.builds(
            sio.Packet,
            st.just(P.CONNECT_ERROR),
            nsp,
            st.one_of(TEXT, st.fixed_dictionaries({"message": TEXT}, optional={"data": JSON})),
        ),
    )


def has_bytes(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):
            return True
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def as_sent(packet: sio.Packet) -> sio.Packet:
    """The packet the peer decodes: binary data makes EVENT/ACK their binary kinds."""
    binary = {
        sio.PacketType.EVENT: sio.PacketType.BINARY_EVENT,
        sio.PacketType.ACK: sio.PacketType.BINARY_ACK,
    }
    if packet.type in binary and has_bytes(packet.data):
        return sio.Packet(binary[packet.type], packet.nsp, packet.data, packet.id)
    return packet


# The decoder's cap on attachments is a rule of its own: out of the way here.
ANY_ATTACHMENTS = 1000


@given(st.data(), st.sampled_from([4, 5]))
def test_socketio_round_trip_with_attachments(data: st.DataObject, revision: int) -> None:
    packet = data.draw(sio_packets(revision))
    messages = sio.encode(packet)
    decoded = sio.decode(messages, revision, max_attachments=ANY_ATTACHMENTS)
    assert decoded == as_sent(packet)
    assert sio.encode(decoded) == messages


@given(st.data(), st.sampled_from([4, 5]))
def test_socketio_stream_of_packets_decodes_in_order(data: st.DataObject, revision: int) -> None:
    packets = data.draw(st.lists(sio_packets(revision), max_size=6))
    decoder = sio.Decoder(revision, max_attachments=ANY_ATTACHMENTS)
    out = []
    for packet in packets:
        for message in sio.encode(packet):
            got = decoder.feed(message)
            if got is not None:
                out.append(got)
    assert out == [as_sent(p) for p in packets]
    assert not decoder.awaiting_attachments


def test_socketio_v4_connect_query_becomes_auth() -> None:
    packet = sio.decode(["0/chat?token=a%20b&x=,"], 4)
    assert (packet.nsp, packet.data) == ("/chat", {"token": "a b", "x": ""})


PLACEHOLDERS = st.builds(
    lambda num: {"_placeholder": True, "num": num},
    st.one_of(st.integers(-2, 12), st.booleans(), st.none(), st.text(max_size=2), st.floats()),
)
GARBAGE_JSON = st.one_of(
    json_values(st.one_of(SCALARS, PLACEHOLDERS)).map(lambda v: json.dumps(v)),
    TEXT,
    st.sampled_from(["[", "{", '["a"', "NaN", "[Infinity]", '["a",NaN]', "[1e999]", "-"]),
    # JSON escapes that decode to lone surrogates, which UTF-8 cannot carry.
    st.sampled_from(['["e","\\ud800"]', '["e",{"\\udfff":["\\ud83d"]}]', '"\\udc00"']),
)
SIO_HEADERS = st.tuples(
    st.one_of(st.sampled_from("0123456789"), UNICODE_DIGITS, CHARS),
    st.sampled_from(["", "", "0-", "1-", "2-", "11-", "99999999999-", "-", "x-", "٣-"]),
    st.sampled_from(["", "", "/", "/a,", "/a?x=1&y,", "/a", ",", "/a?%zz,"]),
    st.one_of(st.just(""), ACK_IDS.map(str), st.just("9" * 40)),
    st.one_of(st.just(""), GARBAGE_JSON),
).map("".join)
SIO_MESSAGES = st.lists(
    st.one_of(SIO_HEADERS, TEXT, st.binary(max_size=12)), min_size=1, max_size=8
)


def no_placeholder_left(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("_placeholder") is True:
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def check_reencodes(packet: sio.Packet, revision: int) -> None:
    """A decoded packet can be sent back (an echo, a broadcast): its encoding
    is valid UTF-8 and decodes to the same packet."""
    try:
        messages = sio.encode(packet)
    except ValueError:
        # "1e999" decodes to inf, which JSON cannot carry back; encode() says so.
        assert "inf" in repr(packet.data)
        return
    for message in messages:
        if isinstance(message, str):
            message.encode("utf-8")
    assert sio.decode(messages, revision) == packet


def check_packet(packet: sio.Packet, header: str) -> None:
    """What the layers above rely on in a decoded packet."""
    P = sio.PacketType
    assert header[0] == str(int(packet.type)), "the type is the header's first digit"
    assert packet.nsp.startswith("/")
    assert packet.id is None or 0 <= packet.id <= sio.MAX_ACK_ID
    if packet.is_event:
        assert isinstance(packet.data, list) and packet.data
        assert isinstance(packet.data[0], str) and packet.data[0] not in sio.RESERVED_EVENTS
    elif packet.is_ack:
        assert packet.id is not None and isinstance(packet.data, list)
    elif packet.type is P.CONNECT:
        assert packet.data is None or isinstance(packet.data, dict)
    elif packet.type is P.DISCONNECT:
        assert packet.data is None
    if packet.type in (P.BINARY_EVENT, P.BINARY_ACK):
        assert no_placeholder_left(packet.data)


@given(SIO_MESSAGES, st.sampled_from([4, 5]))
@example(["٣1[]"], 5)  # an Arabic-Indic three is a digit to int(), not to the protocol
@example(['2["e","\\ud800"]'], 5)  # a lone surrogate: JSON can name it, UTF-8 cannot carry it
def test_socketio_decoder_answers_packets_or_malformed(
    messages: list[str | bytes], revision: int
) -> None:
    decoder = sio.Decoder(revision, max_attachments=3)
    header = ""
    for message in messages:
        if isinstance(message, str) and not decoder.awaiting_attachments:
            header = message
        try:
            packet = decoder.feed(message)
        except sio.MalformedPacket as exc:
            assert isinstance(exc, DecodeError) and exc.kind
            return  # the connection is closed after this: the decoder is done
        if packet is not None:
            check_packet(packet, header)
            check_reencodes(packet, revision)


def test_bug_lone_surrogate_from_json_is_sent_back_escaped() -> None:
    """``"\\ud800"`` is valid JSON for a lone surrogate. Echoed or broadcast, it
    was written raw into the text frame or polling body, whose UTF-8 encoding
    then raised UnicodeEncodeError (for every recipient of a broadcast)."""
    packet = sio.decode(['2["e","\\ud800",{"k\\udc00":1}]'], 5)
    assert packet.data == ["e", "\ud800", {"k\udc00": 1}]
    [text] = sio.encode(packet)
    assert isinstance(text, str)
    text.encode("utf-8")
    assert sio.decode([text], 5) == packet


def test_bug_socketio_packet_type_must_be_an_ascii_digit() -> None:
    """int() reads "٣" as 3: the packet was taken for an ACK, where the
    reference parser (Number()) refuses it."""
    for header in ("\u06631[]", '\u0662["a"]', "\u0660"):
        assert decoded_or_refused(sio.Decoder(5).feed, header) is None, header


DEPTHS = [10, 400, 5_000, 100_000]
NESTINGS = [("[", "]"), ('{"a":', "}")]
# Headers whose JSON payload the nesting goes into, and what closes them.
CARRIERS = [('2["e",', "]"), ("31[", "]"), ('51-["e",', "]"), ("0", "")]


def test_deeply_nested_json_is_refused_or_decoded_never_recursion_error() -> None:
    decoded_depths = set()
    for depth in DEPTHS:
        for opener, closer in NESTINGS:
            for head, tail in CARRIERS:
                unterminated = head + opener * depth
                assert decoded_or_refused(sio.Decoder(5).feed, unterminated) is None
                complete = head + opener * depth + "1" + closer * depth + tail
                decoder = sio.Decoder(5)
                try:
                    packet = decoder.feed(complete)
                    if decoder.awaiting_attachments:
                        packet = decoder.feed(b"\x00")
                except sio.MalformedPacket:
                    continue
                assert packet is not None
                check_packet(packet, complete)
                decoded_depths.add(depth)
    assert 10 in decoded_depths  # shallow nesting is an ordinary payload


def test_deep_but_valid_binary_payload_is_restored_without_recursion() -> None:
    depth = sio.MAX_DEPTH_CEILING - 2
    header = "51-" + '["e",' + "[" * depth + '{"_placeholder":true,"num":0}' + "]" * depth + "]"
    packet = sio.decode([header, b"\x01\x02"], 5, max_depth=sio.MAX_DEPTH_CEILING)
    inner = packet.data[1]
    for _ in range(depth - 1):
        inner = inner[0]
    assert inner == [b"\x01\x02"]
