"""permessage-deflate, sans-IO: the negotiation of offers, the frames out and
the bounded inflate of the frames in. The client side is zlib used here
directly (and the frame encoder of test_ws_frames), never the code under test."""

from __future__ import annotations

import tracemalloc
import zlib

import pytest
from test_ws_frames import BINARY, CONT, PING, TEXT, client_frame, decode_server_frame

from realtime.protocol.engineio import Message
from realtime.transports.deflate import (
    MessageDeflate,
    PerMessageDeflate,
    negotiate,
    per_message_deflate_setting,
)
from realtime.transports.websocket import FrameError, FrameReader, deflated_wire_bytes

RSV1 = 0x40
DEFAULT = PerMessageDeflate()


def agreed(offer: str = "permessage-deflate", setting: PerMessageDeflate = DEFAULT) -> str | None:
    agreement = negotiate(offer, setting)
    return None if agreement is None else agreement.response


# -- negotiation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offer", "answer"),
    [
        ("permessage-deflate", "permessage-deflate"),
        # what ws (Node) and browsers offer
        ("permessage-deflate; client_max_window_bits", "permessage-deflate"),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate; server_max_window_bits=10",
        ),
        (
            'permessage-deflate; server_max_window_bits="12"',  # a quoted value
            "permessage-deflate; server_max_window_bits=12",
        ),
        # an unacceptable first offer, an acceptable second
        (
            "permessage-deflate; server_max_window_bits=8, permessage-deflate",
            "permessage-deflate",
        ),
        ("permessage-deflate; unknown_param", None),
        ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
        ("permessage-deflate; server_max_window_bits=16", None),
        ("permessage-deflate; server_max_window_bits", None),
        ("permessage-deflate; server_no_context_takeover=1", None),
        ("x-webkit-deflate-frame", None),
        ("", None),
    ],
)
def test_offers(offer: str, answer: str | None) -> None:
    assert agreed(offer) == answer


def test_the_server_settings_shape_the_answer() -> None:
    setting = PerMessageDeflate(
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=11,
        client_max_window_bits=10,
    )
    assert agreed("permessage-deflate; client_max_window_bits", setting) == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
        " server_max_window_bits=11; client_max_window_bits=10"
    )
    # client_max_window_bits only to a client that offered to take it
    assert agreed("permessage-deflate", setting) == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
        " server_max_window_bits=11"
    )
    # the client's smaller window wins
    assert agreed("permessage-deflate; server_max_window_bits=9", setting) == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
        " server_max_window_bits=9"
    )


def test_the_option() -> None:
    assert per_message_deflate_setting(False) is None
    assert per_message_deflate_setting(True) == DEFAULT
    assert per_message_deflate_setting({"threshold": 0}) == PerMessageDeflate(threshold=0)
    for bad in ({"threshold": -1}, {"server_max_window_bits": 8}, {"level": 12}):
        with pytest.raises(ValueError):
            per_message_deflate_setting(bad)
    with pytest.raises(TypeError):
        per_message_deflate_setting({"speed": 1})


# -- frames out -----------------------------------------------------------------------


def _deflate(offer: str = "permessage-deflate", **setting: int | bool) -> MessageDeflate:
    agreement = negotiate(offer, PerMessageDeflate(**setting))  # type: ignore[arg-type]
    assert agreement is not None
    return MessageDeflate(agreement)


def _server_messages(data: bytes, inflater: zlib._Decompress) -> list[tuple[int, bool, bytes]]:
    """(opcode, compressed, payload) of each server frame in ``data``."""
    out = []
    while data:
        frame, data = decode_server_frame(data)
        payload = frame.payload
        if frame.rsv & RSV1:
            payload = inflater.decompress(payload + b"\x00\x00\xff\xff")
        out.append((frame.opcode, bool(frame.rsv & RSV1), payload))
    return out


def test_messages_from_the_threshold_on_are_compressed_with_context_takeover() -> None:
    deflate = _deflate(threshold=100)
    big = ",".join(str(i * 7919 % 10007) for i in range(400))  # compresses to about half
    shared = Message(big)
    client = zlib.decompressobj(-15)
    first = deflated_wire_bytes(["small", big, shared, b"\x01" * 300], 4, deflate)
    assert _server_messages(first, client) == [
        (TEXT, False, b"4small"),
        (TEXT, True, b"4" + big.encode()),
        (TEXT, True, b"4" + big.encode()),
        (BINARY, True, b"\x01" * 300),
    ]
    # The context carries over: the same text again costs a few bytes.
    again = deflated_wire_bytes([big], 4, deflate)
    assert len(again) < 40 < len(big) // 4 < len(deflated_wire_bytes([big], 4, _deflate()))
    assert _server_messages(again, client) == [(TEXT, True, b"4" + big.encode())]


def test_without_server_context_takeover_each_message_stands_alone() -> None:
    deflate = _deflate("permessage-deflate; server_no_context_takeover", threshold=0)
    for _ in range(2):
        (frame,) = _server_messages(
            deflated_wire_bytes(["z" * 500], 4, deflate), zlib.decompressobj(-15)
        )
        assert frame == (TEXT, True, b"4" + b"z" * 500)


# -- frames in ------------------------------------------------------------------------


def _client_deflate(data: bytes, packer: zlib._Compress | None = None) -> bytes:
    packer = packer or zlib.compressobj(6, zlib.DEFLATED, -15)
    out = packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def test_compressed_messages_are_inflated_whole_and_in_fragments() -> None:
    reader = FrameReader(10_000, deflate=_deflate())
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    one = _client_deflate(b'42["a","' + b"q" * 3000 + b'"]', packer)
    two = _client_deflate(b'42["a","' + b"q" * 3000 + b'"]', packer)  # uses the first's context
    half = len(two) // 2
    events = reader.feed(
        client_frame(TEXT, one, rsv=RSV1)
        + client_frame(TEXT, two[:half], rsv=RSV1, fin=False)
        + client_frame(CONT, two[half:])
        + client_frame(TEXT, b"4plain")
    )
    assert events == ['42["a","' + "q" * 3000 + '"]'] * 2 + ["4plain"]


def test_a_deflate_bomb_is_refused_at_the_bound_without_inflating_it_all() -> None:
    bound = 100_000
    bomb = _client_deflate(b"\x00" * 50_000_000)  # 50 MB of zeros in about 50 KB
    assert len(bomb) < bound
    reader = FrameReader(bound, deflate=_deflate())
    tracemalloc.start()
    try:
        with pytest.raises(FrameError) as caught:
            reader.feed(client_frame(BINARY, bomb, rsv=RSV1))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == 1009
    # What the bomb made the server hold: its frame and the bound, not 50 MB.
    assert peak < 4 * bound + 4 * len(bomb), peak


def test_exactly_the_bound_inflates() -> None:
    reader = FrameReader(5000, deflate=_deflate())
    assert reader.feed(client_frame(BINARY, _client_deflate(b"\x07" * 5000), rsv=RSV1)) == [
        b"\x07" * 5000
    ]
    with pytest.raises(FrameError) as caught:
        reader.feed(client_frame(BINARY, _client_deflate(b"\x07" * 5001), rsv=RSV1))
    assert caught.value.code == 1009


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        (client_frame(TEXT, b"not deflate at all", rsv=RSV1), 1007),
        (client_frame(TEXT, _client_deflate(b"\xff\xfe"), rsv=RSV1), 1007),  # not UTF-8
        (client_frame(PING, b"", rsv=RSV1), 1002),
        (client_frame(TEXT, b"4a", fin=False) + client_frame(CONT, b"b", rsv=RSV1), 1002),
        (client_frame(TEXT, b"4a", rsv=0x20), 1002),
    ],
)
def test_broken_compressed_frames(frames: bytes, code: int) -> None:
    with pytest.raises(FrameError) as caught:
        FrameReader(1000, deflate=_deflate()).feed(frames)
    assert caught.value.code == code


def test_rsv1_without_the_extension_is_refused() -> None:
    with pytest.raises(FrameError) as caught:
        FrameReader(1000).feed(client_frame(TEXT, _client_deflate(b"4a"), rsv=RSV1))
    assert caught.value.code == 1002


def test_a_client_asked_for_8_bits_may_compress_with_9() -> None:
    # zlib (and so Chromium and Node) compresses an 8-bit window with 9 bits.
    setting = PerMessageDeflate(client_max_window_bits=8)
    agreement = negotiate("permessage-deflate; client_max_window_bits", setting)
    assert agreement is not None and agreement.response.endswith("client_max_window_bits=8")
    block = bytes((i * 167 + 13) % 256 for i in range(400))  # repeats 400 bytes apart
    text = block * 10
    packer = zlib.compressobj(9, zlib.DEFLATED, -9)
    reader = FrameReader(10_000, deflate=MessageDeflate(agreement))
    assert reader.feed(client_frame(BINARY, _client_deflate(text, packer), rsv=RSV1)) == [text]


def test_zlib_state_is_made_when_needed_and_dropped_without_context_takeover() -> None:
    both = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    for offer, kept in (("permessage-deflate", True), (both, False)):
        deflate = _deflate(offer, threshold=100)
        reader = FrameReader(10_000, deflate=deflate)
        deflated_wire_bytes(["small", b"tiny"], 4, deflate)
        reader.feed(client_frame(TEXT, b"4plain"))
        assert deflate._deflater is None and deflate._inflater is None  # nothing compressed yet
        deflated_wire_bytes(["y" * 500], 4, deflate)
        reader.feed(client_frame(TEXT, _client_deflate(b"4" + b"z" * 500), rsv=RSV1))
        assert (deflate._deflater is not None) is kept
        assert (deflate._inflater is not None) is kept
