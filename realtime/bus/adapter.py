"""Rooms, broadcast and the server-wide operations of one namespace.

An :class:`Adapter` knows which socket ids are in which rooms and does every
operation that reaches "the sockets ``options`` choose" for the sockets of
this process. It never sees a transport: the namespace gives it a
``deliver(sid, messages)`` callback, a factory of shared messages and an
:class:`AdapterHost` (the namespace itself) for what only the namespace can
do: describe, disconnect or await an ack from one of its sockets, run the
server-side handlers, schedule a timer in the engine's deadline heap, make a
promise. A broadcast is encoded once and wrapped once; every recipient gets
the same message objects, so the engine can cache each framing once too.

Every socket is in the room named by its own id, so "except this socket" and
"to this socket" are room operations like any other.

The operations, as Node's ``socket.io-adapter`` 2.x names them:

==============================  =====================================  ==========
method                          Node                                   answers
==============================  =====================================  ==========
``broadcast``                   ``broadcast``                          —
``broadcast_with_ack``          ``broadcastWithAck``                   callbacks
``fetch_sockets``               ``fetchSockets``                       awaitable
``add_sockets``                 ``addSockets``                         —
``del_sockets``                 ``delSockets``                         —
``disconnect_sockets``          ``disconnectSockets``                  —
``server_side_emit``            ``serverSideEmit``                     callback
``server_count``                ``serverCount``                        awaitable
``persist_session``             ``persistSession``                     —
``restore_session``             ``restoreSession``                     awaitable
==============================  =====================================  ==========

Connection state recovery (:mod:`realtime.bus.recovery`) is the adapter's
too, as in Node: :meth:`Adapter.enable_recovery` says whether the adapter
can keep sessions (the base class cannot; :class:`MemoryAdapter` keeps them
in a :class:`~realtime.bus.recovery.SessionStore`), the socket hands its
state to :meth:`Adapter.persist_session` when it goes away, and the server
asks :meth:`Adapter.restore_session` when a client comes back.

Scaling out: a cluster adapter (Redis, later others) subclasses
:class:`MemoryAdapter`, keeps membership local, and only adds
publish/subscribe. Each operation, unless ``options.flags.local``, publishes
the matching request of :mod:`realtime.bus.requests` (frozen dataclasses
with a :class:`~realtime.bus.requests.RequestKind`) and then does the local
part through ``super()``; a request from another node goes to
:meth:`MemoryAdapter.serve`, which does the local part and hands back the
typed replies to publish. Requests that wait for other nodes (fetch,
acks, server-side emit) time out through :meth:`AdapterHost.schedule`, an
entry in the engine's deadline heap: no task per request. Nothing here
assumes that all recipients live in this process.

Ack semantics (Node's): ``broadcast_with_ack`` calls ``on_count(n)`` once per
node with the number of clients it reached, then ``on_reply(value)`` once
per client reply, ``value`` being the client's first ack argument. The
caller (the broadcast operator) knows the number of nodes from what
``broadcast_with_ack`` returns (for a cluster, the nodes the broadcast
reached, which a node that is gone is not among), adds up the counts, and
owns the timeout.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

from ..errors import InvalidState
from ..protocol.socketio import Packet, encode
from ..types import Data, Promise, Runtime, SharedMessage
from .recovery import (
    ConnectionStateRecovery,
    RestoredSession,
    SessionState,
    SessionStore,
    select,
)
from .requests import (
    EVERYONE,
    NO_FLAGS,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    BroadcastFlags,
    BroadcastOptions,
    BroadcastWithAck,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsReply,
    Reply,
    Request,
    ServerSideEmit,
    ServerSideEmitReply,
    SocketDetails,
    SocketsJoin,
    SocketsLeave,
)

__all__ = [
    "DEFAULT_ACK_TIMEOUT",
    "EVERYONE",
    "NO_FLAGS",
    "Adapter",
    "AdapterFactory",
    "AdapterHost",
    "AdapterSetting",
    "BroadcastFlags",
    "BroadcastOptions",
    "Cancellable",
    "Deliver",
    "MemoryAdapter",
    "MessageFactory",
    "OnCount",
    "OnReply",
    "OnServerReplies",
    "SocketDetails",
]

Deliver = Callable[[str, Sequence[SharedMessage]], None]
MessageFactory = Callable[[Data], SharedMessage]
OnCount = Callable[[int], None]
"""``on_count(n)``: one node reached ``n`` clients with a broadcast that waits for acks."""
OnReply = Callable[[Any], None]
"""``on_reply(value)``: one client's reply (its first ack argument)."""
OnServerReplies = Callable[[BaseException | None, list[Any]], None]
"""``on_replies(err, replies)``: every other node's reply to a server-side
emit, or an error (a timeout) with the replies that did arrive."""


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class AdapterHost(Protocol):
    """What the namespace does for its adapter (the namespace implements it).

    Every method works on this process's sockets only and never blocks.
    """

    def socket_details(self, sid: str) -> SocketDetails | None:
        """The socket ``sid`` as ``fetch_sockets`` reports it (None if gone)."""

    def disconnect_socket(self, sid: str, close: bool) -> None:
        """Disconnect ``sid`` from the namespace ("server namespace
        disconnect"); with ``close``, end its whole connection too."""

    def deliver_volatile(self, sid: str, messages: Sequence[SharedMessage]) -> bool:
        """Deliver only if the socket's transport can take it now; False when dropped."""

    def next_ack_id(self) -> int:
        """An ack id no pending wait of this namespace uses: one id serves
        every recipient of a broadcast, as in Node."""

    def expect_ack(self, sid: str, ack_id: int, on_reply: OnReply) -> bool:
        """Wait for ``sid``'s ack of ``ack_id``; False if ``sid`` is not here.
        The wait has no timer of its own: the adapter ends it through
        :meth:`forget_ack` when the broadcast's timeout passes."""

    def forget_ack(self, sid: str, ack_id: int) -> None:
        """Stop waiting for ``sid``'s ack of ``ack_id`` (a no-op once answered)."""

    def server_side_event(self, args: Sequence[Any], reply: OnReply | None) -> None:
        """Run the server-side handler of ``args[0]`` with ``args[1:]``; its
        return value goes to ``reply`` (when another node waits for one)."""

    def schedule(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """Call ``callback`` after ``delay`` seconds (the engine's deadline heap)."""

    def create_promise(self) -> Promise[Any]:
        """A promise that the adapter resolves later (for its async methods)."""


class Adapter(ABC):
    """The interface the namespace talks to."""

    def __init__(
        self,
        nsp: str,
        deliver: Deliver,
        make_message: MessageFactory,
        host: AdapterHost | None = None,
    ) -> None:
        self.nsp = nsp
        self.deliver = deliver
        self.make_message = make_message
        self._host = host
        self.on_membership: Callable[[str, str, bool], None] | None = None
        """``fn(room, sid, joined)`` on every join and leave of a local
        socket, when set (the Admin UI's room events); an adapter that keeps
        its own membership calls it. None costs the membership path nothing."""

    @property
    def host(self) -> AdapterHost:
        """The namespace this adapter acts through; InvalidState before it has one."""
        if self._host is None:
            raise InvalidState(f"the adapter of {self.nsp} has no namespace to act through")
        return self._host

    # -- membership (always local) ---------------------------------------------------

    @abstractmethod
    def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        """Put socket ``sid`` in every room of ``rooms``."""

    @abstractmethod
    def delete(self, sid: str, room: str) -> None:
        """Take socket ``sid`` out of ``room``."""

    @abstractmethod
    def delete_all(self, sid: str) -> None:
        """The socket left the namespace: out of every room."""

    @abstractmethod
    def socket_rooms(self, sid: str) -> frozenset[str]:
        """The rooms socket ``sid`` is in (empty if none)."""

    @abstractmethod
    def sockets(self, options: BroadcastOptions = EVERYONE) -> list[str]:
        """The local socket ids a broadcast with ``options`` would reach."""

    @abstractmethod
    def rooms(self) -> frozenset[str]:
        """Every room that has at least one local member."""

    # -- server-wide operations ------------------------------------------------------

    @abstractmethod
    def broadcast(self, packet: Packet, options: BroadcastOptions) -> int:
        """Send ``packet`` to its recipients; returns how many were local."""

    @abstractmethod
    def broadcast_with_ack(
        self, packet: Packet, options: BroadcastOptions, on_count: OnCount, on_reply: OnReply
    ) -> int | Awaitable[int]:
        """Send ``packet`` (an EVENT, its ``id`` unset) asking each recipient
        for an ack: ``on_count`` once per node, ``on_reply`` once per reply.
        Returns how many nodes will call ``on_count``, this one included: a
        number, or an awaitable of it when the cluster tells later (the
        nodes the broadcast reached, not those there were before)."""

    @abstractmethod
    async def fetch_sockets(self, options: BroadcastOptions) -> list[SocketDetails]:
        """The sockets ``options`` choose, on every node (this one's first)."""

    @abstractmethod
    def add_sockets(self, options: BroadcastOptions, rooms: Sequence[str]) -> None:
        """Make the chosen sockets join ``rooms``."""

    @abstractmethod
    def del_sockets(self, options: BroadcastOptions, rooms: Sequence[str]) -> None:
        """Make the chosen sockets leave ``rooms``."""

    @abstractmethod
    def disconnect_sockets(self, options: BroadcastOptions, close: bool) -> None:
        """Disconnect the chosen sockets; ``close`` ends their connections too."""

    @abstractmethod
    def server_side_emit(
        self,
        args: Sequence[Any],
        on_replies: OnServerReplies | None = None,
        timeout: float | None = None,
    ) -> None:
        """``args`` (event name first) for the server-side handlers of every
        OTHER node, as in Node (this node's handlers are not called). With
        ``on_replies``, it gets every node's reply, or an error after
        ``timeout`` seconds with the replies that came."""

    @abstractmethod
    async def server_count(self) -> int:
        """How many servers the cluster has, this one included."""

    # -- connection state recovery (none unless a subclass keeps sessions) -----------

    def enable_recovery(self, options: ConnectionStateRecovery) -> bool:
        """Keep sessions with ``options`` from now on; False when this
        adapter cannot (then the server offers no recovery in the namespace)."""
        return False

    def session_mark(self) -> str:
        """The offset current now: a socket connecting now missed nothing before it."""
        return ""

    def persist_session(self, state: SessionState) -> None:
        """A socket went away for a reason a client recovers from."""
        return  # nothing kept: this adapter cannot restore sessions

    async def restore_session(self, pid: str, offset: str | None) -> RestoredSession | None:
        """The session ``pid`` and the packets its client missed after
        ``offset``, or None (unknown, expired, or not whole any more)."""
        return None

    def holds_sessions(self) -> bool:
        """Whether sessions wait here for their clients: an empty dynamic
        namespace that holds some is kept until they expire."""
        return False

    # -- the namespace's end ---------------------------------------------------------

    def close(self) -> None:
        """The namespace is removed (a dynamic child whose last socket left):
        release what this adapter holds for it."""
        return


class AdapterFactory(ABC):
    """A configured adapter for ``Server(adapter=...)``: it makes the adapter
    of each namespace, and lives as long as the server serves. An
    :class:`Adapter` subclass itself is the simple case (no configuration, no
    life of its own); a cluster adapter is an instance of a factory, holding
    the connection that all the namespaces of a server share."""

    @abstractmethod
    def __call__(
        self,
        nsp: str,
        deliver: Deliver,
        make_message: MessageFactory,
        host: AdapterHost | None = None,
    ) -> Adapter: ...

    @abstractmethod
    def start(self, runtime: Runtime) -> None:
        """The server is bound to ``runtime`` and about to serve."""

    @abstractmethod
    def close(self) -> None:
        """The server shuts down: stop talking to the cluster."""

    def presence_store(self, tell: Callable[[str, str, str], None], max_last_seen: int) -> Any:
        """Where ``sio.presence`` counts users, when the cluster counts them
        (a :class:`realtime.presence.PresenceStore`); None: in this process."""
        return None


AdapterSetting = type[Adapter] | AdapterFactory
"""What ``Server(adapter=...)`` takes."""


DEFAULT_ACK_TIMEOUT = 60.0
"""Seconds a node keeps waiting for acks of a broadcast whose flags name no timeout."""


def _forget(host: AdapterHost, sids: list[str], ack_id: int) -> None:
    for sid in sids:
        host.forget_ack(sid, ack_id)


class MemoryAdapter(Adapter):
    """Membership in two dicts (room -> sids, sid -> rooms); dicts rather than
    sets keep delivery in join order, which makes behaviour reproducible.

    The server-wide operations reach this process's sockets, which for a
    single server is all of them.
    """

    def __init__(
        self,
        nsp: str,
        deliver: Deliver,
        make_message: MessageFactory,
        host: AdapterHost | None = None,
    ) -> None:
        super().__init__(nsp, deliver, make_message, host)
        self._rooms: dict[str, dict[str, None]] = {}
        self._sids: dict[str, dict[str, None]] = {}
        self.sessions: SessionStore | None = None
        """The recovery store, once :meth:`enable_recovery` made one."""

    def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        joined = self._sids.setdefault(sid, {})
        watcher = self.on_membership
        for room in rooms:
            if watcher is not None and room not in joined:
                watcher(room, sid, True)
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
        if members is None or sid not in members:
            return
        del members[sid]
        if not members:
            del self._rooms[room]
        if self.on_membership is not None:
            self.on_membership(room, sid, False)

    def socket_rooms(self, sid: str) -> frozenset[str]:
        return frozenset(self._sids.get(sid, ()))

    def rooms(self) -> frozenset[str]:
        return frozenset(self._rooms)

    def sockets(self, options: BroadcastOptions = EVERYONE) -> list[str]:
        return select(self._rooms, self._sids, options)

    # -- broadcast -------------------------------------------------------------------

    def broadcast(self, packet: Packet, options: BroadcastOptions) -> int:
        store = self.sessions
        if store is not None and store.stores(packet, options):
            # Stored even with nobody to send to now: a session may miss it.
            return self._send(store.keep(packet, options), options, self.sockets(options))
        return self.broadcast_local(packet, options)

    def broadcast_local(self, packet: Packet, options: BroadcastOptions) -> int:
        """Send ``packet`` to this node's recipients only; returns how many."""
        recipients = self.sockets(options)
        if not recipients:
            return 0  # nobody to send to: skip the encoding too
        messages = [self.make_message(part) for part in encode(packet)]
        return self._send(messages, options, recipients)

    def _send(
        self, messages: list[SharedMessage], options: BroadcastOptions, recipients: list[str]
    ) -> int:
        if options.flags.volatile:
            deliver_volatile = self.host.deliver_volatile
            for sid in recipients:
                deliver_volatile(sid, messages)
        else:
            deliver = self.deliver
            for sid in recipients:
                deliver(sid, messages)
        return len(recipients)

    def broadcast_with_ack(
        self, packet: Packet, options: BroadcastOptions, on_count: OnCount, on_reply: OnReply
    ) -> int | Awaitable[int]:
        self.broadcast_with_ack_local(packet, options, on_count, on_reply)
        return 1

    def broadcast_with_ack_local(
        self, packet: Packet, options: BroadcastOptions, on_count: OnCount, on_reply: OnReply
    ) -> None:
        """Send ``packet`` to this node's recipients asking each for an ack, under one ack id:
        ``on_count`` once with their number, ``on_reply`` once per reply."""
        host = self.host
        recipients = self.sockets(options)
        if not recipients:
            on_count(0)
            return
        ack_id = host.next_ack_id()
        # One id for every recipient: the packet is encoded once.
        sent = Packet(packet.type, packet.nsp, packet.data, ack_id)
        messages = [self.make_message(part) for part in encode(sent)]
        volatile = options.flags.volatile
        waiting: list[str] = []
        for sid in recipients:
            if not host.expect_ack(sid, ack_id, on_reply):
                continue
            if volatile and not host.deliver_volatile(sid, messages):
                host.forget_ack(sid, ack_id)
                continue  # dropped: no reply will come, so it is not counted
            if not volatile:
                self.deliver(sid, messages)
            waiting.append(sid)
        if waiting:
            # Whoever asked stops listening at the timeout: so do the sockets,
            # or a client that never answers would pile up waits.
            timeout = options.flags.timeout
            host.schedule(
                DEFAULT_ACK_TIMEOUT if timeout is None else timeout,
                lambda: _forget(host, waiting, ack_id),
            )
        on_count(len(waiting))

    # -- sockets ---------------------------------------------------------------------

    async def fetch_sockets(self, options: BroadcastOptions) -> list[SocketDetails]:
        return self.fetch_sockets_local(options)

    def fetch_sockets_local(self, options: BroadcastOptions) -> list[SocketDetails]:
        """The sockets ``options`` choose on this node."""
        details = self.host.socket_details
        found = [details(sid) for sid in self.sockets(options)]
        return [item for item in found if item is not None]

    def add_sockets(self, options: BroadcastOptions, rooms: Sequence[str]) -> None:
        for sid in self.sockets(options):
            self.add_all(sid, rooms)

    def del_sockets(self, options: BroadcastOptions, rooms: Sequence[str]) -> None:
        for sid in self.sockets(options):
            for room in rooms:
                self.delete(sid, room)

    def disconnect_sockets(self, options: BroadcastOptions, close: bool) -> None:
        disconnect = self.host.disconnect_socket
        for sid in self.sockets(options):
            disconnect(sid, close)

    # -- servers ---------------------------------------------------------------------

    def server_side_emit(
        self,
        args: Sequence[Any],
        on_replies: OnServerReplies | None = None,
        timeout: float | None = None,
    ) -> None:
        # A single server has no other server to tell; Node's in-memory
        # adapter agrees (and a waiting caller gets no replies, at once).
        if on_replies is not None:
            on_replies(None, [])

    async def server_count(self) -> int:
        return 1

    # -- connection state recovery ---------------------------------------------------

    def enable_recovery(self, options: ConnectionStateRecovery) -> bool:
        self.sessions = SessionStore(options, self.make_message, self.host.schedule)
        return True

    def holds_sessions(self) -> bool:
        return self.sessions is not None and self.sessions.sessions > 0

    def close(self) -> None:
        if self.sessions is not None:
            self.sessions.close()

    def session_mark(self) -> str:
        return self.sessions.mark() if self.sessions is not None else ""

    def persist_session(self, state: SessionState) -> None:
        if self.sessions is not None:
            self.sessions.persist(state)

    async def restore_session(self, pid: str, offset: str | None) -> RestoredSession | None:
        return self.sessions.restore(pid, offset) if self.sessions is not None else None

    # -- answering other nodes -------------------------------------------------------

    def serve(self, request: Request, respond: Callable[[Reply], None]) -> None:
        """Do the local part of another node's ``request``; each reply it
        calls for goes to ``respond`` (which publishes it to the requester).

        Requests for another namespace are ignored: the caller routes by
        ``nsp`` but a shared channel may carry them here.
        """
        if request.nsp != self.nsp:
            return
        if isinstance(request, Broadcast):
            self.broadcast_local(request.packet, request.options)
        elif isinstance(request, BroadcastWithAck):
            request_id = request.request_id
            self.broadcast_with_ack_local(
                request.packet,
                request.options,
                lambda n: respond(BroadcastClientCount(request_id, n)),
                lambda value: respond(BroadcastAck(request_id, value)),
            )
        elif isinstance(request, SocketsJoin):
            MemoryAdapter.add_sockets(self, request.options, request.rooms)
        elif isinstance(request, SocketsLeave):
            MemoryAdapter.del_sockets(self, request.options, request.rooms)
        elif isinstance(request, DisconnectSockets):
            MemoryAdapter.disconnect_sockets(self, request.options, request.close)
        elif isinstance(request, FetchSockets):
            found = tuple(self.fetch_sockets_local(request.options))
            respond(FetchSocketsReply(request.request_id, found))
        elif isinstance(request, ServerSideEmit):
            reply_id = request.request_id
            reply: OnReply | None = None
            if reply_id is not None:
                answered = False

                def reply(value: Any) -> None:
                    nonlocal answered
                    if not answered:  # one answer per node, as in Node
                        answered = True
                        respond(ServerSideEmitReply(reply_id, value))

            self.host.server_side_event(request.args, reply)
