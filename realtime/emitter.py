"""Emit into a cluster from a process that serves no clients.

::

    emitter = realtime.Emitter("redis://127.0.0.1:6379/0")
    emitter.to("lobby").emit("news", {"text": "hello"})      # a Flask view, a cron job
    emitter.of("/admin").except_("muted").emit("alert", 1)
    emitter.to("lobby").sockets_join("announcements")

Plain blocking calls on redis-py's synchronous client: each one publishes one
message and returns. The messages are those of Node's
``@socket.io/redis-emitter``, so the nodes of the cluster, realtime or Node,
deliver them to their own clients. Nothing is acknowledged: an emit while no
node listens reaches nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis

from .bus.cluster import (
    DEFAULT_PREFIX,
    EMITTER_UID,
    Channels,
    ClusterRequest,
    broadcast_to_wire,
    request_to_wire,
)
from .bus.namespaces import normalize
from .bus.requests import (
    Broadcast,
    BroadcastOptions,
    DisconnectSockets,
    ServerSideEmit,
    SocketsJoin,
    SocketsLeave,
)
from .protocol.socketio import Packet, PacketType, check_event, encode
from .redis import DEFAULT_URL, pack

__all__ = ["Emitter", "EmitterOperator"]

Rooms = str | Iterable[str]


def room_list(rooms: Rooms) -> tuple[str, ...]:
    return (rooms,) if isinstance(rooms, str) else tuple(rooms)


class EmitterOperator:
    """A chosen set of recipients in one namespace: ``to`` adds rooms (any of
    them qualifies), ``except_`` leaves rooms out. Immutable, like the
    server's broadcast operator."""

    __slots__ = ("_client", "channels", "options")

    def __init__(self, client: redis.Redis, channels: Channels, options: BroadcastOptions) -> None:
        self._client = client
        self.channels = channels
        self.options = options

    def to(self, rooms: Rooms) -> EmitterOperator:
        """This selection plus the sockets in ``rooms`` (a new operator)."""
        chosen = self.options.rooms | frozenset(room_list(rooms))
        return EmitterOperator(
            self._client, self.channels, BroadcastOptions(chosen, self.options.except_rooms)
        )

    def in_(self, rooms: Rooms) -> EmitterOperator:
        """The same as :meth:`to`."""
        return self.to(rooms)

    def except_(self, rooms: Rooms) -> EmitterOperator:
        """This selection without the sockets in ``rooms`` (a new operator)."""
        left_out = self.options.except_rooms | frozenset(room_list(rooms))
        return EmitterOperator(
            self._client, self.channels, BroadcastOptions(self.options.rooms, left_out)
        )

    def emit(self, event: str, *args: Any) -> None:
        """Publish ``event`` for every node to deliver. Raises TypeError or
        ValueError for a payload that cannot be sent, before publishing."""
        packet = Packet(PacketType.EVENT, self.channels.nsp, [check_event(event), *args])
        encode(packet)  # what a node would fail to encode fails here instead
        wire = broadcast_to_wire(EMITTER_UID, Broadcast(self.channels.nsp, packet, self.options))
        self._client.publish(self.channels.for_broadcast(self.options), pack(wire))

    def send(self, *args: Any) -> None:
        """Emit a ``message`` event, as :meth:`emit` does."""
        self.emit("message", *args)

    def sockets_join(self, rooms: Rooms) -> None:
        """The matching sockets, on every node, join ``rooms``."""
        self._request(SocketsJoin(self.channels.nsp, self.options, room_list(rooms)))

    def sockets_leave(self, rooms: Rooms) -> None:
        """The matching sockets, on every node, leave ``rooms``."""
        self._request(SocketsLeave(self.channels.nsp, self.options, room_list(rooms)))

    def disconnect_sockets(self, close: bool = False) -> None:
        """The matching sockets, on every node, disconnect (and, with
        ``close``, their connections close too)."""
        self._request(DisconnectSockets(self.channels.nsp, self.options, close))

    def _request(self, request: ClusterRequest, uid: str | None = None) -> None:
        # No uid but for a server-side emit, as Node's emitter.
        wire, codec = request_to_wire(uid, request)
        self._client.publish(self.channels.request, pack(wire, codec))


class Emitter(EmitterOperator):
    """The whole of one namespace (``"/"`` unless ``of`` chose another).

    ``url`` and the keyword arguments are redis-py's, as for
    :class:`~realtime.RedisAdapter`; ``key_prefix`` must be the cluster's.
    ``client``: a ``redis.Redis`` to use instead of one made from ``url``.
    """

    __slots__ = ()

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        key_prefix: str = DEFAULT_PREFIX,
        nsp: str = "/",
        client: redis.Redis | None = None,
        **redis_options: Any,
    ) -> None:
        if client is None:
            client = redis.Redis.from_url(url, **redis_options)
        super().__init__(client, Channels(key_prefix, normalize(nsp)), BroadcastOptions())

    def of(self, nsp: str) -> Emitter:
        """The emitter of namespace ``nsp``, on the same connection."""
        return Emitter(key_prefix=self.channels.prefix, nsp=nsp, client=self._client)

    def server_side_emit(self, event: str, *args: Any) -> None:
        """An event for the ``serverSideEmit`` handlers of every node
        (without acknowledgement: an emitter is no server to answer)."""
        self._request(ServerSideEmit(self.channels.nsp, (event, *args)), EMITTER_UID)

    def close(self) -> None:
        """Close the emitter's Redis client (the one passed as ``client`` too)."""
        self._client.close()

    def __enter__(self) -> Emitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
