"""The cluster wire format: the typed requests of :mod:`realtime.bus.requests`
as Node's ``@socket.io/redis-adapter`` 8.x and ``@socket.io/redis-emitter``
5.x write them, so realtime nodes, Node nodes and emitters of either share
one cluster.

This module turns typed messages into the plain values (lists, maps, str,
int, bytes) that go on the wire and back; the transport (Redis) and the byte
codec (msgpack or JSON: :class:`Codec` says which one Node uses for each
message) belong to the adapter.

Channels, for the key prefix ``p`` (default ``socket.io``) and namespace ``n``:

- ``p#n#`` a broadcast to the whole namespace, ``p#n#room#`` a broadcast to
  exactly one room (so that a node with nobody in it skips it undecoded); a
  node subscribes to the pattern ``p#n#*``. The message is
  ``[uid, {"type": 2, "data": [event, *args], "nsp": n}, {"rooms", "except",
  "flags"}]`` in msgpack; the publisher drops its own by ``uid``, and an
  emitter's uid is ``"emitter"``.
- ``p-request#n#`` requests to every node, ``{"uid", "type", ...}`` (JSON, but
  msgpack for a broadcast with acks); its subscriber count is the number of
  nodes (``PUBSUB NUMSUB``).
- ``p-response#n#`` the replies, ``{"requestId", ...}``; a reply says its
  kind only through the request it answers (fetch and rooms replies carry no
  ``type``), so decoding one needs that request's kind.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from ..errors import InvalidArgumentType, RealtimeError
from ..protocol.socketio import Packet, PacketType
from .requests import (
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    BroadcastOptions,
    BroadcastWithAck,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsReply,
    Reply,
    Request,
    RequestKind,
    ServerSideEmit,
    ServerSideEmitReply,
    SocketDetails,
    SocketsJoin,
    SocketsLeave,
)

DEFAULT_PREFIX: Final = "socket.io"
EMITTER_UID: Final = "emitter"


class Codec(enum.Enum):
    """How a message becomes bytes. A reader tells them apart by the first
    byte (``{`` is JSON), as Node's adapter does."""

    MSGPACK = "msgpack"
    JSON = "json"


class MalformedClusterMessage(RealtimeError):
    """A message on a cluster channel that is not of the format: dropped."""


@dataclass(frozen=True, slots=True)
class AllRooms:
    """Answer with every room that has a member on this node (Node's
    ``allRooms``); the adapter serves it from its own membership."""

    kind: ClassVar[RequestKind] = RequestKind.ALL_ROOMS
    nsp: str
    request_id: str


@dataclass(frozen=True, slots=True)
class SocketIds:
    """Answer with the ids of the sockets in any of ``rooms`` (Node's
    ``sockets``, older nodes' ``allSockets``)."""

    kind: ClassVar[RequestKind] = RequestKind.SOCKETS
    nsp: str
    rooms: frozenset[str]
    request_id: str


@dataclass(frozen=True, slots=True)
class RoomsReply:
    """One node's answer to :class:`AllRooms` or :class:`SocketIds`."""

    request_id: str
    names: tuple[str, ...]


ClusterRequest = Request | AllRooms | SocketIds
ClusterReply = Reply | RoomsReply


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
        or None for a channel that is not one of this namespace's."""
        head = self.broadcast
        if not channel.startswith(head) or not channel.endswith("#"):
            return None
        return channel[len(head) : -1]


# -- values ---------------------------------------------------------------------------


def _map(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedClusterMessage(f"{what} is not a map")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise MalformedClusterMessage(f"{what} is not a string")
    return value


def _room_names(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MalformedClusterMessage(f"{what} is not a list")
    names: list[str] = []
    for room in value:
        # A Node application may name rooms with numbers; a number names the
        # room its decimal string names (JavaScript's String()).
        if isinstance(room, str):
            names.append(room)
        elif type(room) is int:
            names.append(str(room))
        elif type(room) is float:
            names.append(str(int(room)) if room.is_integer() else repr(room))
        else:
            raise MalformedClusterMessage(f"{what} holds a {type(room).__name__}")
    return tuple(names)


def packet_to_wire(packet: Packet) -> dict[str, Any]:
    # Node's encoder picks BINARY_EVENT itself when the data holds binary, and
    # would JSON-encode the buffers of a packet already marked binary.
    wire: dict[str, Any] = {"type": int(PacketType.EVENT), "data": packet.data, "nsp": packet.nsp}
    if packet.id is not None:
        wire["id"] = packet.id
    return wire


def packet_from_wire(value: Any, nsp: str) -> Packet:
    wire = _map(value, "the packet")
    if wire.get("type") not in (PacketType.EVENT, PacketType.BINARY_EVENT):
        raise MalformedClusterMessage(f"packet type {wire.get('type')!r} is not an event")
    data = wire.get("data")
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        raise MalformedClusterMessage("the event data is not [name, *args]")
    if wire.get("nsp", "/") != nsp:
        raise MalformedClusterMessage(f"a packet of {wire.get('nsp')!r} in {nsp!r}")
    return Packet(PacketType.EVENT, nsp, data)


def options_from_wire(value: Any) -> BroadcastOptions:
    wire = _map(value, "the options")
    flags = wire.get("flags")
    if flags is not None and not isinstance(flags, dict):
        raise MalformedClusterMessage("the flags are not a map")
    return BroadcastOptions.from_json(
        {
            "rooms": list(_room_names(wire.get("rooms"), "rooms")),
            "except": list(_room_names(wire.get("except"), "except")),
            "flags": flags,
        }
    )


def _filters(options: BroadcastOptions) -> dict[str, list[str]]:
    return {"rooms": sorted(options.rooms), "except": sorted(options.except_rooms)}


# -- broadcasts -------------------------------------------------------------------------


def broadcast_to_wire(uid: str, broadcast: Broadcast, offset: str | None = None) -> list[Any]:
    """``offset``: the recovery offset the publisher stamped, a fourth
    element that Node's adapter does not read."""
    wire = [uid, packet_to_wire(broadcast.packet), broadcast.options.to_json()]
    if offset is not None:
        wire.append(offset)
    return wire


def broadcast_offset(value: list[Any]) -> str | None:
    """The recovery offset of a broadcast that :func:`broadcast_from_wire` read."""
    offset = value[3] if len(value) > 3 else None
    return offset if isinstance(offset, str) and 0 < len(offset) <= 64 else None


def broadcast_from_wire(value: Any, nsp: str) -> tuple[str, Broadcast]:
    """The publisher's uid and the broadcast."""
    if not isinstance(value, list) or len(value) not in (3, 4):
        raise MalformedClusterMessage("a broadcast is [uid, packet, opts(, offset)]")
    uid = _text(value[0], "the uid")
    return uid, Broadcast(nsp, packet_from_wire(value[1], nsp), options_from_wire(value[2]))


# -- requests ---------------------------------------------------------------------------


def request_to_wire(uid: str | None, request: ClusterRequest) -> tuple[dict[str, Any], Codec]:
    """``uid`` None for an emitter's request (Node's emitter sends none)."""
    wire: dict[str, Any] = {} if uid is None else {"uid": uid}
    codec = Codec.JSON
    request_id = getattr(request, "request_id", None)
    if request_id is not None:
        wire["requestId"] = request_id
    wire["type"] = int(request.kind)
    if isinstance(request, BroadcastWithAck):
        wire["packet"] = packet_to_wire(request.packet)
        wire["opts"] = request.options.to_json()
        codec = Codec.MSGPACK  # as Node's: the packet may hold binary
    elif isinstance(request, (SocketsJoin, SocketsLeave)):
        wire["opts"] = _filters(request.options)
        wire["rooms"] = list(request.rooms)
    elif isinstance(request, DisconnectSockets):
        wire["opts"] = _filters(request.options)
        wire["close"] = request.close
    elif isinstance(request, FetchSockets):
        wire["opts"] = _filters(request.options)
    elif isinstance(request, ServerSideEmit):
        wire["data"] = list(request.args)
    elif isinstance(request, SocketIds):
        wire["rooms"] = sorted(request.rooms)
    elif isinstance(request, Broadcast):
        raise InvalidArgumentType("a broadcast goes to its channel (broadcast_to_wire)")
    return wire, codec


def request_from_wire(value: Any, nsp: str) -> tuple[str | None, ClusterRequest]:
    """The requester's uid (None from an emitter) and the request. Requests
    of Node's that need a socket id (join or leave one socket, from before
    ``socketsJoin``) are not accepted."""
    wire = _map(value, "a request")
    uid = wire.get("uid")
    if uid is not None:
        uid = _text(uid, "the uid")
    kind = wire.get("type")
    request_id = wire.get("requestId")
    if request_id is not None:
        request_id = _text(request_id, "the request id")
    if kind in (RequestKind.REMOTE_JOIN, RequestKind.REMOTE_LEAVE, RequestKind.REMOTE_DISCONNECT):
        if "opts" not in wire:
            raise MalformedClusterMessage("a request for one socket id (before socketsJoin)")
        options = options_from_wire(wire["opts"])
        if kind == RequestKind.REMOTE_DISCONNECT:
            return uid, DisconnectSockets(nsp, options, wire.get("close") is True)
        rooms = _room_names(wire.get("rooms"), "rooms")
        if kind == RequestKind.REMOTE_JOIN:
            return uid, SocketsJoin(nsp, options, rooms)
        return uid, SocketsLeave(nsp, options, rooms)
    if kind == RequestKind.SERVER_SIDE_EMIT:
        data = wire.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            raise MalformedClusterMessage("a server-side emit's data is not [event, *args]")
        return uid, ServerSideEmit(nsp, tuple(data), request_id)
    if request_id is None:
        raise MalformedClusterMessage(f"request type {kind!r} without a requestId")
    if kind == RequestKind.REMOTE_FETCH:
        return uid, FetchSockets(nsp, options_from_wire(wire.get("opts")), request_id)
    if kind == RequestKind.BROADCAST:
        packet = packet_from_wire(wire.get("packet"), nsp)
        return uid, BroadcastWithAck(nsp, packet, options_from_wire(wire.get("opts")), request_id)
    if kind == RequestKind.ALL_ROOMS:
        return uid, AllRooms(nsp, request_id)
    if kind == RequestKind.SOCKETS:
        return uid, SocketIds(nsp, frozenset(_room_names(wire.get("rooms"), "rooms")), request_id)
    raise MalformedClusterMessage(f"unknown request type {kind!r}")


# -- replies ----------------------------------------------------------------------------


def reply_to_wire(reply: ClusterReply) -> tuple[dict[str, Any], Codec]:
    if isinstance(reply, FetchSocketsReply):
        return {
            "requestId": reply.request_id,
            "sockets": [s.to_json() for s in reply.sockets],
        }, Codec.JSON
    if isinstance(reply, ServerSideEmitReply):
        wire = {"type": int(reply.kind), "requestId": reply.request_id, "data": reply.value}
        return wire, Codec.JSON
    if isinstance(reply, BroadcastClientCount):
        wire = {
            "type": int(reply.kind),
            "requestId": reply.request_id,
            "clientCount": reply.client_count,
        }
        return wire, Codec.JSON
    if isinstance(reply, BroadcastAck):
        wire = {"type": int(reply.kind), "requestId": reply.request_id, "packet": reply.value}
        return wire, Codec.MSGPACK  # as Node's: an ack may hold binary
    # A RoomsReply: Node names the list after the request.
    return {"requestId": reply.request_id, "rooms": list(reply.names)}, Codec.JSON


def reply_request_id(value: Any) -> str:
    return _text(_map(value, "a reply").get("requestId"), "the request id")


def reply_from_wire(value: Any, answering: RequestKind) -> ClusterReply:
    """A reply to a request of kind ``answering`` (a reply to a broadcast
    with acks says whether it is a count or an ack by its ``type``)."""
    wire = _map(value, "a reply")
    request_id = reply_request_id(wire)
    if answering == RequestKind.BROADCAST:
        if wire.get("type") == RequestKind.BROADCAST_CLIENT_COUNT:
            count = wire.get("clientCount")
            if type(count) is not int or count < 0:
                raise MalformedClusterMessage("clientCount is not a count")
            return BroadcastClientCount(request_id, count)
        if wire.get("type") == RequestKind.BROADCAST_ACK:
            return BroadcastAck(request_id, wire.get("packet"))
        raise MalformedClusterMessage(f"reply type {wire.get('type')!r} to a broadcast")
    if answering == RequestKind.SERVER_SIDE_EMIT:
        return ServerSideEmitReply(request_id, wire.get("data"))
    if answering == RequestKind.REMOTE_FETCH:
        sockets = wire.get("sockets")
        if not isinstance(sockets, list):
            raise MalformedClusterMessage("the sockets are not a list")
        try:
            found = tuple(SocketDetails.from_json(_map(s, "a socket")) for s in sockets)
        except ValueError as exc:
            raise MalformedClusterMessage(str(exc)) from None
        return FetchSocketsReply(request_id, found)
    if answering in (RequestKind.ALL_ROOMS, RequestKind.SOCKETS):
        key = "rooms" if answering == RequestKind.ALL_ROOMS else "sockets"
        return RoomsReply(request_id, _room_names(wire.get(key), key))
    raise MalformedClusterMessage(f"no reply is expected to a request of type {answering!r}")
