"""Namespaces: handlers, middlewares, sockets and an adapter per name.

``sio.of("/admin")`` gives a static namespace. ``sio.of(pattern)`` or
``sio.of(predicate)`` gives a dynamic parent: each name it admits becomes a
child namespace sharing the parent's handlers and middlewares (registering
on the parent later still reaches every child), and emitting on the parent
reaches the sockets of every child.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

from .bus.acks import AckIds, BroadcastAcks, OnReplies
from .bus.adapter import DEFAULT_ACK_TIMEOUT, Adapter, Cancellable, OnReply
from .bus.namespaces import Matcher
from .bus.recovery import ConnectionStateRecovery
from .bus.requests import NO_FLAGS, BroadcastFlags, BroadcastOptions, SocketDetails
from .coroutines import is_awaitable
from .crossing import call_over, elsewhere
from .errors import InvalidState
from .handlers import Listener, SentEvents, check_handler, handler_name
from .http import Handshake
from .protocol.socketio import Packet, PacketType, check_event

if TYPE_CHECKING:
    from .roles import MemberSocket
    from .server import Server
    from .socket import Socket
    from .types import Promise, SharedMessage

logger: Final = logging.getLogger("realtime.socketio")


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
    """One Socket.IO namespace of a server: its handlers, middlewares, sockets and adapter.
    ``sio.of(name)`` makes or finds it; a dynamic one (a pattern or a predicate) has
    ``matcher`` set and makes a child namespace per name it accepts."""

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
        """The connection middlewares :meth:`use` added (a child shares its parent's)."""
        self.server_handlers: dict[str, Callable[..., Any]] = (
            parent.server_handlers if parent else {}
        )
        """The handlers of events other servers send (:meth:`on_server_side_emit`)."""
        self.any_handlers: list[Listener] = parent.any_handlers if parent else []
        """The listeners of every incoming event (:meth:`on_any`)."""
        self.outgoing_handlers: list[Listener] = parent.outgoing_handlers if parent else []
        """The listeners of every outgoing event (:meth:`on_any_outgoing`)."""
        self.watching = False
        """Whether anything listens to what this namespace's sockets are sent."""
        self._watched_sockets = 0
        self._sent = SentEvents()
        self.children: dict[str, Namespace] = {}
        """A dynamic namespace's children that exist now, by name."""
        self._sockets: dict[str, Socket] = {}
        self.ack_ids = AckIds()
        """The ack ids of this namespace's pending acks."""
        self.volatile_dropped = 0
        """Volatile packets dropped because a recipient was not writable."""
        self.adapter: Adapter = server.adapter_factory(
            name, self._deliver, server.make_message, self
        )
        """The namespace's adapter, made by the server's ``adapter`` option."""
        recovery = server.recovery
        self.recovery: ConnectionStateRecovery | None = None
        """The recovery options in force here (None: off, or the adapter cannot)."""
        if recovery is not None and self.adapter.enable_recovery(recovery):
            self.recovery = recovery
        self.update_delivery()

    def __repr__(self) -> str:
        return f"<Namespace {self.name}>"

    @property
    def dynamic(self) -> bool:
        """True for a parent of dynamic children (a pattern or a predicate), which no socket
        joins itself."""
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
            check_handler(event, fn, sid_at=1 if event == "*" else 0)
            self.handlers[event] = fn
            return fn

        return register if handler is None else register(handler)

    def event(self, handler: Handler) -> Handler:
        """Register ``handler`` for the event named as the function:
        ``@nsp.event`` over ``def chat_message(socket, text)`` handles
        ``"chat_message"`` (``connect`` and ``disconnect`` too)."""
        return self.on(handler_name(handler), handler)

    def on_any(self, listener: Handler) -> Handler:
        """Call ``listener(socket, event, *args)`` for every incoming event
        of this namespace, before the event's middlewares and handler, as
        Node's ``socket.onAny``; its return value is ignored (``on("*")``
        is the fallback handler whose return value acks)."""
        check_handler("*", listener)
        self.any_handlers.append(listener)
        return listener

    def on_any_outgoing(self, listener: Handler) -> Handler:
        """Call ``listener(socket, event, *args)`` for every event this
        namespace sends to one of its sockets, direct or broadcast, as it is
        sent (Node: ``socket.onAnyOutgoing``). Until one is set, broadcasts
        pay nothing for the feature."""
        check_handler("*", listener)
        self.outgoing_handlers.append(listener)
        for target in [self, *self.children.values()]:
            target.update_delivery()
        return listener

    @overload
    def on_server_side_emit(self, event: str) -> Callable[[Handler], Handler]: ...

    @overload
    def on_server_side_emit(self, event: str, handler: Handler) -> Handler: ...

    def on_server_side_emit(self, event: str, handler: Handler | None = None) -> Any:
        """Register the handler of ``event`` sent by another server's
        :meth:`server_side_emit` (Node: ``io.on(event)``); usable as a
        decorator. It gets the event's arguments (no socket), and its return
        value (awaited if need be) answers a server that waits for replies."""

        def register(fn: Handler) -> Handler:
            self.server_handlers[event] = fn
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
            merged.update(child.sockets)
        return merged

    def make_child(self, name: str) -> Namespace:
        """A new child of this dynamic namespace, called ``name``."""
        child = Namespace(self.server, name, parent=self)
        self.children[name] = child
        self.server.namespace_created(child)
        return child

    def find_socket(self, sid: str) -> Socket | None:
        """The socket ``sid`` of this namespace on this node, or None."""
        return self._sockets.get(sid)

    @property
    def socket_count(self) -> int:
        """How many sockets this namespace has on this node (none, if dynamic)."""
        return len(self._sockets)

    def add_socket(self, socket: Socket) -> None:
        """A socket joins this namespace (in the room named by its id)."""
        self._sockets[socket.id] = socket
        self.adapter.add_all(socket.id, (socket.id,))

    def remove_socket(self, socket: MemberSocket) -> None:
        """A socket leaves this namespace and all its rooms."""
        if self._sockets.get(socket.id) is socket:
            del self._sockets[socket.id]
            if socket.watches_outgoing:
                self.watch_socket(-1)
        self.adapter.delete_all(socket.id)
        if self.parent is not None and not self._sockets:
            self.server.child_emptied(self)

    def _deliver(self, sid: str, messages: Iterable[SharedMessage]) -> None:
        socket = self._sockets.get(sid)
        if socket is not None:
            socket.deliver(messages)

    # -- outgoing listeners ---------------------------------------------------------

    def watch_socket(self, change: int) -> None:
        """A socket of this namespace gained (+1) or lost (-1) its outgoing listeners."""
        self._watched_sockets += change
        self.update_delivery()

    def update_delivery(self) -> None:
        """Choose how the adapter delivers to this namespace's sockets: with
        or without telling outgoing listeners."""
        # The adapter calls ``deliver`` once per recipient of every broadcast:
        # without listeners it is the plain method, with no test of its own.
        self.watching = bool(self.outgoing_handlers) or self._watched_sockets > 0
        self.adapter.deliver = self._deliver_watched if self.watching else self._deliver

    def _deliver_watched(self, sid: str, messages: Sequence[SharedMessage]) -> None:
        socket = self._sockets.get(sid)
        if socket is not None:
            socket.tell_outgoing(self._sent.of(messages))
            socket.deliver(messages)

    def broadcast_targets(self) -> list[Namespace]:
        """The namespaces a broadcast on this one reaches: itself, or a
        dynamic parent's children."""
        return list(self.children.values()) if self.dynamic else [self]

    # -- AdapterHost: what the adapter asks of this namespace -----------------------

    def socket_details(self, sid: str) -> SocketDetails | None:
        socket = self._sockets.get(sid)
        if socket is None:
            return None
        shake = socket.handshake
        handshake = {
            "headers": dict(shake.headers),
            "query": dict(shake.query),
            "address": shake.address,
            "auth": shake.auth,
        }
        return SocketDetails(sid, socket.rooms, socket.data, handshake)

    def disconnect_socket(self, sid: str, close: bool) -> None:
        socket = self._sockets.get(sid)
        if socket is not None:
            socket.disconnect(close)

    def deliver_volatile(self, sid: str, messages: Sequence[SharedMessage]) -> bool:
        socket = self._sockets.get(sid)
        if socket is None:
            return False
        if not socket.conn.writable:
            self.volatile_dropped += 1
            return False
        if self.watching:
            socket.tell_outgoing(self._sent.of(messages))
        socket.deliver(messages)
        return True

    def next_ack_id(self) -> int:
        return self.ack_ids.next()

    def expect_ack(self, sid: str, ack_id: int, on_reply: OnReply) -> bool:
        socket = self._sockets.get(sid)
        if socket is None or not socket.connected:
            return False
        return socket.expect_ack(ack_id, on_reply)

    def forget_ack(self, sid: str, ack_id: int) -> None:
        socket = self._sockets.get(sid)
        if socket is not None:
            socket.forget_ack(ack_id)

    def server_side_event(self, args: Sequence[Any], reply: OnReply | None) -> None:
        if not args or not isinstance(args[0], str):
            return  # not an event: nothing to dispatch on
        handler = self.server_handlers.get(args[0])
        if handler is None:
            if reply is not None:
                reply(None)  # the requester counts one answer per server
            return

        async def run() -> None:
            try:
                result = handler(*args[1:])
                if is_awaitable(result):
                    result = await result
            except Exception:
                logger.exception("error in the server-side handler of %r", args[0])
                result = None
            if reply is not None:
                reply(result)

        self.server.runtime.spawn(run)  # inline unless the handler really awaits

    def schedule(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        now = self.server.runtime.now()
        return self.server.engine.deadlines.schedule(now + delay, lambda _: callback())

    def create_promise(self) -> Promise[Any]:
        return self.server.runtime.create_promise()

    # -- broadcast ------------------------------------------------------------------

    def emit(
        self,
        event: str,
        *args: Any,
        to: Rooms | None = None,
        skip: Any = None,
        callback: Callable[[BaseException | None, list[Any]], Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Send to every socket of the namespace, or those in ``to``, less
        ``skip``. With ``callback``, see :meth:`BroadcastOperator.emit`."""
        operator = BroadcastOperator(self, _rooms(to), skip_rooms(skip))
        operator.emit(event, *args, callback=callback, timeout=timeout)

    def call(
        self,
        event: str,
        *args: Any,
        to: Rooms | None = None,
        skip: Any = None,
        timeout: float | None = DEFAULT_ACK_TIMEOUT,
    ) -> Promise[list[Any]]:
        """Emit and wait for every recipient's ack (see :meth:`BroadcastOperator.call`)."""
        return BroadcastOperator(self, _rooms(to), skip_rooms(skip)).call(
            event, *args, timeout=timeout
        )

    def server_side_emit(
        self,
        event: str,
        *args: Any,
        callback: Callable[[BaseException | None, list[Any]], Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Send an event to the server-side handlers
        (:meth:`on_server_side_emit`) of every OTHER server of the cluster,
        as Node's ``serverSideEmit``: with the in-memory adapter there are
        none. With ``callback``, it gets ``(err, replies)``: one reply per
        other server, or a timeout error after ``timeout`` seconds."""
        check_event(event)
        done = None if callback is None else _reporter(self.server, callback)
        for target in self.broadcast_targets():
            target.adapter.server_side_emit([event, *args], done, timeout)

    def server_side_call(
        self, event: str, *args: Any, timeout: float | None = DEFAULT_ACK_TIMEOUT
    ) -> Promise[list[Any]]:
        """:meth:`server_side_emit` and wait: the other servers' replies."""
        promise = self.server.runtime.create_promise()
        self.server_side_emit(event, *args, callback=_settle_promise(promise), timeout=timeout)
        return promise

    def close_room(self, room: str) -> None:
        """Make every socket in ``room`` leave it (Node: ``in(room).socketsLeave(room)``)."""
        BroadcastOperator(self, frozenset((room,))).leave(room)

    def send(self, *args: Any, to: Rooms | None = None, skip: Any = None) -> None:
        """Emit a ``message`` event, as :meth:`emit` does."""
        self.emit("message", *args, to=to, skip=skip)

    def to(self, rooms: Rooms) -> BroadcastOperator:
        """The sockets in ``rooms``: a :class:`BroadcastOperator` to chain on."""
        return BroadcastOperator(self).to(rooms)

    def in_(self, rooms: Rooms) -> BroadcastOperator:
        """The same as :meth:`to` (python-socketio's name)."""
        return self.to(rooms)

    def except_(self, rooms: Any) -> BroadcastOperator:
        """Every socket but those in ``rooms``: a :class:`BroadcastOperator`."""
        return BroadcastOperator(self).except_(rooms)

    def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every socket of the namespace, on every node; with ``close``, end their
        connections too."""
        BroadcastOperator(self).disconnect_sockets(close)

    async def fetch_sockets(self) -> list[RemoteSocket]:
        """Every socket of the namespace, on every node, as :class:`RemoteSocket`."""
        return await BroadcastOperator(self).fetch_sockets()

    @property
    def local(self) -> BroadcastOperator:
        """A :class:`BroadcastOperator` that reaches this node's sockets only."""
        return BroadcastOperator(self).local

    @property
    def volatile(self) -> BroadcastOperator:
        """A :class:`BroadcastOperator` whose packets are dropped for a socket that cannot
        take them now."""
        return BroadcastOperator(self).volatile


def _reporter(
    server: Server, callback: Callable[[BaseException | None, list[Any]], Any]
) -> OnReplies:
    """``callback(err, replies)``, run by the server's runtime (it may be
    async; a plain one goes to a worker thread where handlers do)."""
    runtime, invoke = server.runtime, server.handler_runner.invoke

    def report(err: BaseException | None, replies: list[Any]) -> None:
        runtime.spawn(invoke, callback, err, replies)

    return report


def _settle_promise(
    promise: Promise[list[Any]],
) -> Callable[[BaseException | None, list[Any]], None]:
    def settle(err: BaseException | None, replies: list[Any]) -> None:
        if promise.done():
            return
        if err is not None:
            promise.set_exception(err)
        else:
            promise.set_result(replies)

    return settle


class BroadcastOperator:
    """A chosen set of recipients in one namespace: ``to`` adds rooms (any of
    them qualifies), ``except_`` removes rooms or sockets, ``local``,
    ``volatile`` and ``timeout`` set flags. Immutable.

    Every operation goes through the namespace's adapter, so with a cluster
    adapter it reaches the sockets of every node (unless ``local``).
    """

    __slots__ = ("except_rooms", "flags", "namespace", "rooms")

    def __init__(
        self,
        namespace: Namespace | None,
        rooms: frozenset[str] = frozenset(),
        except_rooms: frozenset[str] = frozenset(),
        flags: BroadcastFlags = NO_FLAGS,
    ) -> None:
        self.namespace = namespace
        self.rooms = rooms
        self.except_rooms = except_rooms
        self.flags = flags

    def to(self, rooms: Rooms) -> BroadcastOperator:
        """This selection plus the sockets in ``rooms`` (a new operator; this one is
        unchanged)."""
        return BroadcastOperator(
            self.namespace, self.rooms | _rooms(rooms), self.except_rooms, self.flags
        )

    def in_(self, rooms: Rooms) -> BroadcastOperator:
        """The same as :meth:`to` (python-socketio's name)."""
        return self.to(rooms)

    def except_(self, rooms: Any) -> BroadcastOperator:
        """Rooms, sockets or socket ids to leave out."""
        return BroadcastOperator(
            self.namespace, self.rooms, self.except_rooms | skip_rooms(rooms), self.flags
        )

    def _with(self, flags: BroadcastFlags) -> BroadcastOperator:
        return BroadcastOperator(self.namespace, self.rooms, self.except_rooms, flags)

    @property
    def local(self) -> BroadcastOperator:
        """This server's sockets only, even with a cluster adapter."""
        f = self.flags
        return self._with(BroadcastFlags(True, f.volatile, f.compress, f.timeout))

    @property
    def volatile(self) -> BroadcastOperator:
        """Drop the packet for a recipient whose transport is not writable
        now, instead of queueing it (for data that is stale by the time a
        slow client would read it)."""
        f = self.flags
        return self._with(BroadcastFlags(f.local, True, f.compress, f.timeout))

    def timeout(self, seconds: float) -> BroadcastOperator:
        """How long :meth:`emit` with a callback (and :meth:`call`) waits."""
        f = self.flags
        return self._with(BroadcastFlags(f.local, f.volatile, f.compress, seconds))

    @property
    def options(self) -> BroadcastOptions:
        """The selection as the adapter takes it: rooms, rooms left out, flags."""
        return BroadcastOptions(self.rooms, self.except_rooms, self.flags)

    def _targets(self) -> list[Namespace]:
        return self.namespace.broadcast_targets() if self.namespace is not None else []

    # -- emitting -------------------------------------------------------------------

    def emit(
        self,
        event: str,
        *args: Any,
        callback: Callable[[BaseException | None, list[Any]], Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Encode once per namespace, hand the same messages to every recipient.

        With ``callback``, every recipient is asked for an ack and
        ``callback(err, replies)`` is called once (it may be async):
        ``err`` None and one reply per recipient (its first ack argument),
        or a :class:`~realtime.BroadcastAckTimeout` after ``timeout``
        seconds (default :meth:`timeout`'s, else 60) with the replies that
        came in time.
        """
        check_event(event)
        namespace = self.namespace
        runtime = namespace.server.bound_runtime if namespace is not None else None
        # elsewhere(), not handed_over(): see Socket.emit.
        if elsewhere(runtime):
            runtime.call_soon_threadsafe(self._emit_here, event, args, callback, timeout)
        else:
            self._emit_here(event, args, callback, timeout)

    def _emit_here(
        self,
        event: str,
        args: Sequence[Any],
        callback: Callable[[BaseException | None, list[Any]], Any] | None,
        timeout: float | None,
    ) -> None:
        if callback is not None:
            namespace = self.namespace
            if namespace is None:
                raise InvalidState("an unknown namespace has no sockets to acknowledge")
            self._emit_with_ack(event, args, _reporter(namespace.server, callback), timeout)
            return
        options = self.options
        for target in self._targets():
            packet = Packet(PacketType.EVENT, target.name, [event, *args])
            reached = target.adapter.broadcast(packet, options)
            counters = target.server.engine.counters
            counters.broadcasts += 1
            counters.deliveries += reached

    def send(self, *args: Any) -> None:
        """Emit a ``message`` event, as :meth:`emit` does."""
        self.emit("message", *args)

    def call(self, event: str, *args: Any, timeout: float | None = None) -> Promise[list[Any]]:
        """Emit and wait for every recipient's ack: ``replies = await ...call()``.

        Resolves to the list of replies (each recipient's first ack argument;
        ``[]`` when nobody was reached). Raises
        :class:`~realtime.BroadcastAckTimeout` (its ``replies`` holds what
        came) after ``timeout`` seconds: :meth:`timeout`'s, else 60.
        """
        check_event(event)
        namespace = self.namespace
        if namespace is None:
            raise InvalidState("an unknown namespace has no sockets to acknowledge")
        runtime = namespace.server.runtime
        if elsewhere(runtime):
            return call_over(
                runtime,
                lambda promise: self._emit_with_ack(event, args, _settle_promise(promise), timeout),
            )
        promise: Promise[list[Any]] = runtime.create_promise()
        self._emit_with_ack(event, args, _settle_promise(promise), timeout)
        return promise

    def _emit_with_ack(
        self, event: str, args: Sequence[Any], on_done: OnReplies, timeout: float | None
    ) -> None:
        assert self.namespace is not None
        if timeout is None:
            timeout = self.flags.timeout if self.flags.timeout is not None else DEFAULT_ACK_TIMEOUT
        f = self.flags
        options = BroadcastOptions(
            self.rooms, self.except_rooms, BroadcastFlags(f.local, f.volatile, f.compress, timeout)
        )
        acks = BroadcastAcks(on_done)
        targets = self._targets()
        acks.timer = self.namespace.server.engine.deadlines.schedule(
            self.namespace.server.runtime.now() + timeout, acks.expire
        )
        servers = 0
        waiting: list[Any] = []
        for target in targets:
            packet = Packet(PacketType.EVENT, target.name, [event, *args])
            count: object = target.adapter.broadcast_with_ack(
                packet, options, acks.on_count, acks.on_reply
            )
            if isinstance(count, int):
                servers += count
            elif count is None:
                # An adapter written before it said (its method returns None): ask it.
                waiting.append(target.adapter.server_count())
            else:
                waiting.append(count)  # a cluster's: known when the broadcast is out
        if not waiting:
            acks.expect_servers(servers)
            return

        async def count_servers() -> None:
            total = servers
            for pending in waiting:
                total += await pending
            acks.expect_servers(total)

        self.namespace.server.runtime.spawn(count_servers)

    # -- sockets --------------------------------------------------------------------

    def sockets(self) -> list[Socket]:
        """The chosen sockets of THIS server (see :meth:`fetch_sockets`)."""
        found: list[Socket] = []
        for target in self._targets():
            for sid in target.adapter.sockets(self.options):
                socket = target.find_socket(sid)
                if socket is not None:
                    found.append(socket)
        return found

    async def fetch_sockets(self) -> list[RemoteSocket]:
        """The chosen sockets on every server (this one's only if ``local``),
        as :class:`RemoteSocket` objects: ``id``, ``rooms``, ``data``,
        ``handshake``, and ``emit``/``join``/``leave``/``disconnect``."""
        found: list[RemoteSocket] = []
        for target in self._targets():
            for details in await target.adapter.fetch_sockets(self.options):
                found.append(RemoteSocket(target, details))
        return found

    def join(self, rooms: Rooms) -> None:
        """Make the chosen sockets join ``rooms`` (Node: ``socketsJoin``)."""
        names = sorted(_rooms(rooms))
        for target in self._targets():
            target.adapter.add_sockets(self.options, names)

    def leave(self, rooms: Rooms) -> None:
        """Make the chosen sockets leave ``rooms`` (Node: ``socketsLeave``)."""
        names = sorted(_rooms(rooms))
        for target in self._targets():
            target.adapter.del_sockets(self.options, names)

    def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect the chosen sockets; ``close`` ends their connections too."""
        for target in self._targets():
            target.adapter.disconnect_sockets(self.options, close)


class RemoteSocket:
    """A socket returned by :meth:`BroadcastOperator.fetch_sockets`, on this
    server or another: a snapshot of ``id``, ``rooms``, ``data`` and
    ``handshake``, and operations that reach the socket wherever it lives
    (through the adapter, addressed to the room named by its id).

    For a socket of this server, ``data`` is the socket's own object.
    """

    __slots__ = ("data", "handshake", "id", "namespace", "rooms")

    def __init__(self, namespace: Namespace, details: SocketDetails) -> None:
        self.namespace = namespace
        self.id = details.id
        """The socket's id."""
        self.rooms = details.rooms
        """The rooms the socket was in when fetched."""
        self.data = details.data
        """The socket's ``data``: its own object for a socket of this node, a copy from
        another node."""
        shake = details.handshake
        auth = shake.get("auth")
        self.handshake = Handshake(
            dict(shake.get("headers") or {}),
            dict(shake.get("query") or {}),
            shake.get("address"),
            dict(auth) if isinstance(auth, Mapping) else {},
        )
        """The socket's handshake: headers, query, address and auth."""

    def __repr__(self) -> str:
        return f"<RemoteSocket {self.id} {self.namespace.name}>"

    def _operator(self) -> BroadcastOperator:
        return BroadcastOperator(self.namespace, frozenset((self.id,)))

    def emit(
        self,
        event: str,
        *args: Any,
        callback: Callable[..., Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Send an event; with ``callback``, it gets ``(err, reply)`` as
        Node's ``remoteSocket.timeout(t).emit(..., cb)`` does."""
        if callback is None:
            self._operator().emit(event, *args)
            return

        def single(err: BaseException | None, replies: list[Any]) -> Any:
            return callback(err, replies[0] if replies else None)

        self._operator().emit(event, *args, callback=single, timeout=timeout)

    async def call(self, event: str, *args: Any, timeout: float | None = None) -> Any:
        """Emit and wait for the socket's reply (its first ack argument)."""
        replies = await self._operator().call(event, *args, timeout=timeout)
        return replies[0] if replies else None

    def join(self, rooms: Rooms) -> None:
        """Put the socket in ``rooms``, on whichever node it is connected to."""
        self._operator().join(rooms)

    def leave(self, rooms: Rooms) -> None:
        """Take the socket out of ``rooms``, on whichever node it is connected to."""
        self._operator().leave(rooms)

    def disconnect(self, close: bool = False) -> None:
        """Disconnect the socket from its namespace; with ``close``, end its whole connection
        too."""
        self._operator().disconnect_sockets(close)
