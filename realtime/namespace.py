"""Namespaces: handlers, middlewares, sockets and an adapter per name.

``sio.of("/admin")`` gives a static namespace. ``sio.of(pattern)`` or
``sio.of(predicate)`` gives a dynamic parent: each name it admits becomes a
child namespace sharing the parent's handlers and middlewares (registering
on the parent later still reaches every child), and emitting on the parent
reaches the sockets of every child.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .bus.adapter import Adapter, BroadcastOptions
from .bus.namespaces import Matcher
from .protocol.socketio import Packet, PacketType
from .socket import check_event

if TYPE_CHECKING:
    from .server import Server
    from .socket import Socket
    from .types import SharedMessage

Handler = TypeVar("Handler", bound=Callable[..., Any])

Rooms = str | Iterable[str]


def _rooms(rooms: Rooms | None) -> frozenset[str]:
    if rooms is None:
        return frozenset()
    return frozenset((rooms,)) if isinstance(rooms, str) else frozenset(rooms)


def skip_rooms(skip: Any) -> frozenset[str]:
    """Sockets or socket ids (each socket is in the room named by its id)."""
    if skip is None:
        return frozenset()
    if isinstance(skip, str) or not isinstance(skip, Iterable):
        skip = (skip,)
    return frozenset(item if isinstance(item, str) else item.id for item in skip)


class Namespace:
    def __init__(
        self,
        server: Server,
        name: str,
        *,
        matcher: Matcher | None = None,
        parent: Namespace | None = None,
    ) -> None:
        self.server = server
        self.name = name
        self.matcher = matcher
        self.parent = parent
        # Children share these objects with their parent on purpose.
        self.handlers: dict[str, Callable[..., Any]] = parent.handlers if parent else {}
        self.middlewares: list[Callable[..., Any]] = parent.middlewares if parent else []
        self.children: dict[str, Namespace] = {}
        self._sockets: dict[str, Socket] = {}
        self.adapter: Adapter = server.adapter_factory(name, self._deliver, server.make_message)

    def __repr__(self) -> str:
        return f"<Namespace {self.name}>"

    @property
    def dynamic(self) -> bool:
        return self.matcher is not None

    # -- registration ---------------------------------------------------------------

    @overload
    def on(self, event: str) -> Callable[[Handler], Handler]: ...

    @overload
    def on(self, event: str, handler: Handler) -> Handler: ...

    def on(self, event: str, handler: Handler | None = None) -> Any:
        """Register the handler of ``event``; usable as a decorator.

        Handlers get the socket first: ``connect(socket, auth)``,
        ``disconnect(socket, reason)``, ``"*"(socket, event, *args)`` for
        events without a handler of their own, and ``event(socket, *args)``,
        whose return value answers the client's ack (a tuple for several
        arguments). ``def`` and ``async def`` both work.
        """

        def register(fn: Handler) -> Handler:
            self.handlers[event] = fn
            return fn

        return register if handler is None else register(handler)

    def use(self, middleware: Handler) -> Handler:
        """Run ``middleware(socket, auth)`` before the connect handler; it
        refuses the socket by raising :class:`~realtime.ConnectionRefused`."""
        self.middlewares.append(middleware)
        return middleware

    # -- sockets --------------------------------------------------------------------

    @property
    def sockets(self) -> Mapping[str, Socket]:
        """The sockets of this namespace (of all its children, if dynamic)."""
        if not self.dynamic:
            return dict(self._sockets)
        merged: dict[str, Socket] = {}
        for child in self.children.values():
            merged.update(child._sockets)
        return merged

    def _child(self, name: str) -> Namespace:
        child = Namespace(self.server, name, parent=self)
        self.children[name] = child
        return child

    def _add(self, socket: Socket) -> None:
        self._sockets[socket.id] = socket
        self.adapter.add_all(socket.id, (socket.id,))

    def _remove(self, socket: Socket) -> None:
        if self._sockets.get(socket.id) is socket:
            del self._sockets[socket.id]
        self.adapter.delete_all(socket.id)

    def _deliver(self, sid: str, messages: Iterable[SharedMessage]) -> None:
        socket = self._sockets.get(sid)
        if socket is not None:
            socket._deliver(messages)

    def _targets(self) -> list[Namespace]:
        return list(self.children.values()) if self.dynamic else [self]

    # -- broadcast ------------------------------------------------------------------

    def emit(self, event: str, *args: Any, to: Rooms | None = None, skip: Any = None) -> None:
        """Send to every socket of the namespace, or those in ``to``, less ``skip``."""
        BroadcastOperator(self, _rooms(to), skip_rooms(skip)).emit(event, *args)

    def send(self, *args: Any, to: Rooms | None = None, skip: Any = None) -> None:
        self.emit("message", *args, to=to, skip=skip)

    def to(self, rooms: Rooms) -> BroadcastOperator:
        return BroadcastOperator(self).to(rooms)

    def in_(self, rooms: Rooms) -> BroadcastOperator:
        """The same as :meth:`to` (python-socketio's name)."""
        return self.to(rooms)

    def except_(self, rooms: Any) -> BroadcastOperator:
        return BroadcastOperator(self).except_(rooms)

    def disconnect_sockets(self, close: bool = False) -> None:
        BroadcastOperator(self).disconnect_sockets(close)


class BroadcastOperator:
    """A chosen set of recipients in one namespace: ``to`` adds rooms (any of
    them qualifies), ``except_`` removes rooms or sockets. Immutable."""

    __slots__ = ("except_rooms", "namespace", "rooms")

    def __init__(
        self,
        namespace: Namespace | None,
        rooms: frozenset[str] = frozenset(),
        except_rooms: frozenset[str] = frozenset(),
    ) -> None:
        self.namespace = namespace
        self.rooms = rooms
        self.except_rooms = except_rooms

    def to(self, rooms: Rooms) -> BroadcastOperator:
        return BroadcastOperator(self.namespace, self.rooms | _rooms(rooms), self.except_rooms)

    def in_(self, rooms: Rooms) -> BroadcastOperator:
        """The same as :meth:`to` (python-socketio's name)."""
        return self.to(rooms)

    def except_(self, rooms: Any) -> BroadcastOperator:
        """Rooms, sockets or socket ids to leave out."""
        return BroadcastOperator(self.namespace, self.rooms, self.except_rooms | skip_rooms(rooms))

    @property
    def options(self) -> BroadcastOptions:
        return BroadcastOptions(self.rooms, self.except_rooms)

    def _targets(self) -> list[Namespace]:
        return self.namespace._targets() if self.namespace is not None else []

    def emit(self, event: str, *args: Any) -> None:
        """Encode once per namespace, hand the same messages to every recipient."""
        check_event(event)
        options = self.options
        for target in self._targets():
            target.adapter.broadcast(Packet(PacketType.EVENT, target.name, [event, *args]), options)

    def send(self, *args: Any) -> None:
        self.emit("message", *args)

    def sockets(self) -> list[Socket]:
        found: list[Socket] = []
        for target in self._targets():
            for sid in target.adapter.sockets(self.options):
                socket = target._sockets.get(sid)
                if socket is not None:
                    found.append(socket)
        return found

    def join(self, rooms: Rooms) -> None:
        for socket in self.sockets():
            socket.join(rooms)

    def leave(self, room: str) -> None:
        for socket in self.sockets():
            socket.leave(room)

    def disconnect_sockets(self, close: bool = False) -> None:
        for socket in self.sockets():
            socket.disconnect(close)
