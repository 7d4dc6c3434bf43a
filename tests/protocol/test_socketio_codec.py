"""The Socket.IO codec against the shared golden vectors, plus the cases that
only make sense from Python (buffer types, limits, deep nesting)."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import pytest

from realtime.errors import DecodeError
from realtime.protocol.socketio import (
    MAX_DEPTH_CEILING,
    Data,
    Decoder,
    MalformedPacket,
    Packet,
    PacketType,
    connect_answer,
    connect_error,
    decode,
    encode,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def _load(revision: int) -> dict[str, Any]:
    with open(VECTORS / f"socketio_v{revision}.json", encoding="utf-8") as f:
        vectors: dict[str, Any] = json.load(f)
    assert vectors["revision"] == revision
    return vectors


def _binary(value: Any) -> Any:
    """Vector notation -> Python: ``{"$base64": s}`` becomes bytes."""
    if isinstance(value, dict):
        if set(value) == {"$base64"}:
            return base64.b64decode(value["$base64"])
        return {k: _binary(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_binary(v) for v in value]
    return value


def _packet(spec: dict[str, Any]) -> Packet:
    return Packet(PacketType(spec["type"]), spec["nsp"], _binary(spec["data"]), spec["id"])


def _messages(encoded: list[str]) -> list[Data]:
    return [encoded[0], *(base64.b64decode(part) for part in encoded[1:])]


def _frames(frames: list[dict[str, str]]) -> list[Data]:
    return [f["text"] if "text" in f else base64.b64decode(f["binary"]) for f in frames]


def _cases(key: str) -> list[Any]:
    return [
        pytest.param(revision, case, id=f"v{revision}: {case['name']}")
        for revision in (4, 5)
        for case in _load(revision)[key]
    ]


@pytest.mark.parametrize(("revision", "case"), _cases("packets"))
def test_vector_decodes(revision: int, case: dict[str, Any]) -> None:
    assert decode(_messages(case["encoded"]), revision) == _packet(case["packet"])


@pytest.mark.parametrize(("revision", "case"), _cases("packets"))
def test_vector_encodes(revision: int, case: dict[str, Any]) -> None:
    if case.get("decode_only"):
        # A form peers may send but we never produce: we must at least not
        # produce it, so that the vector stays decode-only for a reason.
        assert encode(_packet(case["packet"])) != _messages(case["encoded"])
    else:
        assert encode(_packet(case["packet"])) == _messages(case["encoded"])


@pytest.mark.parametrize(("revision", "case"), _cases("malformed"))
def test_malformed_vector_is_refused(revision: int, case: dict[str, Any]) -> None:
    with pytest.raises(MalformedPacket) as info:
        decode(_frames(case["frames"]), revision)
    assert info.value.kind == case["error"]
    assert isinstance(info.value, DecodeError)  # the engine's error tree still applies


def test_vectors_cover_every_packet_type_in_both_revisions() -> None:
    for revision in (4, 5):
        types = {case["packet"]["type"] for case in _load(revision)["packets"]}
        assert types == {t.value for t in PacketType}


# -- encoding details ------------------------------------------------------------


def test_every_buffer_type_becomes_an_attachment() -> None:
    data = ["blob", bytearray(b"\x01"), memoryview(b"\x02\x03"), (b"\x04",)]
    header, *attachments = encode(Packet(PacketType.EVENT, "/", data))
    assert header == (
        '53-["blob",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},'
        '[{"_placeholder":true,"num":2}]]'
    )
    assert attachments == [b"\x01", b"\x02\x03", b"\x04"]
    assert all(type(a) is bytes for a in attachments)


def test_binary_ack_is_promoted_and_carries_its_id() -> None:
    encoded = encode(Packet(PacketType.ACK, "/chat", [b"\xff"], 3))
    assert encoded == ['61-/chat,3[{"_placeholder":true,"num":0}]', b"\xff"]


def test_encoding_leaves_the_callers_data_alone() -> None:
    args = ["x", {"blob": b"\x01", "list": [b"\x02"]}]
    before = repr(args)
    encode(Packet(PacketType.EVENT, "/", args))
    assert repr(args) == before


def test_nan_is_refused_rather_than_sent_as_invalid_json() -> None:
    with pytest.raises(ValueError):
        encode(Packet(PacketType.EVENT, "/", ["x", math.nan]))


def test_unserializable_value_raises_type_error() -> None:
    with pytest.raises(TypeError, match="set"):
        encode(Packet(PacketType.EVENT, "/", ["x", {1, 2}]))


def test_unserializable_value_is_one_clear_error_not_a_chain() -> None:
    """What a first emit of a wrong value shows: the type, and what may be
    sent; no "during handling of the above exception" second traceback."""
    with pytest.raises(TypeError) as caught:
        encode(Packet(PacketType.EVENT, "/", ["x", {"when": object()}]))
    assert str(caught.value).startswith("cannot send a value of type object: ")
    assert "JSON values" in str(caught.value) and "bytes" in str(caught.value)
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_binary_cannot_ride_in_a_connect_packet() -> None:
    with pytest.raises(TypeError, match="CONNECT"):
        encode(Packet(PacketType.CONNECT, "/", {"token": b"\x00"}))


def test_connect_answer_per_revision() -> None:
    assert encode(connect_answer("/", "abc", 5)) == ['0{"sid":"abc"}']
    assert encode(connect_answer("/admin", "abc", 5)) == ['0/admin,{"sid":"abc"}']
    assert encode(connect_answer("/", "abc", 4)) == ["0"]
    assert encode(connect_answer("/admin", "/admin#abc", 4)) == ["0/admin,"]


def test_connect_error_per_revision() -> None:
    assert encode(connect_error("/", "nope", None, 5)) == ['4{"message":"nope"}']
    assert encode(connect_error("/a", "nope", {"retry": 5}, 5)) == [
        '4/a,{"message":"nope","data":{"retry":5}}'
    ]
    assert encode(connect_error("/a", "nope", {"retry": 5}, 4)) == ['4/a,"nope"']


# -- decoding details ------------------------------------------------------------


def test_decoder_returns_the_packet_after_its_last_attachment_then_starts_over() -> None:
    decoder = Decoder(5)
    assert (
        decoder.feed('52-/x,9["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]')
        is None
    )
    assert decoder.awaiting_attachments
    assert decoder.feed(b"first") is None
    packet = decoder.feed(b"second")
    assert packet == Packet(PacketType.BINARY_EVENT, "/x", ["a", b"second", b"first"], 9)
    assert not decoder.awaiting_attachments
    assert decoder.feed('2["next"]') == Packet(PacketType.EVENT, "/", ["next"])


def test_attachment_bound_is_configurable() -> None:
    header = "53-" + json.dumps(["x"] + [{"_placeholder": True, "num": n} for n in range(3)])
    with pytest.raises(MalformedPacket) as info:
        Decoder(5, max_attachments=2).feed(header)
    assert info.value.kind == "too many attachments"
    assert Decoder(5, max_attachments=3).feed(header) is None


def test_placeholder_at_the_deepest_allowed_level_is_restored() -> None:
    depth = MAX_DEPTH_CEILING - 2  # the event's array and the placeholder take two levels
    header = "51-" + '["deep",' + "[" * depth + '{"_placeholder":true,"num":0}' + "]" * depth + "]"
    decoder = Decoder(5, max_depth=MAX_DEPTH_CEILING)
    assert decoder.feed(header) is None
    packet = decoder.feed(b"\x07")
    assert packet is not None
    node = packet.data[1]
    for _ in range(depth - 1):
        node = node[0]
    assert node == [b"\x07"]


def test_absurdly_deep_json_is_a_parse_error_not_a_crash() -> None:
    with pytest.raises(MalformedPacket) as info:
        Decoder(5).feed('2["x",' + "[" * 200_000 + "]" * 200_000 + "]")
    assert info.value.kind == "nesting too deep"


def test_revision_4_query_does_not_apply_to_revision_5() -> None:
    # Revision 5 clients never put a query in the namespace: it is just part of
    # the name, which then matches no namespace.
    assert decode(["0/admin?token=1,"], 5) == Packet(PacketType.CONNECT, "/admin?token=1")


def test_revision_4_query_on_the_default_namespace() -> None:
    assert decode(["0/?token=1,"], 4) == Packet(PacketType.CONNECT, "/", {"token": "1"})


def test_unknown_revision_is_refused() -> None:
    with pytest.raises(ValueError):
        Decoder(3)


def test_non_ascii_is_sent_raw_and_lone_surrogates_escaped() -> None:
    assert encode(Packet(PacketType.EVENT, "/", ["é", "✓"])) == ['2["é","✓"]']
    # A lone surrogate has no UTF-8 form: the whole payload is escaped instead.
    assert encode(Packet(PacketType.EVENT, "/", ["é", "\ud800"])) == ['2["\\u00e9","\\ud800"]']


def test_cycles_and_absurd_nesting_raise_value_error() -> None:
    cycle: list[Any] = ["x"]
    cycle.append(cycle)
    deep: list[Any] = ["x"]
    for _ in range(100_000):
        deep = [deep]
    for data in (cycle, deep):
        with pytest.raises(ValueError):
            encode(Packet(PacketType.EVENT, "/", data))


def test_encoder_without_the_c_accelerator_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    import json.encoder

    from realtime.protocol import socketio

    monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    python_chunks = socketio._plain_encoder()
    monkeypatch.setattr(socketio, "_plain_chunks", python_chunks)
    args = ["x", {"n": 1, "s": "é", "b": b"\x01", "l": [None, True, 1.5]}]
    packet = Packet(PacketType.EVENT, "/admin", args, 7)
    assert encode(packet) == [
        '51-/admin,7["x",{"n":1,"s":"é","b":{"_placeholder":true,"num":0},"l":[null,true,1.5]}]',
        b"\x01",
    ]
    with pytest.raises(ValueError):
        encode(Packet(PacketType.EVENT, "/", ["x", math.nan]))
    with pytest.raises(TypeError, match="set"):
        encode(Packet(PacketType.EVENT, "/", ["x", {1, 2}]))
