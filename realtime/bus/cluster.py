"""The cluster wire format: what nodes of one Socket.IO cluster tell each other.

The format is that of Node's ``@socket.io/redis-adapter`` 8.x and
``@socket.io/redis-emitter`` 5.x, so realtime nodes, Node nodes and emitters
of either share one cluster. This module turns typed messages into the plain
values (lists, dicts, str, int, bytes) that go on the wire and back; the
transport (Redis) and the byte codec (msgpack or JSON, :class:`Codec` says
which one a message takes) belong to the adapter that publishes.

Channels, for the key prefix ``p`` (default ``socket.io``) and namespace ``n``:

- ``p#n#`` a broadcast to the whole namespace, ``p#n#room#`` a broadcast to
  exactly one room (the room's own channel, so that a node with nobody in it
  can skip it without decoding); a node subscribes to the pattern ``p#n#*``.
- ``p-request#n#`` requests to every node; the number of its subscribers is
  the number of nodes (``PUBSUB NUMSUB``).
- ``p-response#n#`` (and ``p-response#n#uid#``) the answers.

A broadcast is ``[uid, packet, opts]`` in msgpack: ``packet`` is
``{"type": 2, "data": [event, *args], "nsp": n}`` (binary stays binary),
``opts`` is ``{"rooms": [...], "except": [...], "flags": {...}}``. The
publisher ignores its own messages by ``uid``; an emitter's uid is
``"emitter"``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..errors import RealtimeError
from ..protocol.socketio import Packet, PacketType
from .adapter import BroadcastOptions

DEFAULT_PREFIX: Final = "socket.io"
EMITTER_UID: Final = "emitter"


class RequestType(enum.IntEnum):
    """The request (and response) types, with Node's numbers."""

    SOCKETS = 0
    ALL_ROOMS = 1
    REMOTE_JOIN = 2
    REMOTE_LEAVE = 3
    REMOTE_DISCONNECT = 4
    REMOTE_FETCH = 5
    SERVER_SIDE_EMIT = 6
    BROADCAST = 7
    BROADCAST_CLIENT_COUNT = 8
    BROADCAST_ACK = 9


class Codec(enum.Enum):
    """How a message is turned into bytes. Node publishes broadcasts in
    msgpack, most requests and responses in JSON; a reader tells them apart
    by the first byte (``{`` is JSON)."""

    MSGPACK = "msgpack"
    JSON = "json"


class MalformedClusterMessage(RealtimeError):
    """A message on a cluster channel that is not of the format: dropped."""


@dataclass(frozen=True, slots=True)
class Channels:
    """The channel names of one namespace."""

    prefix: str
    nsp: str

    @property
    def broadcast(self) -> str:
        return f"{self.prefix}#{self.nsp}#"

    @property
    def pattern(self) -> str:
        return f"{self.prefix}#{self.nsp}#*"

    @property
    def request(self) -> str:
        return f"{self.prefix}-request#{self.nsp}#"

    @property
    def response(self) -> str:
        return f"{self.prefix}-response#{self.nsp}#"

    def specific_response(self, uid: str) -> str:
        return f"{self.response}{uid}#"

    def for_broadcast(self, options: BroadcastOptions) -> str:
        """A broadcast to exactly one room goes to that room's channel."""
        if len(options.rooms) == 1:
            (room,) = options.rooms
            return f"{self.broadcast}{room}#"
        return self.broadcast

    def room_of(self, channel: str) -> str | None:
        """The room a broadcast channel names ("" for the whole namespace),
        or None for a channel of another namespace."""
        head = self.broadcast
        if not channel.startswith(head) or not channel.endswith("#"):
            return None
        return channel[len(head) : -1]


@dataclass(frozen=True, slots=True)
class Broadcast:
    """One broadcast: ``packet`` to the sockets that ``options`` choose."""

    uid: str
    packet: Packet
    options: BroadcastOptions
    flags: Mapping[str, Any] = field(default_factory=dict)

    def to_wire(self) -> list[Any]:
        return [self.uid, packet_to_wire(self.packet), options_to_wire(self.options, self.flags)]

    @classmethod
    def from_wire(cls, value: Any) -> Broadcast:
        if not isinstance(value, list) or len(value) != 3:
            raise MalformedClusterMessage("a broadcast is [uid, packet, opts]")
        uid, packet, opts = value
        if not isinstance(uid, str):
            raise MalformedClusterMessage("the uid is not a string")
        options, flags = options_from_wire(opts)
        return cls(uid, packet_from_wire(packet), options, flags)


def packet_to_wire(packet: Packet) -> dict[str, Any]:
    # Node's encoder picks BINARY_EVENT itself when the data holds binary, and
    # would JSON-encode the buffers of a packet already marked binary.
    ptype = PacketType.ACK if packet.is_ack else PacketType.EVENT
    wire: dict[str, Any] = {"type": int(ptype), "data": packet.data, "nsp": packet.nsp}
    if packet.id is not None:
        wire["id"] = packet.id
    return wire


def packet_from_wire(value: Any) -> Packet:
    if not isinstance(value, dict):
        raise MalformedClusterMessage("the packet is not a map")
    ptype = value.get("type")
    if ptype not in (PacketType.EVENT, PacketType.BINARY_EVENT):
        raise MalformedClusterMessage(f"packet type {ptype!r} is not an event")
    data = value.get("data")
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        raise MalformedClusterMessage("the event data is not [name, *args]")
    nsp = value.get("nsp", "/")
    if not isinstance(nsp, str):
        raise MalformedClusterMessage("the namespace is not a string")
    ack_id = value.get("id")
    if ack_id is not None and (type(ack_id) is not int or ack_id < 0):
        raise MalformedClusterMessage("the ack id is not a non-negative integer")
    return Packet(PacketType.EVENT, nsp, data, ack_id)


def options_to_wire(
    options: BroadcastOptions, flags: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "rooms": sorted(options.rooms),
        "except": sorted(options.except_rooms),
        "flags": dict(flags or {}),
    }


def _room_names(value: Any, what: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise MalformedClusterMessage(f"{what} is not a list")
    names: set[str] = set()
    for room in value:
        # A Node application may use numbers as room names; they travel as
        # numbers and name the same room as their decimal string.
        if isinstance(room, str):
            names.add(room)
        elif type(room) is int or type(room) is float:
            names.add(_js_number(room))
        else:
            raise MalformedClusterMessage(f"{what} holds a {type(room).__name__}")
    return frozenset(names)


def _js_number(value: float) -> str:
    """A number as JavaScript's String() writes it (integral floats lose .0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def options_from_wire(value: Any) -> tuple[BroadcastOptions, dict[str, Any]]:
    if not isinstance(value, dict):
        raise MalformedClusterMessage("the options are not a map")
    flags = value.get("flags") or {}
    if not isinstance(flags, dict):
        raise MalformedClusterMessage("the flags are not a map")
    rooms = _room_names(value.get("rooms"), "rooms")
    except_rooms = _room_names(value.get("except"), "except")
    return BroadcastOptions(rooms, except_rooms), flags


@dataclass(frozen=True, slots=True)
class RoomsRequest:
    """The matching sockets join (REMOTE_JOIN) or leave (REMOTE_LEAVE) ``rooms``."""

    type: RequestType
    options: BroadcastOptions
    rooms: tuple[str, ...]
    uid: str | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {} if self.uid is None else {"uid": self.uid}
        wire.update(
            type=int(self.type),
            opts=_filters_to_wire(self.options),
            rooms=list(self.rooms),
        )
        return wire


@dataclass(frozen=True, slots=True)
class DisconnectRequest:
    """The matching sockets disconnect; ``close`` closes their connections too."""

    options: BroadcastOptions
    close: bool = False
    uid: str | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {} if self.uid is None else {"uid": self.uid}
        wire.update(
            type=int(RequestType.REMOTE_DISCONNECT),
            opts=_filters_to_wire(self.options),
            close=self.close,
        )
        return wire


@dataclass(frozen=True, slots=True)
class ServerSideEmit:
    """An event for the other servers' ``serverSideEmit`` handlers."""

    uid: str
    data: tuple[Any, ...]
    request_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"uid": self.uid}
        if self.request_id is not None:
            wire["requestId"] = self.request_id
        wire.update(type=int(RequestType.SERVER_SIDE_EMIT), data=list(self.data))
        return wire


def _filters_to_wire(options: BroadcastOptions) -> dict[str, list[str]]:
    return {"rooms": sorted(options.rooms), "except": sorted(options.except_rooms)}


def room_list(rooms: str | Iterable[str]) -> tuple[str, ...]:
    return (rooms,) if isinstance(rooms, str) else tuple(rooms)
