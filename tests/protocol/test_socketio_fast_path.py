"""The decoder's fast path for ``2[...]``, ``2<id>[...]`` and ``3<id>[...]``
must agree with its general path, on numbers JSON cannot write back and on
nesting too.

``2/,[...]`` names the main namespace explicitly, which sends the same packet
through the general path, so the two spellings must decode alike, and fail
alike.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime.protocol.socketio import (
    DEFAULT_MAX_DEPTH,
    MAX_DEPTH_CEILING,
    Decoder,
    MalformedPacket,
    Packet,
    PacketType,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def decode(text: str) -> Packet | str:
    try:
        packet = Decoder(5).feed(text)
    except MalformedPacket as exc:
        return exc.kind
    assert packet is not None
    return packet


@given(st.lists(json_values, max_size=5))
def test_json_arrays_decode_alike(items: list[Any]) -> None:
    payload = json.dumps(items)
    assert decode("2" + payload) == decode("2/," + payload)


@given(st.text(max_size=30))
def test_arbitrary_payloads_decode_or_fail_alike(tail: str) -> None:
    assert decode("2[" + tail) == decode("2/,[" + tail)


def test_the_fast_path_still_checks_events() -> None:
    assert decode('2["connect"]') == "reserved event name"
    assert decode("2[]") == "invalid payload"
    assert decode("2[1]") == "bad event name"
    assert decode("2[NaN]") == "invalid json"
    assert decode('2["ok",1]') == Packet(PacketType.EVENT, "/", ["ok", 1], None)


def test_what_the_fast_path_leaves_unread_is_judged_like_the_general_path() -> None:
    # The fast path scans one JSON value; whitespace after it is still JSON,
    # anything else is not, and a value cut short is not either.
    assert decode('2["ok",1] \n') == Packet(PacketType.EVENT, "/", ["ok", 1], None)
    for text in ('2["ok"]x', '2["ok"],[]', "2[", "2[ ", '2["ok",', '2["ok"'):
        assert decode(text) == "invalid json", text
        assert decode(text) == decode("2/," + text[1:]), text


ack_ids = st.one_of(
    st.integers(min_value=0, max_value=2**60).map(str),
    st.sampled_from(["007", "9007199254740991", "9007199254740992", "1" * 17, "٣", "1x"]),
)


@given(st.sampled_from("23"), ack_ids, st.lists(json_values, max_size=4))
def test_ids_decode_alike(ptype: str, ack_id: str, items: list[Any]) -> None:
    payload = json.dumps(items)
    assert decode(ptype + ack_id + payload) == decode(ptype + "/," + ack_id + payload)


@given(st.sampled_from("23"), st.text("0123456789 -x٣", max_size=20), st.text(max_size=20))
def test_whatever_precedes_the_bracket_decodes_or_fails_alike(
    ptype: str, head: str, tail: str
) -> None:
    text = head + "[" + tail
    assert decode(ptype + text) == decode(ptype + "/," + text)


def test_an_id_out_of_range_is_judged_before_the_payload() -> None:
    # Found by a random example: the fast path read the JSON first and said
    # "invalid json", the general path "bad ack id".
    for payload in ("[Infinity]", "[NaN]", '["ok"]', "[1e999]"):
        text = "29007199254740992" + payload
        assert decode(text) == decode("2/," + text[1:]) == "bad ack id"


def test_the_fast_path_reads_ids_and_acks() -> None:
    assert decode('212["ok",1]') == Packet(PacketType.EVENT, "/", ["ok", 1], 12)
    assert decode("312[1]") == Packet(PacketType.ACK, "/", [1], 12)
    assert decode("3[1]") == "bad ack id"
    assert decode("312{}") == "invalid payload"
    assert decode('29007199254740992["ok"]') == "bad ack id"


# -- numbers JSON cannot carry back, and nesting -------------------------------------

any_floats = st.floats(allow_nan=True, allow_infinity=True)


@given(st.lists(json_values | any_floats, max_size=5), st.sampled_from(["2", "21", "3", "31"]))
def test_payloads_with_any_float_decode_or_fail_alike(items: list[Any], head: str) -> None:
    payload = json.dumps(["ev", *items])  # NaN and Infinity as Python writes them
    fast, general = decode(head + payload), decode(head[0] + "/," + head[1:] + payload)
    assert fast == general
    if isinstance(fast, Packet):
        # What decodes can be sent back: no NaN, no infinity.
        json.dumps(fast.data, allow_nan=False)


@given(
    st.text(alphabet='[]{}":,1e9-.E+ \\nNaInfity', max_size=40),
    st.sampled_from(["2", "21", "3", "31"]),
)
def test_numbers_and_brackets_decode_or_fail_alike(tail: str, head: str) -> None:
    text = "[" + tail
    assert decode(head + text) == decode(head[0] + "/," + head[1:] + text)


def test_numbers_json_cannot_encode_are_refused_on_both_paths() -> None:
    for number in ("1e999", "-1e999", "1E400", "NaN", "Infinity", "-Infinity", "1.5e309"):
        for head in ("2", "21", "2/chat,", "2/chat,1"):
            assert decode(f'{head}["ev",{number}]') == "invalid json", (head, number)
    # Small and tiny numbers are fine: 1e-999 is 0.0, which JSON can write.
    packet = decode('2["ev",1e-999,1.5,1e308]')
    assert isinstance(packet, Packet) and packet.data == ["ev", 0.0, 1.5, 1e308]


def nested(depth: int) -> str:
    """``["ev", ...]`` whose arrays nest ``depth`` levels, the event's own included."""
    return '["ev",' + "[" * (depth - 1) + "]" * (depth - 1) + "]"


@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["2", "21", "31"]))
def test_any_nesting_decodes_or_fails_alike(depth: int, head: str) -> None:
    text = nested(depth)
    fast, general = decode(head + text), decode(head[0] + "/," + head[1:] + text)
    assert fast == general
    assert (fast == "nesting too deep") == (depth > DEFAULT_MAX_DEPTH)


def test_nesting_is_bounded_by_max_depth() -> None:
    assert isinstance(decode("2" + nested(DEFAULT_MAX_DEPTH)), Packet)
    assert decode("2" + nested(DEFAULT_MAX_DEPTH + 1)) == "nesting too deep"
    # objects count as arrays do
    deep_objects = '["ev",' + '{"a":' * DEFAULT_MAX_DEPTH + "1" + "}" * DEFAULT_MAX_DEPTH + "]"
    assert decode("2" + deep_objects) == "nesting too deep"
    # brackets inside strings are not nesting
    assert isinstance(decode('2["ev","' + "[" * 500 + '"]'), Packet)
    # far past the interpreter's recursion limit: the same clean verdict
    assert (
        decode("2" + nested(100_000)) == decode("2/," + nested(100_000)[0:]) == ("nesting too deep")
    )
    shallow = Decoder(5, max_depth=2)
    assert shallow.feed('2["ev",[1]]') == Packet(PacketType.EVENT, "/", ["ev", [1]], None)
    with pytest.raises(MalformedPacket, match="nesting too deep"):
        Decoder(5, max_depth=2).feed('2["ev",[[1]]]')


def test_max_depth_is_bounded() -> None:
    for bad in (0, -1, MAX_DEPTH_CEILING + 1):
        with pytest.raises(ValueError, match="max_depth"):
            Decoder(5, max_depth=bad)
