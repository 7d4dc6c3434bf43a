"""The cross-node vocabulary: options and flags in Node's shape, socket details."""

from __future__ import annotations

import pytest

from realtime.bus import BroadcastFlags, BroadcastOptions, RequestKind, SocketDetails
from realtime.bus.requests import (
    BroadcastAck,
    BroadcastWithAck,
    FetchSockets,
    ServerSideEmit,
    SocketsJoin,
)


def test_options_in_nodes_shape_and_back() -> None:
    options = BroadcastOptions(
        frozenset({"b", "a"}),
        frozenset({"x"}),
        BroadcastFlags(local=True, volatile=True, timeout=1.5),
    )
    wire = options.to_json()
    assert wire == {
        "rooms": ["a", "b"],
        "except": ["x"],
        "flags": {"local": True, "volatile": True, "timeout": 1500},
    }
    assert BroadcastOptions.from_json(wire) == options


def test_flags_from_node_ignore_unknown_keys_and_wrong_types() -> None:
    flags = BroadcastFlags.from_json(
        {"volatile": True, "broadcast": True, "binary": False, "timeout": "soon", "compress": 1}
    )
    assert flags == BroadcastFlags(volatile=True)
    assert BroadcastFlags.from_json(None) == BroadcastFlags()
    assert BroadcastFlags.from_json({"timeout": True}).timeout is None
    assert BroadcastFlags().to_json() == {}


@pytest.mark.parametrize("bad", [{"rooms": "a"}, {"except": 3}, {"rooms": [], "flags": []}])
def test_malformed_options_are_a_value_error(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BroadcastOptions.from_json(bad)


def test_socket_details_round_trip() -> None:
    details = SocketDetails("s1", frozenset({"s1", "room"}), {"user": 7}, {"query": {"a": "1"}})
    wire = details.to_json()
    assert wire == {
        "id": "s1",
        "handshake": {"query": {"a": "1"}},
        "rooms": ["room", "s1"],
        "data": {"user": 7},
    }
    assert SocketDetails.from_json(wire) == details
    with pytest.raises(ValueError):
        SocketDetails.from_json({"id": 3})
    with pytest.raises(ValueError):
        SocketDetails.from_json({"id": "s", "handshake": []})


def test_each_message_names_its_kind_with_the_redis_adapter_numbers() -> None:
    assert FetchSockets.kind is RequestKind.REMOTE_FETCH and RequestKind.REMOTE_FETCH == 5
    assert SocketsJoin.kind == 2
    assert BroadcastWithAck.kind == 7 and BroadcastAck.kind == 8 + 1
    assert ServerSideEmit.kind == 6
