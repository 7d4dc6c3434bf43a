"""Rooms and broadcast for one namespace.

An :class:`Adapter` knows which socket ids are in which rooms and hands a
broadcast to the local recipients. It never sees a transport: the namespace
gives it a ``deliver(sid, messages)`` callback and a factory of shared
messages. A broadcast is encoded once and wrapped once; every recipient gets
the same message objects, so the engine can cache each framing once too.

Every socket is in the room named by its own id, so "except this socket" and
"to this socket" are room operations like any other.

Scaling out: a cluster adapter (Redis, later others) subclasses
:class:`MemoryAdapter`, keeps membership local, and only adds
publish/subscribe. ``broadcast`` publishes ``(nsp, packet, options)`` as a
typed message (the packet and :class:`BroadcastOptions` are frozen
dataclasses) and then delivers locally; a message from another node is
delivered with :meth:`MemoryAdapter.broadcast_local`. Nothing here assumes
that all recipients live in this process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..protocol.socketio import Packet, encode
from ..types import Data, Runtime, SharedMessage

Deliver = Callable[[str, Sequence[SharedMessage]], None]
MessageFactory = Callable[[Data], SharedMessage]


@dataclass(frozen=True, slots=True)
class BroadcastOptions:
    """Who receives: the sockets in any of ``rooms`` (everyone in the
    namespace when empty), less the sockets in any of ``except_rooms``."""

    rooms: frozenset[str] = frozenset()
    except_rooms: frozenset[str] = frozenset()


class Adapter(ABC):
    """The interface the namespace talks to."""

    def __init__(self, nsp: str, deliver: Deliver, make_message: MessageFactory) -> None:
        self.nsp = nsp
        self.deliver = deliver
        self.make_message = make_message

    @abstractmethod
    def add_all(self, sid: str, rooms: Iterable[str]) -> None: ...

    @abstractmethod
    def delete(self, sid: str, room: str) -> None: ...

    @abstractmethod
    def delete_all(self, sid: str) -> None:
        """The socket left the namespace: out of every room."""

    @abstractmethod
    def socket_rooms(self, sid: str) -> frozenset[str]: ...

    @abstractmethod
    def sockets(self, options: BroadcastOptions = BroadcastOptions()) -> list[str]:
        """The local socket ids a broadcast with ``options`` would reach."""

    @abstractmethod
    def rooms(self) -> frozenset[str]:
        """Every room that has at least one local member."""

    @abstractmethod
    def broadcast(self, packet: Packet, options: BroadcastOptions) -> int:
        """Send ``packet`` to its recipients; returns how many were local."""


class AdapterFactory(ABC):
    """A configured adapter for ``Server(adapter=...)``: it makes the adapter
    of each namespace, and lives as long as the server serves. An
    :class:`Adapter` subclass itself is the simple case (no configuration, no
    life of its own); a cluster adapter is an instance of a factory, holding
    the connection that all the namespaces of a server share."""

    @abstractmethod
    def __call__(self, nsp: str, deliver: Deliver, make_message: MessageFactory) -> Adapter: ...

    @abstractmethod
    def start(self, runtime: Runtime) -> None:
        """The server is bound to ``runtime`` and about to serve."""

    @abstractmethod
    def close(self) -> None:
        """The server shuts down: stop talking to the cluster."""


AdapterSetting = type[Adapter] | AdapterFactory
"""What ``Server(adapter=...)`` takes."""


class MemoryAdapter(Adapter):
    """Membership in two dicts (room -> sids, sid -> rooms); dicts rather than
    sets keep delivery in join order, which makes behaviour reproducible."""

    def __init__(self, nsp: str, deliver: Deliver, make_message: MessageFactory) -> None:
        super().__init__(nsp, deliver, make_message)
        self._rooms: dict[str, dict[str, None]] = {}
        self._sids: dict[str, dict[str, None]] = {}

    def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        joined = self._sids.setdefault(sid, {})
        for room in rooms:
            joined[room] = None
            self._rooms.setdefault(room, {})[sid] = None

    def delete(self, sid: str, room: str) -> None:
        joined = self._sids.get(sid)
        if joined is not None:
            joined.pop(room, None)
        self._leave(sid, room)

    def delete_all(self, sid: str) -> None:
        for room in self._sids.pop(sid, {}):
            self._leave(sid, room)

    def _leave(self, sid: str, room: str) -> None:
        members = self._rooms.get(room)
        if members is None:
            return
        members.pop(sid, None)
        if not members:
            del self._rooms[room]

    def socket_rooms(self, sid: str) -> frozenset[str]:
        return frozenset(self._sids.get(sid, ()))

    def rooms(self) -> frozenset[str]:
        return frozenset(self._rooms)

    def sockets(self, options: BroadcastOptions = BroadcastOptions()) -> list[str]:
        if options.rooms:
            chosen: dict[str, None] = {}
            for room in options.rooms:
                chosen.update(self._rooms.get(room, {}))
        else:
            chosen = dict.fromkeys(self._sids)
        excluded: set[str] = set()
        for room in options.except_rooms:
            excluded.update(self._rooms.get(room, ()))
        return [sid for sid in chosen if sid not in excluded]

    def broadcast(self, packet: Packet, options: BroadcastOptions) -> int:
        return self.broadcast_local(packet, options)

    def broadcast_local(self, packet: Packet, options: BroadcastOptions) -> int:
        recipients = self.sockets(options)
        if not recipients:
            return 0  # nobody to send to: skip the encoding too
        messages = [self.make_message(part) for part in encode(packet)]
        deliver = self.deliver
        for sid in recipients:
            deliver(sid, messages)
        return len(recipients)
