"""What one node of a cluster asks of the others, and what they answer.

:class:`BroadcastOptions` (with its :class:`BroadcastFlags`) says which
sockets an operation reaches and how; it is what every adapter method takes.

A server-wide operation (a broadcast, a broadcast that collects acks,
fetching, moving or disconnecting the sockets of a room, an event for the
other servers) is done by the local :class:`~realtime.bus.adapter.Adapter`
for its own sockets. A cluster adapter also publishes the operation to the
other nodes as one of the frozen dataclasses below, and each node answers it
with :meth:`~realtime.bus.adapter.MemoryAdapter.serve`, which does the local
part and hands back typed replies. Nothing here knows a wire format: a
cluster adapter turns these objects into its backend's bytes (for Node's
``@socket.io/redis-adapter`` 8.x: JSON or msgpack maps, whose ``type`` field
is :class:`RequestKind`'s value), and back.

Every request names its namespace (``nsp``); requests that expect answers
carry a ``request_id`` chosen by the requester, and every reply repeats it.
Socket.IO packets cross as :class:`~realtime.protocol.socketio.Packet`
(type, nsp, data, id), whose ``data`` may hold ``bytes``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import InvalidArgument
from ..protocol.socketio import Packet


@dataclass(frozen=True, slots=True)
class BroadcastFlags:
    """How a server-wide operation is done, as Node's ``BroadcastFlags``.

    ``local``: this node's sockets only, even with a cluster adapter.
    ``volatile``: a recipient whose transport is not writable right now
    (a WebSocket paused by backpressure, a polling client with no request
    parked) loses the packet instead of having it queued.
    ``compress``: Node's per-message compression wish (None: the default).
    ``timeout``: seconds the requester waits for answers (acks of a broadcast,
    replies of other nodes); None for the operation's default.
    """

    local: bool = False
    volatile: bool = False
    compress: bool | None = None
    timeout: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Node's flags object: the keys that are set, ``timeout`` in milliseconds."""
        out: dict[str, Any] = {}
        if self.local:
            out["local"] = True
        if self.volatile:
            out["volatile"] = True
        if self.compress is not None:
            out["compress"] = self.compress
        if self.timeout is not None:
            out["timeout"] = round(self.timeout * 1000)
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any] | None) -> BroadcastFlags:
        """Node's flags object (unknown keys ignored, as Node ignores them)."""
        if not obj:
            return NO_FLAGS
        compress, timeout = obj.get("compress"), obj.get("timeout")
        return cls(
            local=obj.get("local") is True,
            volatile=obj.get("volatile") is True,
            compress=compress if isinstance(compress, bool) else None,
            timeout=(
                timeout / 1000
                if isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
                else None
            ),
        )


NO_FLAGS = BroadcastFlags()


@dataclass(frozen=True, slots=True)
class BroadcastOptions:
    """Who receives: the sockets in any of ``rooms`` (everyone in the
    namespace when empty), less the sockets in any of ``except_rooms``;
    ``flags`` say how."""

    rooms: frozenset[str] = frozenset()
    except_rooms: frozenset[str] = frozenset()
    flags: BroadcastFlags = NO_FLAGS

    def to_json(self) -> dict[str, Any]:
        """Node's ``{rooms, except, flags}`` object (rooms sorted, for stable bytes)."""
        return {
            "rooms": sorted(self.rooms),
            "except": sorted(self.except_rooms),
            "flags": self.flags.to_json(),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> BroadcastOptions:
        """The inverse of :meth:`to_json`; raises ValueError for a malformed object."""
        rooms, except_rooms, flags = obj.get("rooms", ()), obj.get("except", ()), obj.get("flags")
        if not isinstance(rooms, (list, tuple)) or not isinstance(except_rooms, (list, tuple)):
            raise InvalidArgument("rooms and except are lists")
        if flags is not None and not isinstance(flags, Mapping):
            raise InvalidArgument("flags is an object")
        return cls(
            frozenset(str(r) for r in rooms),
            frozenset(str(r) for r in except_rooms),
            BroadcastFlags.from_json(flags),
        )


EVERYONE = BroadcastOptions()
"""Every socket of the namespace, no flags."""


class RequestKind(enum.IntEnum):
    """The kinds of cross-node messages. The values are those of
    ``RequestType`` in Node's ``@socket.io/redis-adapter`` 8.x, so a cluster
    adapter speaking that format can write them as they are."""

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


@dataclass(frozen=True, slots=True)
class SocketDetails:
    """A socket as ``fetch_sockets`` reports it, on any node.

    ``handshake`` has Node's shape (``headers``, ``query``, ``address``,
    ``auth``, and whatever else a peer sent); ``data`` is the socket's
    ``data`` (for a local socket, the live object itself, so changes made
    through a fetched socket are seen by the socket).
    """

    id: str
    rooms: frozenset[str]
    data: Any
    handshake: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """Node's ``{id, handshake, rooms, data}`` object."""
        return {
            "id": self.id,
            "handshake": dict(self.handshake),
            "rooms": sorted(self.rooms),
            "data": self.data,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SocketDetails:
        """The inverse of :meth:`to_json`; raises ValueError for a malformed object."""
        sid, rooms, handshake = obj.get("id"), obj.get("rooms", ()), obj.get("handshake", {})
        if not isinstance(sid, str) or not isinstance(rooms, (list, tuple)):
            raise InvalidArgument("a socket needs a string id and a list of rooms")
        if not isinstance(handshake, Mapping):
            raise InvalidArgument("a socket's handshake is an object")
        return cls(sid, frozenset(str(room) for room in rooms), obj.get("data"), handshake)


# -- requests ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Deliver ``packet`` to this node's sockets that ``options`` choose."""

    kind: ClassVar[RequestKind] = RequestKind.BROADCAST
    nsp: str
    packet: Packet
    options: BroadcastOptions


@dataclass(frozen=True, slots=True)
class BroadcastWithAck:
    """As :class:`Broadcast`, and answer with one :class:`BroadcastClientCount`
    and then one :class:`BroadcastAck` per client reply."""

    kind: ClassVar[RequestKind] = RequestKind.BROADCAST
    nsp: str
    packet: Packet
    options: BroadcastOptions
    request_id: str


@dataclass(frozen=True, slots=True)
class SocketsJoin:
    """Make the chosen sockets join ``rooms``."""

    kind: ClassVar[RequestKind] = RequestKind.REMOTE_JOIN
    nsp: str
    options: BroadcastOptions
    rooms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SocketsLeave:
    """Make the chosen sockets leave ``rooms``."""

    kind: ClassVar[RequestKind] = RequestKind.REMOTE_LEAVE
    nsp: str
    options: BroadcastOptions
    rooms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DisconnectSockets:
    """Disconnect the chosen sockets (``close``: their whole connections)."""

    kind: ClassVar[RequestKind] = RequestKind.REMOTE_DISCONNECT
    nsp: str
    options: BroadcastOptions
    close: bool = False


@dataclass(frozen=True, slots=True)
class FetchSockets:
    """Answer with one :class:`FetchSocketsReply` listing the chosen sockets."""

    kind: ClassVar[RequestKind] = RequestKind.REMOTE_FETCH
    nsp: str
    options: BroadcastOptions
    request_id: str


@dataclass(frozen=True, slots=True)
class ServerSideEmit:
    """An event for the server-side handlers of every other node. With a
    ``request_id``, each node answers with one :class:`ServerSideEmitReply`."""

    kind: ClassVar[RequestKind] = RequestKind.SERVER_SIDE_EMIT
    nsp: str
    args: tuple[Any, ...]
    request_id: str | None = None


Request = (
    Broadcast
    | BroadcastWithAck
    | SocketsJoin
    | SocketsLeave
    | DisconnectSockets
    | FetchSockets
    | ServerSideEmit
)


# -- replies -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BroadcastClientCount:
    """How many local clients a :class:`BroadcastWithAck` reached on one node."""

    kind: ClassVar[RequestKind] = RequestKind.BROADCAST_CLIENT_COUNT
    request_id: str
    client_count: int


@dataclass(frozen=True, slots=True)
class BroadcastAck:
    """One client's reply to a :class:`BroadcastWithAck`: its first ack argument
    (None when it acknowledged with none), as Node forwards it."""

    kind: ClassVar[RequestKind] = RequestKind.BROADCAST_ACK
    request_id: str
    value: Any


@dataclass(frozen=True, slots=True)
class FetchSocketsReply:
    kind: ClassVar[RequestKind] = RequestKind.REMOTE_FETCH
    request_id: str
    sockets: tuple[SocketDetails, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ServerSideEmitReply:
    """One node's answer to a :class:`ServerSideEmit`: its handler's return value."""

    kind: ClassVar[RequestKind] = RequestKind.SERVER_SIDE_EMIT
    request_id: str
    value: Any


Reply = BroadcastClientCount | BroadcastAck | FetchSocketsReply | ServerSideEmitReply
