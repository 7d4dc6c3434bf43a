"""The sans-IO RFC 6455 layer: client frames in, events out; server frames out.

Client frames are built here by a small encoder of the test's own (never the
code under test), and server frames are read back by a small decoder of the
test's own, so a mistake shared by both sides cannot cancel out.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime.transports.websocket import (
    PONG,
    Close,
    FrameError,
    FrameReader,
    HandshakeError,
    Ping,
    accept_key,
    build_frame,
    close_frame,
    pong_frame,
    switching_protocols,
    unmask,
)

TEXT, BINARY, CLOSE, PING, PONG_OP, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0

# No example database left in the tree, no per-example deadline on a shared machine.
FAST = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- the test's own encoder and decoder -----------------------------------------------


def client_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
    masked: bool = True,
    form: int | None = None,
) -> bytes:
    """One client frame. ``form`` forces the length form (7, 16 or 64 bits)."""
    size = len(payload)
    if form is None:
        form = 7 if size < 126 else 16 if size < 65536 else 64
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    bit = 0x80 if masked else 0
    if form == 7:
        assert size < 126
        head += bytes([bit | size])
    elif form == 16:
        assert size < 65536
        head += bytes([bit | 126]) + size.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + size.to_bytes(8, "big")
    if not masked:
        return head + payload
    key = os.urandom(4) if mask is None else mask
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def header_only(opcode: int, size: int, *, fin: bool = True) -> bytes:
    """A masked frame header announcing ``size`` bytes, mask included, no payload."""
    first = bytes([(0x80 if fin else 0) | opcode])
    if size < 126:
        return first + bytes([0x80 | size]) + b"mask"
    if size < 65536:
        return first + bytes([0x80 | 126]) + size.to_bytes(2, "big") + b"mask"
    return first + bytes([0x80 | 127]) + size.to_bytes(8, "big") + b"mask"


@dataclass
class ServerFrame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes
    header_size: int


def decode_server_frame(data: bytes) -> tuple[ServerFrame, bytes]:
    """One server frame (unmasked, minimal length form) and what follows it."""
    assert len(data) >= 2
    b0, b1 = data[0], data[1]
    assert not b1 & 0x80, "server frames must not be masked"
    size = b1 & 0x7F
    pos = 2
    if size == 126:
        size = int.from_bytes(data[2:4], "big")
        assert size >= 126, "16-bit form used for a short payload"
        pos = 4
    elif size == 127:
        size = int.from_bytes(data[2:10], "big")
        assert size >= 65536, "64-bit form used for a payload that fits 16 bits"
        assert size >> 63 == 0
        pos = 10
    assert len(data) >= pos + size, "frame truncated"
    frame = ServerFrame(bool(b0 & 0x80), b0 & 0x70, b0 & 0x0F, data[pos : pos + size], pos)
    return frame, data[pos + size :]


def typed(events: Sequence[object]) -> list[tuple[type, object]]:
    """Events with their types: ``bytearray(b"x") == b"x"`` would hide a wrong type."""
    return [(type(e), e) for e in events]


def feed_all(reader: FrameReader, chunks: list[bytes]) -> list[object]:
    events: list[object] = []
    for chunk in chunks:
        events.extend(reader.feed(chunk))
    return events


def refused(data: bytes | list[bytes], max_size: int = 1 << 20) -> FrameError:
    reader = FrameReader(max_size)
    chunks = [data] if isinstance(data, bytes) else data
    with pytest.raises(FrameError) as info:
        feed_all(reader, chunks)
    return info.value


# -- masked data frames, every length form -------------------------------------------

SIZES = [
    (0, 7),
    (1, 7),
    (125, 7),
    (126, 16),
    (127, 16),
    (1000, 16),
    (65535, 16),
    (65536, 64),
    (70_000, 64),
]


@pytest.mark.parametrize(("size", "form"), SIZES)
def test_masked_binary_frame_in_each_length_form(size: int, form: int) -> None:
    rng = random.Random(size)
    payload = rng.randbytes(size)
    mask = rng.randbytes(4)
    frame = client_frame(BINARY, payload, mask=mask, form=form)
    assert len(frame) == {7: 2, 16: 4, 64: 10}[form] + 4 + size
    events = FrameReader(100_000).feed(frame)
    assert typed(events) == [(bytes, payload)]


@pytest.mark.parametrize(("size", "form"), SIZES)
def test_masked_text_frame_in_each_length_form(size: int, form: int) -> None:
    rng = random.Random(size)
    # Multi-byte characters throughout, padded with ASCII to the exact size.
    text = "".join(rng.choice("aé€𝄞") for _ in range(size // 4))
    text += "x" * (size - len(text.encode()))
    assert len(text.encode()) == size
    frame = client_frame(TEXT, text.encode(), mask=rng.randbytes(4), form=form)
    assert typed(FrameReader(100_000).feed(frame)) == [(str, text)]


@FAST
@given(
    payload=st.binary(max_size=300),
    mask=st.binary(min_size=4, max_size=4),
    text=st.booleans(),
)
def test_random_masks_give_back_the_payload(payload: bytes, mask: bytes, text: bool) -> None:
    message: str | bytes = payload
    frame = client_frame(BINARY, payload, mask=mask)
    if text:
        message = payload.decode("latin-1")  # some str, sent as UTF-8
        frame = client_frame(TEXT, message.encode(), mask=mask)
    assert typed(FrameReader(1000).feed(frame)) == [(type(message), message)]


def test_several_frames_in_one_feed_come_out_in_order() -> None:
    stream = (
        client_frame(TEXT, b"one")
        + client_frame(BINARY, b"\x00two")
        + client_frame(PING, b"p")
        + client_frame(PONG_OP, b"")
        + client_frame(TEXT, b"")
        + client_frame(BINARY, b"")
        + client_frame(CLOSE, struct.pack("!H", 1000) + b"bye")
    )
    events = FrameReader(1000).feed(stream)
    assert typed(events) == typed(
        ["one", b"\x00two", Ping(b"p"), PONG, "", b"", Close(1000, "bye")]
    )


def test_ping_payload_is_unmasked_and_up_to_125_bytes() -> None:
    payload = bytes(range(125))
    events = FrameReader(10).feed(client_frame(PING, payload))
    assert events == [Ping(payload)]
    assert isinstance(events[0], Ping) and type(events[0].payload) is bytes


# -- the same bytes in any split give the same events --------------------------------


def _stream() -> tuple[bytes, list[object]]:
    text = "héllo wörld €𝄞"
    raw = text.encode()
    big = bytes(range(256)) * 300  # 76800 bytes: 64-bit form
    mid = b"m" * 300  # 16-bit form
    frames = [
        client_frame(TEXT, b"first"),
        client_frame(TEXT, raw[:2], fin=False),  # "h" and half of "é"
        client_frame(PING, b"in the middle"),
        client_frame(CONT, raw[2:9], fin=False),
        client_frame(PONG_OP, b"x"),
        client_frame(CONT, raw[9:]),
        client_frame(BINARY, big),
        client_frame(BINARY, mid[:100], fin=False),
        client_frame(CONT, b"", fin=False),
        client_frame(CONT, mid[100:]),
        client_frame(PING, b""),
        client_frame(TEXT, b""),
        client_frame(CLOSE, struct.pack("!H", 4000) + "fin ✓".encode()),
    ]
    expected = [
        "first",
        Ping(b"in the middle"),
        PONG,
        text,
        big,
        mid,
        Ping(b""),
        "",
        Close(4000, "fin ✓"),
    ]
    return b"".join(frames), expected


STREAM, STREAM_EVENTS = _stream()


def test_whole_stream_in_one_feed() -> None:
    assert typed(FrameReader(100_000).feed(STREAM)) == typed(STREAM_EVENTS)


def test_stream_fed_byte_by_byte() -> None:
    reader = FrameReader(100_000)
    events = feed_all(reader, [STREAM[i : i + 1] for i in range(len(STREAM))])
    assert typed(events) == typed(STREAM_EVENTS)


def test_every_single_cut_of_the_small_frames() -> None:
    """Each cut point of the part without the big frames, fed as two pieces."""
    small = b"".join(
        [
            client_frame(TEXT, "aé".encode(), fin=False),
            client_frame(PING, b"pp"),
            client_frame(CONT, "€z".encode()),
            client_frame(BINARY, b"b" * 200),
            client_frame(CLOSE, b""),
        ]
    )
    expected = typed([Ping(b"pp"), "aé€z", b"b" * 200, Close(1005, "")])
    for cut in range(len(small) + 1):
        reader = FrameReader(1000)
        assert typed(feed_all(reader, [small[:cut], small[cut:]])) == expected, cut


@FAST
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=40))
def test_stream_in_random_chunks(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(STREAM)]
    chunks = [STREAM[a:b] for a, b in itertools.pairwise(points)]
    reader = FrameReader(100_000)
    assert typed(feed_all(reader, chunks)) == typed(STREAM_EVENTS)


@FAST
@given(data=st.data())
def test_random_messages_in_random_chunks(data: st.DataObject) -> None:
    """Random messages, each maybe fragmented with pings between, random chunks."""
    frames: list[bytes] = []
    expected: list[object] = []
    for _ in range(data.draw(st.integers(1, 6))):
        is_text = data.draw(st.booleans())
        message: str | bytes = (
            data.draw(st.text(max_size=60)) if is_text else data.draw(st.binary(max_size=60))
        )
        raw = message.encode() if isinstance(message, str) else message
        cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=3)))
        pieces = [raw[a:b] for a, b in itertools.pairwise([0, *cuts, len(raw)])]
        for index, piece in enumerate(pieces):
            opcode = (TEXT if is_text else BINARY) if index == 0 else CONT
            frames.append(client_frame(opcode, piece, fin=index == len(pieces) - 1))
            if index < len(pieces) - 1 and data.draw(st.booleans()):
                frames.append(client_frame(PING, b"%d" % index))
                expected.append(Ping(b"%d" % index))
        expected.append(message)
    stream = b"".join(frames)
    points = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    chunks = [stream[a:b] for a, b in itertools.pairwise([0, *points, len(stream)])]
    assert typed(feed_all(FrameReader(1000), chunks)) == typed(expected)


# -- fragmented messages -------------------------------------------------------------


def test_text_split_inside_every_utf8_sequence_still_decodes() -> None:
    text = "é€𝄞"  # 2, 3 and 4 bytes
    raw = text.encode()
    for cut in range(1, len(raw)):
        frames = client_frame(TEXT, raw[:cut], fin=False) + client_frame(CONT, raw[cut:])
        assert FrameReader(100).feed(frames) == [text], cut


def test_text_in_one_byte_continuation_frames() -> None:
    raw = "€𝄞é".encode()
    frames = client_frame(TEXT, raw[:1], fin=False)
    for i in range(1, len(raw) - 1):
        frames += client_frame(CONT, raw[i : i + 1], fin=False)
    frames += client_frame(CONT, raw[-1:])
    assert FrameReader(100).feed(frames) == ["€𝄞é"]


def test_fragmented_binary_with_empty_fragments() -> None:
    frames = (
        client_frame(BINARY, b"", fin=False)
        + client_frame(CONT, b"ab", fin=False)
        + client_frame(CONT, b"", fin=False)
        + client_frame(CONT, b"c")
    )
    assert typed(FrameReader(100).feed(frames)) == [(bytes, b"abc")]


def test_control_frames_inside_a_fragmented_message() -> None:
    frames = (
        client_frame(TEXT, b"a", fin=False)
        + client_frame(PING, b"1")
        + client_frame(CONT, b"b", fin=False)
        + client_frame(PONG_OP, b"2")
        + client_frame(PING, b"3")
        + client_frame(CONT, b"c")
        + client_frame(TEXT, b"next")
    )
    events = FrameReader(100).feed(frames)
    assert typed(events) == typed([Ping(b"1"), PONG, Ping(b"3"), "abc", "next"])


def test_close_inside_a_fragmented_message_is_reported() -> None:
    frames = client_frame(TEXT, b"a", fin=False) + client_frame(CLOSE, struct.pack("!H", 1001))
    assert FrameReader(100).feed(frames) == [Close(1001, "")]


def test_fragment_state_resets_after_each_message() -> None:
    """Two fragmented messages of exactly max_size each, back to back."""
    reader = FrameReader(10)
    one = client_frame(BINARY, b"0123", fin=False) + client_frame(CONT, b"456789")
    two = client_frame(TEXT, b"abcde", fin=False) + client_frame(CONT, b"fghij")
    assert typed(reader.feed(one + two)) == typed([b"0123456789", "abcdefghij"])
    assert reader.feed(client_frame(TEXT, b"x" * 10)) == ["x" * 10]


# -- protocol errors -----------------------------------------------------------------


def test_unmasked_client_frame_is_refused_from_its_first_two_bytes() -> None:
    frame = client_frame(TEXT, b"hello", masked=False)
    assert refused(frame[:2]).code == 1002
    assert refused(frame).code == 1002


def test_unmasked_frame_after_good_ones_in_a_later_feed() -> None:
    reader = FrameReader(100)
    assert reader.feed(client_frame(TEXT, b"ok")) == ["ok"]
    with pytest.raises(FrameError) as info:
        reader.feed(client_frame(PING, b"", masked=False))
    assert info.value.code == 1002


@pytest.mark.parametrize("rsv", [0x40, 0x20, 0x10, 0x70])
@pytest.mark.parametrize("opcode", [TEXT, BINARY, PING, CONT])
def test_reserved_bits_are_refused(rsv: int, opcode: int) -> None:
    assert refused(client_frame(opcode, b"x", rsv=rsv)).code == 1002


@pytest.mark.parametrize("opcode", [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_unknown_opcodes_are_refused(opcode: int) -> None:
    assert refused(client_frame(opcode, b"x")).code == 1002
    assert refused(client_frame(opcode, b"")).code == 1002


def test_continuation_without_a_message_is_refused() -> None:
    assert refused(client_frame(CONT, b"x")).code == 1002
    assert refused(client_frame(CONT, b"x", fin=False)).code == 1002
    # ... and after a message that was complete.
    assert refused(client_frame(TEXT, b"a") + client_frame(CONT, b"b")).code == 1002


@pytest.mark.parametrize("first", [TEXT, BINARY])
@pytest.mark.parametrize("second", [TEXT, BINARY])
@pytest.mark.parametrize("second_fin", [True, False])
def test_new_message_inside_a_fragmented_one_is_refused(
    first: int, second: int, second_fin: bool
) -> None:
    stream = client_frame(first, b"a", fin=False) + client_frame(second, b"b", fin=second_fin)
    assert refused(stream).code == 1002


@pytest.mark.parametrize("opcode", [PING, PONG_OP, CLOSE])
def test_control_frame_over_125_bytes_is_refused_from_its_header(opcode: int) -> None:
    frame = client_frame(opcode, b"\x03\xe8" + b"r" * 124)  # 126 bytes, 16-bit form
    assert refused(frame[:4]).code == 1002  # before any payload
    assert refused(frame).code == 1002
    assert refused(client_frame(opcode, b"\x03\xe8" + b"r" * 70_000)).code == 1002


@pytest.mark.parametrize("opcode", [PING, PONG_OP, CLOSE])
def test_fragmented_control_frame_is_refused(opcode: int) -> None:
    assert refused(client_frame(opcode, b"", fin=False)).code == 1002
    inside = client_frame(TEXT, b"a", fin=False) + client_frame(opcode, b"", fin=False)
    assert refused(inside).code == 1002


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff",
        b"\xc3",  # truncated 2-byte sequence
        b"\xe2\x82",  # truncated 3-byte sequence
        b"\xc0\xaf",  # overlong "/"
        b"\xed\xa0\x80",  # UTF-16 surrogate
        b"\xf4\x90\x80\x80",  # above U+10FFFF
        b"ok \x80",
    ],
)
def test_invalid_utf8_text_is_refused_with_1007(raw: bytes) -> None:
    assert refused(client_frame(TEXT, raw)).code == 1007
    # Fragmented: only the whole message can be judged.
    half = len(raw) // 2
    fragmented = client_frame(TEXT, raw[:half], fin=False) + client_frame(CONT, raw[half:])
    assert refused(fragmented).code == 1007


def test_invalid_utf8_binary_is_fine() -> None:
    assert FrameReader(10).feed(client_frame(BINARY, b"\xff\xc0")) == [b"\xff\xc0"]


# -- max_size ------------------------------------------------------------------------


@pytest.mark.parametrize("opcode", [TEXT, BINARY])
@pytest.mark.parametrize("size", [11, 125, 126, 65535, 65536, 1 << 40, (1 << 64) - 1])
def test_message_over_max_size_is_refused_on_its_header(opcode: int, size: int) -> None:
    head = header_only(opcode, size)
    # The length alone decides: without the mask, and with it.
    assert refused(head[:-4], max_size=10).code == 1009
    assert refused(head, max_size=10).code == 1009


def test_header_split_then_refused_once_the_length_is_known() -> None:
    head = header_only(BINARY, 70_000)  # 2 + 8 + 4 bytes
    reader = FrameReader(65536)
    for i in range(9):  # the 64-bit length is incomplete until byte 10
        assert reader.feed(head[i : i + 1]) == []
    with pytest.raises(FrameError) as info:
        reader.feed(head[9:10])
    assert info.value.code == 1009


def test_message_of_exactly_max_size_is_accepted() -> None:
    for size in (10, 126, 65536):
        assert FrameReader(size).feed(client_frame(BINARY, b"z" * size)) == [b"z" * size]
        assert refused(client_frame(BINARY, b"z" * (size + 1)), max_size=size).code == 1009


def test_fragments_over_max_size_are_refused_on_the_offending_header() -> None:
    reader = FrameReader(100)
    assert reader.feed(client_frame(TEXT, b"a" * 60, fin=False)) == []
    assert reader.feed(client_frame(CONT, b"b" * 40, fin=False)) == []  # exactly 100 so far
    assert reader.feed(client_frame(PING, b"ping does not count")) == [Ping(b"ping does not count")]
    with pytest.raises(FrameError) as info:
        reader.feed(header_only(CONT, 1))  # no payload yet
    assert info.value.code == 1009


def test_fragments_just_within_max_size_are_accepted() -> None:
    frames = (
        client_frame(BINARY, b"a" * 60, fin=False)
        + client_frame(CONT, b"b" * 39, fin=False)
        + client_frame(CONT, b"c")
    )
    assert FrameReader(100).feed(frames) == [b"a" * 60 + b"b" * 39 + b"c"]


def test_reader_buffers_no_more_than_a_frame() -> None:
    """A slow client: a max_size frame arrives in pieces; the reader keeps only it."""
    reader = FrameReader(1000)
    frame = client_frame(BINARY, b"q" * 1000)
    for i in range(0, len(frame) - 1, 7):
        assert reader.feed(frame[i : min(i + 7, len(frame) - 1)]) == []
    assert len(reader._buffer) == len(frame) - 1
    assert reader.feed(frame[-1:]) == [b"q" * 1000]
    assert len(reader._buffer) == 0


# -- close frames ----------------------------------------------------------------------


def test_empty_close_means_1005() -> None:
    assert FrameReader(10).feed(client_frame(CLOSE, b"")) == [Close(1005, "")]


def test_one_byte_close_body_is_refused() -> None:
    assert refused(client_frame(CLOSE, b"\x03")).code == 1002


@pytest.mark.parametrize(
    "code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
)
def test_invalid_close_codes_are_refused(code: int) -> None:
    assert refused(client_frame(CLOSE, struct.pack("!H", code))).code == 1002
    assert refused(client_frame(CLOSE, struct.pack("!H", code) + b"why")).code == 1002


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (1000, ""),
        (1000, "bye"),
        (1001, "going away"),
        (1003, ""),
        (1007, "bad data"),
        (1008, ""),
        (1011, "oops"),
        (3000, "app-defined ✓"),
        (4999, "x" * 123),
    ],
)
def test_valid_close_codes_with_reasons(code: int, reason: str) -> None:
    frame = client_frame(CLOSE, struct.pack("!H", code) + reason.encode())
    assert FrameReader(10).feed(frame) == [Close(code, reason)]


@pytest.mark.parametrize("reason", [b"\xff", b"ok\xc3", b"\xed\xa0\x80"])
def test_close_reason_not_utf8_is_refused_with_1007(reason: bytes) -> None:
    assert refused(client_frame(CLOSE, struct.pack("!H", 1000) + reason)).code == 1007


# -- the opening handshake -------------------------------------------------------------

RFC_HEADERS = {
    "host": "server.example.com",
    "upgrade": "websocket",
    "connection": "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
}


def test_accept_key_matches_the_rfc_example() -> None:
    assert accept_key(RFC_HEADERS) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@FAST
@given(key=st.binary(min_size=16, max_size=16))
def test_accept_key_for_random_keys(key: bytes) -> None:
    encoded = base64.b64encode(key).decode()
    expected = base64.b64encode(
        hashlib.sha1((encoded + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    ).decode()
    assert accept_key({**RFC_HEADERS, "sec-websocket-key": encoded}) == expected


@pytest.mark.parametrize(
    "changes",
    [
        {"upgrade": "WebSocket"},
        {"connection": "keep-alive, Upgrade"},
        {"connection": "upgrade"},
        {"sec-websocket-key": " dGhlIHNhbXBsZSBub25jZQ== "},
    ],
)
def test_accept_key_tolerates_case_and_lists(changes: dict[str, str]) -> None:
    assert accept_key({**RFC_HEADERS, **changes}) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize(
    "changes",
    [
        {"sec-websocket-key": None},
        {"sec-websocket-key": ""},
        {"sec-websocket-key": base64.b64encode(b"15 bytes only!!").decode()},
        {"sec-websocket-key": base64.b64encode(b"seventeen bytes!!").decode()},
        {"sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ"},  # padding missing
        {"sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ=!"},
        {"sec-websocket-key": "not base64 at all, no....."},
        {"sec-websocket-key": "dGhlIHNhbXBsZSBub25jZé=="},
        {"sec-websocket-version": None},
        {"sec-websocket-version": "8"},
        {"sec-websocket-version": "12"},
        {"sec-websocket-version": "14"},
        {"connection": None},
        {"connection": "keep-alive"},
        {"upgrade": None},
        {"upgrade": "h2c"},
    ],
)
def test_accept_key_refusals(changes: dict[str, str | None]) -> None:
    headers = {**RFC_HEADERS, **changes}
    with pytest.raises(HandshakeError):
        accept_key({k: v for k, v in headers.items() if v is not None})


def test_short_key_refusal_says_the_key_is_too_short() -> None:
    """Regression: a well-formed base64 key of the wrong length was reported
    as "not base64" (the length check raised inside the ``try`` whose
    ``except ValueError`` also caught HandshakeError)."""
    short = base64.b64encode(b"15 bytes only!!").decode()
    with pytest.raises(HandshakeError) as info:
        accept_key({**RFC_HEADERS, "sec-websocket-key": short})
    assert "16 bytes" in str(info.value)


def test_switching_protocols_is_a_complete_101() -> None:
    answer = switching_protocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    assert answer.endswith(b"\r\n\r\n")
    lines = answer[:-4].split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 101 Switching Protocols"
    headers = {k.lower(): v for k, v in (line.split(b": ", 1) for line in lines[1:])}
    assert headers == {
        b"upgrade": b"websocket",
        b"connection": b"Upgrade",
        b"sec-websocket-accept": b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    }


# -- frames out ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "header"),
    [(0, 2), (1, 2), (125, 2), (126, 4), (127, 4), (65535, 4), (65536, 10), (65537, 10)],
)
def test_build_frame_length_boundaries_round_trip(size: int, header: int) -> None:
    payload = random.Random(size).randbytes(size)
    frame, rest = decode_server_frame(build_frame(payload))
    assert rest == b""
    assert (frame.fin, frame.rsv, frame.opcode, frame.header_size) == (True, 0, BINARY, header)
    assert frame.payload == payload

    text = "é" * (size // 2) + "x" * (size % 2)  # ``size`` bytes once encoded
    frame, rest = decode_server_frame(build_frame(text))
    assert rest == b""
    assert (frame.fin, frame.opcode, frame.header_size) == (True, TEXT, header)
    assert frame.payload.decode() == text


def test_built_frames_concatenate() -> None:
    data = build_frame("a") + build_frame(b"b" * 300) + pong_frame(b"p") + close_frame(1001, "x")
    frames = []
    while data:
        frame, data = decode_server_frame(data)
        frames.append((frame.opcode, frame.payload))
    assert frames == [
        (TEXT, b"a"),
        (BINARY, b"b" * 300),
        (PONG_OP, b"p"),
        (CLOSE, b"\x03\xe9x"),
    ]


@pytest.mark.parametrize("payload", [b"", b"x", bytes(range(125))])
def test_pong_frame_echoes_the_payload(payload: bytes) -> None:
    frame, rest = decode_server_frame(pong_frame(payload))
    assert (rest, frame.fin, frame.opcode, frame.payload) == (b"", True, PONG_OP, payload)


@pytest.mark.parametrize(
    ("code", "reason"), [(1000, ""), (1002, "protocol error"), (1009, "message too big")]
)
def test_close_frame_layout(code: int, reason: str) -> None:
    frame, rest = decode_server_frame(close_frame(code, reason))
    assert (rest, frame.fin, frame.opcode) == (b"", True, CLOSE)
    assert frame.payload == struct.pack("!H", code) + reason.encode()


def test_close_frame_default_is_1000() -> None:
    frame, _ = decode_server_frame(close_frame())
    assert frame.payload == b"\x03\xe8"


def test_close_frame_long_reason_keeps_it_a_control_frame() -> None:
    frame, _ = decode_server_frame(close_frame(1000, "r" * 500))
    assert len(frame.payload) <= 125
    assert frame.payload[2:] == b"r" * len(frame.payload[2:])


@pytest.mark.parametrize(
    "reason",
    ["a" + "é" * 70, "a" + "€" * 50, "ab" + "𝄞" * 40],
    ids=["2-byte", "3-byte", "4-byte"],
)
def test_close_frame_cuts_a_long_reason_on_a_character_boundary(reason: str) -> None:
    """Regression: ``close_frame`` cut the encoded reason at 120 bytes
    wherever that fell, so a multi-byte character could be split and the
    client had to fail the connection with 1007 (RFC 6455 section 8.1)."""
    frame, _ = decode_server_frame(close_frame(1000, reason))
    assert len(frame.payload) <= 125
    body = frame.payload[2:]
    assert reason.encode().startswith(body)
    assert len(body) >= 117  # no more than the split character dropped
    body.decode("utf-8")


# -- unmask ----------------------------------------------------------------------------


def naive_unmask(payload: bytes, mask: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@FAST
@given(payload=st.binary(max_size=2000), mask=st.binary(min_size=4, max_size=4))
def test_unmask_matches_a_naive_xor(payload: bytes, mask: bytes) -> None:
    expected = naive_unmask(payload, mask)
    assert unmask(payload, mask) == expected
    assert unmask(bytearray(payload), bytearray(mask)) == expected
    assert type(unmask(bytearray(payload), mask)) is bytes
    assert unmask(expected, mask) == payload


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 7, 8, 9, 65536, 65537])
def test_unmask_sizes_around_the_mask_period(size: int) -> None:
    payload = random.Random(size).randbytes(size)
    for mask in (b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x01\x80\x00\xfe"):
        assert unmask(payload, mask) == naive_unmask(payload, mask)
