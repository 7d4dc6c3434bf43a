"""Engine.IO codecs against the golden vectors, both revisions."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from realtime.errors import DecodeError
from realtime.protocol import engineio as eio
from realtime.protocol.engineio import Packet, PacketType
from realtime.transports import polling, websocket

VECTORS = Path(__file__).parent.parent / "vectors"
V4 = json.loads((VECTORS / "engineio_v4.json").read_text("utf-8"))
V3 = json.loads((VECTORS / "engineio_v3.json").read_text("utf-8"))


def packet(spec: dict[str, Any]) -> Packet:
    ptype = PacketType[spec["type"].upper()]
    if "base64" in spec:
        return Packet(ptype, base64.b64decode(spec["base64"]))
    return Packet(ptype, spec["data"])


@pytest.mark.parametrize("case", V4["packets"], ids=lambda c: c["name"])
def test_v4_packet(case: dict[str, Any]) -> None:
    p = packet(case["packet"])
    assert eio.encode_text_v4(p) == case["text"]
    assert eio.decode_text(case["text"], 4) == p
    if "ws_base64" in case:
        frame = base64.b64decode(case["ws_base64"])
        assert eio.encode_ws(p, 4) == frame
        assert eio.decode_ws(frame, 4) == p
    elif not p.binary:
        assert eio.decode_ws(eio.encode_ws(p, 4), 4) == p


@pytest.mark.parametrize("case", V3["packets"], ids=lambda c: c["name"])
def test_v3_packet(case: dict[str, Any]) -> None:
    p = packet(case["packet"])
    assert eio.encode_text_v3(p) == case["text"]
    assert eio.decode_text(case["text"], 3) == p
    if "ws_base64" in case:
        frame = base64.b64decode(case["ws_base64"])
        assert eio.encode_ws(p, 3) == frame
        assert eio.decode_ws(frame, 3) == p


@pytest.mark.parametrize("case", V4["payloads"], ids=lambda c: c["name"])
def test_v4_payload(case: dict[str, Any]) -> None:
    packets = [packet(s) for s in case["packets"]]
    assert eio.encode_payload_v4(packets) == case["payload"]
    assert eio.decode_payload_v4(case["payload"]) == packets


@pytest.mark.parametrize("case", V3["payloads"], ids=lambda c: c["name"])
def test_v3_payload(case: dict[str, Any]) -> None:
    packets = [packet(s) for s in case["packets"]]
    assert eio.encode_payload_v3(packets) == case["payload"]
    assert eio.decode_payload_v3(case["payload"]) == packets


@pytest.mark.parametrize("case", V3["binary_payloads"], ids=lambda c: c["name"])
def test_v3_binary_payload(case: dict[str, Any]) -> None:
    packets = [packet(s) for s in case["packets"]]
    body = bytes.fromhex(case["binary_payload_hex"])
    assert eio.encode_binary_payload_v3(packets) == body
    assert eio.decode_binary_payload_v3(body) == packets


@pytest.mark.parametrize("body", V4["invalid_payloads"])
def test_v4_invalid_payload(body: str) -> None:
    with pytest.raises(DecodeError):
        eio.decode_payload_v4(body)


@pytest.mark.parametrize("body", V3["invalid_payloads"])
def test_v3_invalid_payload(body: str) -> None:
    with pytest.raises(DecodeError):
        eio.decode_payload_v3(body)


@pytest.mark.parametrize(
    "body",
    [b"", b"\x02\x01\xff4", b"\x00\x09\x09\xff4", b"\x00\xff", b"\x01\x01\xff\x09", b"\x00\x05"],
)
def test_v3_invalid_binary_payload(body: bytes) -> None:
    with pytest.raises(DecodeError):
        eio.decode_binary_payload_v3(body)


def test_utf16_length_matches_javascript() -> None:
    text = "a€😀\u2028"
    assert eio.utf16_length(text) == len(text.encode("utf-16-le")) // 2 == 5


def test_shared_message_encodes_each_framing_once() -> None:
    message = eio.Message("hi")
    first = polling.encode_text([message], 3)
    assert first == "3:4hi"
    assert message.frame("text3", lambda data: "not called") == first
    (frame,) = websocket.wire_frames([message], 4)
    assert frame == b"\x81\x034hi"
    assert websocket.wire_frames([message], 4)[0] is frame
    binary = eio.Message(b"\x01")
    assert websocket.wire_frames([binary], 3) == [b"\x82\x02\x04\x01"]
    assert websocket.wire_frames([binary], 4) == [b"\x82\x01\x01"]
    assert polling.encode_text([binary], 4) == "bAQ=="


@pytest.mark.parametrize("protocol", [3, 4])
@pytest.mark.parametrize(
    "items",
    [
        ["hi"],
        [""],
        ["é" * 70],  # 140 bytes: a 16-bit length
        ["x" * 124, "y"],
        ["x" * 125],  # 126 bytes with the "4"
        [b"\x01\x02"],
        [eio.Message("shared")],
        ["a", b"b", eio.Message("c")],
    ],
)
def test_wire_bytes_is_the_frames_joined(items: list[Any], protocol: int) -> None:
    # wire_bytes frames the usual single short text itself: it must agree.
    assert websocket.wire_bytes(items, protocol) == b"".join(websocket.wire_frames(items, protocol))
