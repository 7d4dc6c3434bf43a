"""The roles the server, its namespaces and their sockets play for each other.

The three classes hold references to each other: a socket knows its server
and its namespace, a namespace its server and its sockets. Each uses of the
others only what its role here names, all of it public (tests/test_layering.py
refuses a read of another object's private attribute in these modules, and a
runtime import cycle between them):

- :class:`HostServer`: what a namespace and a socket need from their server:
  its engine, runtime, limits and timings, and to be told when a socket
  connects, disconnects or goes, and when a namespace comes or empties.
- :class:`HostNamespace`: what a socket needs from its namespace: its name,
  handlers and listeners, adapter, recovery options and ack ids, and to be
  told when the socket leaves or gains outgoing listeners.
- :class:`MemberSocket`: what a namespace (and its adapter) needs from one of
  its sockets: who it is, to deliver a broadcast to it, to ask it for an ack
  of a broadcast, and to tell its outgoing listeners.

The server makes the namespaces and the sockets and drives them through their
public methods: ``Namespace.make_child``, ``add_socket``, ``find_socket``;
``Socket.start``, ``receive`` (a packet for it), ``end`` (its connection went).
How the application's handlers are called is decided in one place,
:mod:`realtime.handlers` (``HandlerRunner``, which reads a socket's
``was_connected`` and sends a handler's ack through ``Socket.answer``).

The attributes that hold a collaborator on a hot path (``Socket.server``,
``Socket.namespace``, a namespace's sockets) keep their concrete class as
their type: mypyc reads a field of a compiled class directly, and an attribute
of a Protocol through a dictionary lookup. Each class is checked against its
role below, so that a change to one that breaks the others fails mypy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .bus.acks import AckIds
    from .bus.adapter import Adapter, AdapterSetting
    from .bus.recovery import ConnectionStateRecovery
    from .engine import Engine
    from .handlers import HandlerRunner, Listener
    from .http import Handshake
    from .namespace import BroadcastOperator, Namespace
    from .protocol.counters import Timings
    from .server import Server
    from .socket import Socket
    from .types import Connection, Data, Runtime, ServerWatcher, SharedMessage


class HostServer(Protocol):
    """What a namespace and a socket need from their server."""

    @property
    def engine(self) -> Engine:
        """Its counters and its deadline heap (connect, ack timeouts)."""

    @property
    def runtime(self) -> Runtime:
        """Where handlers and callbacks run."""

    @property
    def bound_runtime(self) -> Runtime | None:
        """The runtime, or None before the host binds one (emits may come first)."""

    @property
    def timings(self) -> Timings | None:
        """Handler and ack timings, when metrics turned them on."""

    @property
    def handler_runner(self) -> HandlerRunner:
        """How a socket runs the application's handlers."""

    @property
    def max_pending_acks(self) -> int: ...

    @property
    def max_pending_events(self) -> int: ...

    @property
    def watchers(self) -> list[ServerWatcher]: ...

    @property
    def recovery(self) -> ConnectionStateRecovery | None: ...

    @property
    def adapter_factory(self) -> AdapterSetting: ...

    def make_message(self, data: Data) -> SharedMessage: ...

    def socket_connected(self, socket: MemberSocket) -> None:
        """The socket's CONNECT was accepted."""

    def socket_disconnected(self, socket: MemberSocket, reason: str) -> None:
        """A connected socket is closing, before its handlers hear it."""

    def socket_gone(self, socket: MemberSocket) -> None:
        """The socket left its namespace (closed or refused)."""

    def namespace_created(self, namespace: Namespace) -> None:
        """A namespace came to be, a dynamic child too."""

    def child_emptied(self, child: Namespace) -> None:
        """A dynamic child lost its last socket."""


class HostNamespace(Protocol):
    """What a socket needs from its namespace."""

    volatile_dropped: int
    """Counted by a socket's volatile emit that its transport could not take."""

    @property
    def name(self) -> str: ...

    @property
    def handlers(self) -> dict[str, Callable[..., Any]]: ...

    @property
    def middlewares(self) -> list[Callable[..., Any]]: ...

    @property
    def any_handlers(self) -> list[Listener]: ...

    @property
    def outgoing_handlers(self) -> list[Listener]: ...

    @property
    def watching(self) -> bool:
        """Whether outgoing listeners must hear what its sockets are sent."""

    @property
    def adapter(self) -> Adapter: ...

    @property
    def recovery(self) -> ConnectionStateRecovery | None: ...

    @property
    def ack_ids(self) -> AckIds: ...

    def except_(self, rooms: Any) -> BroadcastOperator:
        """Its sockets but those in ``rooms`` (``socket.broadcast``)."""

    def remove_socket(self, socket: MemberSocket) -> None:
        """The socket left the namespace."""

    def watch_socket(self, change: int) -> None:
        """A socket gained (+1) or lost (-1) outgoing listeners of its own."""


class MemberSocket(Protocol):
    """What a namespace, its adapter and the server need from a socket."""

    @property
    def id(self) -> str: ...

    @property
    def conn(self) -> Connection: ...

    @property
    def namespace(self) -> HostNamespace: ...

    @property
    def handshake(self) -> Handshake: ...

    @property
    def rooms(self) -> frozenset[str]: ...

    @property
    def data(self) -> dict[str, Any]: ...

    @property
    def connected(self) -> bool: ...

    @property
    def watches_outgoing(self) -> bool: ...

    def deliver(self, messages: Iterable[SharedMessage]) -> None:
        """A broadcast reached the socket."""

    def expect_ack(self, ack_id: int, on_reply: Callable[[Any], None]) -> bool:
        """A broadcast asks the socket for an ack; False if it cannot wait for one."""

    def forget_ack(self, ack_id: int) -> None:
        """A broadcast no longer waits for the socket's ack."""

    def tell_outgoing(self, data: Sequence[Any]) -> None:
        """The socket is being sent ``[event, *args]``: its outgoing listeners hear it."""

    def disconnect(self, close: bool = False) -> None: ...


if TYPE_CHECKING:

    def _each_class_plays_its_role(
        server: Server, namespace: Namespace, socket: Socket
    ) -> tuple[HostServer, HostNamespace, MemberSocket]:
        return server, namespace, socket
