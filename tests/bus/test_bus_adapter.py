"""The in-memory adapter: membership, recipient choice, encode-once delivery."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from realtime.bus import BroadcastOptions, MemoryAdapter
from realtime.protocol.socketio import Packet, PacketType
from realtime.types import Data, SharedMessage


class Shared:
    def __init__(self, data: Data) -> None:
        self.data = data


class Recorder:
    def __init__(self) -> None:
        self.made: list[Shared] = []
        self.delivered: list[tuple[str, Sequence[SharedMessage]]] = []

    def make(self, data: Data) -> SharedMessage:
        message = Shared(data)
        self.made.append(message)
        return message

    def deliver(self, sid: str, messages: Sequence[SharedMessage]) -> None:
        self.delivered.append((sid, messages))

    def sids(self) -> list[str]:
        return [sid for sid, _ in self.delivered]


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def adapter(rec: Recorder) -> MemoryAdapter:
    adapter = MemoryAdapter("/", rec.deliver, rec.make)
    for sid in ("a", "b", "c", "d"):
        adapter.add_all(sid, [sid])
    adapter.add_all("a", ["red"])
    adapter.add_all("b", ["red", "blue"])
    adapter.add_all("c", ["blue"])
    return adapter


EVENT = Packet(PacketType.EVENT, "/", ["x"])


def opts(rooms: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> BroadcastOptions:
    return BroadcastOptions(frozenset(rooms), frozenset(skip))


def test_everyone_in_join_order(adapter: MemoryAdapter, rec: Recorder) -> None:
    assert adapter.broadcast(EVENT, opts()) == 4
    assert rec.sids() == ["a", "b", "c", "d"]


def test_one_room(adapter: MemoryAdapter) -> None:
    assert adapter.sockets(opts(("red",))) == ["a", "b"]


def test_several_rooms_are_a_union_without_duplicates(adapter: MemoryAdapter) -> None:
    assert sorted(adapter.sockets(opts(("red", "blue")))) == ["a", "b", "c"]


def test_all_but_some(adapter: MemoryAdapter) -> None:
    assert adapter.sockets(opts(skip=("b",))) == ["a", "c", "d"]
    assert adapter.sockets(opts(skip=("blue",))) == ["a", "d"]
    assert adapter.sockets(opts(("red",), skip=("a", "c"))) == ["b"]


def test_unknown_room_reaches_nobody_and_encodes_nothing(
    adapter: MemoryAdapter, rec: Recorder
) -> None:
    assert adapter.broadcast(Packet(PacketType.EVENT, "/", ["x", {1}]), opts(("nope",))) == 0
    assert rec.made == [] and rec.delivered == []


def test_encoded_once_and_shared(adapter: MemoryAdapter, rec: Recorder) -> None:
    adapter.broadcast(Packet(PacketType.EVENT, "/", ["bin", b"\x01"]), opts(("red", "blue")))
    assert [m.data for m in rec.made] == ['51-["bin",{"_placeholder":true,"num":0}]', b"\x01"]
    assert len(rec.delivered) == 3
    for _, messages in rec.delivered:
        assert len(messages) == 2
        assert messages[0] is rec.made[0] and messages[1] is rec.made[1]


def test_leave_and_delete_all(adapter: MemoryAdapter) -> None:
    adapter.delete("b", "red")
    assert adapter.sockets(opts(("red",))) == ["a"]
    assert adapter.socket_rooms("b") == frozenset({"b", "blue"})
    adapter.delete_all("c")
    assert adapter.socket_rooms("c") == frozenset()
    assert adapter.sockets(opts(("blue",))) == ["b"]
    assert "c" not in adapter.rooms()


def test_empty_rooms_disappear(adapter: MemoryAdapter) -> None:
    adapter.delete("a", "red")
    adapter.delete("b", "red")
    assert "red" not in adapter.rooms()
    adapter.delete("zz", "nowhere")  # unknown socket and room: nothing to do
    assert adapter.rooms() == frozenset({"a", "b", "c", "d", "blue"})


def test_serve_ignores_a_request_for_another_namespace(
    adapter: MemoryAdapter, rec: Recorder
) -> None:
    from realtime.bus.requests import Broadcast, FetchSockets

    replies: list[object] = []
    packet = Packet(PacketType.EVENT, "/other", ["x"])
    adapter.serve(Broadcast("/other", packet, BroadcastOptions()), replies.append)
    adapter.serve(FetchSockets("/other", BroadcastOptions(), "r1"), replies.append)
    assert rec.delivered == [] and replies == []
