"""The public Socket.IO server: the engine's listener, and the application's API.

::

    sio = realtime.Server()

    @sio.on("connect")
    async def connect(socket, auth):
        socket.join("lobby")

    @sio.on("message")
    def message(socket, *args):
        sio.emit("message", *args, to="lobby", skip=socket)
        return "got it"

Nothing here blocks: ``emit``, ``join``, ``leave`` and ``disconnect`` encode,
queue and wake the connection's writer. Handlers run on the runtime (one
serial runner per socket); timers (connect timeout, ack timeouts) are entries
in the engine's deadline heap.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import CoroutineType
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

from ._log import log_once
from .bus.adapter import DEFAULT_ACK_TIMEOUT, AdapterFactory, AdapterSetting, MemoryAdapter
from .bus.namespaces import Matcher, NamespaceTable, normalize
from .bus.recovery import ConnectionStateRecovery, RestoredSession
from .coroutines import DONE, Done, never_suspends, run_now
from .crossing import handed_over
from .engine import CorsSetting, Engine
from .errors import InvalidArgument, InvalidArgumentType, InvalidState
from .handlers import HandlerRunner, check_callback, is_async
from .http import Handshake
from .namespace import BroadcastOperator, Namespace, RemoteSocket, Rooms, skip_rooms
from .protocol.counters import Timings
from .protocol.deadlines import Timer
from .protocol.engineio import Message
from .protocol.limits import TokenBucket
from .protocol.socketio import (
    ACK_TYPES,
    DEFAULT_MAX_ATTACHMENTS,
    DEFAULT_MAX_DEPTH,
    EVENT_TYPES,
    Decoder,
    MalformedPacket,
    PacketType,
    check_max_depth,
    connect_error,
    encode,
)
from .reasons import node_reason
from .sessions import SessionScope, save, session_of
from .socket import Socket, logger
from .types import Connection, Data, Promise, Runtime, ServerWatcher, SharedMessage

if TYPE_CHECKING:
    from .roles import MemberSocket

__all__ = ["BroadcastOperator", "Handshake", "Namespace", "RemoteSocket", "Server", "Socket"]

Handler = TypeVar("Handler", bound=Callable[..., Any])

# The packets a socket handles itself (most packets), as a tuple of enum
# members: see EVENT_TYPES for why not ``PacketType.X`` in the hot path.
_FOR_SOCKET: Final = (*EVENT_TYPES, *ACK_TYPES)


def _either(value: Any, alias: Any, name: str, alias_name: str) -> Any:
    """A keyword or its python-socketio name, not both."""
    if alias is None:
        return value
    if value is not None:
        raise InvalidArgumentType(f"{name}= and {alias_name}= are the same argument: give one")
    return alias


class _Client:
    """One Engine.IO connection and the sockets it opened, by namespace."""

    __slots__ = ("conn", "connect_timer", "decoder", "events", "revision", "sockets")

    def __init__(
        self, conn: Connection, max_attachments: int, max_depth: int, events: TokenBucket | None
    ) -> None:
        self.conn = conn
        self.revision = 5 if conn.protocol >= 4 else 4
        self.decoder = Decoder(self.revision, max_attachments=max_attachments, max_depth=max_depth)
        self.sockets: dict[str, Socket] = {}
        self.connect_timer: Timer | None = None
        self.events = events  # the connection's event rate, when limited


class Server:
    """A Socket.IO server (revisions 4 and 5) on its own Engine.IO engine.

    ``connect_timeout``: seconds a connection may stay without a namespace.
    ``max_attachments``: binary attachments allowed in one packet.
    ``max_depth``: arrays and objects one payload may nest (at most 256); a
    deeper packet is a parse error, as is a number JSON cannot hold (1e999).
    ``max_namespaces``: namespaces one connection may join at once (dynamic
    namespaces would otherwise let one client open sockets without end).
    ``max_dynamic_namespaces``: children of dynamic (pattern or predicate)
    namespaces that may exist at once, server-wide; a child is removed when
    its last socket leaves, and a CONNECT that would create one more is
    refused ("Too many namespaces").
    ``max_pending_events``: events one socket may have waiting for a busy
    handler; a client that sends faster than its handlers finish is closed
    ("event backlog") instead of growing the server without bound.
    ``max_pending_acks``: acks one socket may be waiting for (emits with a
    callback, ``call``, broadcasts with acks); a client that leaves that many
    unanswered is closed ("ack backlog") and every waiter hears
    :class:`~realtime.Disconnected`.
    ``events_per_second``, ``event_burst``: the event rate one connection
    may keep up (a token bucket; None: unlimited); over it
    ``event_rate_policy`` applies: ``"disconnect"`` closes the connection
    ("event rate"), ``"drop"`` drops the event (counted, logged once).
    ``adapter``: the :class:`~realtime.bus.Adapter` class each namespace uses,
    or a configured :class:`~realtime.bus.adapter.AdapterFactory` such as
    :class:`~realtime.RedisAdapter`.
    ``connection_state_recovery``: ``True`` or a
    :class:`~realtime.ConnectionStateRecovery` to let a client that lost its
    connection get its socket back, with the broadcasts it missed
    (Socket.IO v5 clients; off by default).
    Further keyword arguments go to :class:`~realtime.Engine`. Every option,
    with its default: docs/server.md#options.
    """

    def __init__(
        self,
        *,
        ping_interval: float = 25,
        ping_timeout: float = 20,
        max_payload: int = 1_000_000,
        connect_timeout: float = 45,
        cors_allowed_origins: CorsSetting = None,
        transports: Iterable[str] = ("polling", "websocket"),
        path: str = "/socket.io",
        max_attachments: int = DEFAULT_MAX_ATTACHMENTS,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_namespaces: int = 100,
        max_dynamic_namespaces: int = 10_000,
        max_pending_events: int = 1000,
        max_pending_acks: int = 1000,
        events_per_second: float | None = 1_000.0,
        event_burst: int = 2_000,
        event_rate_policy: str = "disconnect",
        adapter: AdapterSetting = MemoryAdapter,
        connection_state_recovery: bool | ConnectionStateRecovery = False,
        **engine_options: Any,
    ) -> None:
        self._engine = Engine(
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            max_payload=max_payload,
            cors_allowed_origins=cors_allowed_origins,
            transports=transports,
            path=path,
            listener=self,
            **engine_options,
        )
        self.connect_timeout = connect_timeout
        self.max_attachments = max_attachments
        check_max_depth(max_depth)
        self.max_depth = max_depth
        self.max_namespaces = max_namespaces
        if max_dynamic_namespaces < 1:
            raise InvalidArgument("max_dynamic_namespaces must be at least 1")
        self.max_dynamic_namespaces = max_dynamic_namespaces
        self._children = 0  # dynamic children, counted against max_dynamic_namespaces
        # Empty children kept because sessions wait in them for their clients
        # (connection state recovery): removed when room is needed and they expired.
        self._kept_children: dict[str, Namespace] = {}
        self.max_pending_events = max_pending_events
        if max_pending_acks < 1:
            raise InvalidArgument("max_pending_acks must be at least 1")
        self.max_pending_acks = max_pending_acks
        self.handler_runner = HandlerRunner(self._engine.counters)
        """How the application's handlers run (:class:`~realtime.handlers.HandlerRunner`)."""
        if event_rate_policy not in ("disconnect", "drop"):
            raise InvalidArgument(
                f"event_rate_policy is 'disconnect' or 'drop', not {event_rate_policy!r}"
            )
        if events_per_second is not None and (events_per_second <= 0 or event_burst < 1):
            raise InvalidArgument("events_per_second must be positive and event_burst at least 1")
        self.events_per_second = events_per_second
        self.event_burst = event_burst
        self.event_rate_policy = event_rate_policy
        self.adapter_factory = adapter
        """The ``adapter`` option: what makes each namespace's adapter."""
        if connection_state_recovery is True:
            connection_state_recovery = ConnectionStateRecovery()
        self.recovery: ConnectionStateRecovery | None = connection_state_recovery or None
        """The connection state recovery options, or None when it is off."""
        self._runtime: Runtime | None = None
        # start_background_task's calls before there is a runtime to run them
        self._background: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self._clients: dict[str, _Client] = {}
        self._namespaces: NamespaceTable[Namespace] = NamespaceTable()
        self._closing = False
        self.watchers: list[ServerWatcher] = []
        """Who :meth:`watch` tells of namespaces and sockets (the presence, the Admin UI)."""
        self._presence: Any = None
        self.of("/")

    # -- wiring ---------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The Engine.IO engine this server runs on (made by the server from its engine
        options)."""
        return self._engine

    @property
    def runtime(self) -> Runtime:
        """The runtime the host bound this server to; InvalidState before :meth:`bind`."""
        if self._runtime is None:
            raise InvalidState("the server is not bound to a runtime yet (see Server.bind)")
        return self._runtime

    @property
    def bound_runtime(self) -> Runtime | None:
        """The runtime the host bound this server to, or None before :meth:`bind`."""
        return self._runtime

    def bind(self, runtime: Runtime) -> None:
        """Called by the host integration before serving."""
        self._runtime = runtime
        self._engine.bind(runtime)
        self.handler_runner.offload = runtime.offload
        if isinstance(self.adapter_factory, AdapterFactory):
            self.adapter_factory.start(runtime)
        waiting, self._background = self._background, []
        for target, args in waiting:
            self.start_background_task(target, *args)

    def start_background_task(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``target(*args, **kwargs)`` alongside the server, on its host:
        an ``async def`` as a task on the loop (asyncio hosts); a plain
        function in a thread of its own, where it may block and
        :meth:`sleep` waits (asyncio hosts), or in a green thread (eventlet).
        Callable from any thread, and before the server runs (the task then
        starts when it does). Failures are logged."""
        if kwargs:
            target = functools.partial(target, **kwargs)
        runtime = self._runtime
        if runtime is None:
            self._background.append((target, args))
        elif not is_async(target):
            runtime.spawn_blocking(target, *args)
        elif not handed_over(runtime, target, *args):
            runtime.spawn(target, *args)

    def sleep(self, seconds: float) -> Awaitable[None]:
        """Wait ``seconds`` in the host's way: ``await sio.sleep(1)`` in an
        ``async def`` on an asyncio host; on eventlet, and on any other
        thread, the call itself waits (and the result may be awaited too)."""
        runtime = self._runtime
        if runtime is not None:
            return runtime.sleep(seconds)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            time.sleep(seconds)
            return DONE
        return asyncio.sleep(seconds)

    @property
    def timings(self) -> Timings | None:
        """Handler durations and ack latency: only once metrics are turned on
        (:meth:`enable_timings`), so that a server without them reads no clock."""
        return self.handler_runner.timings

    def enable_timings(self) -> Timings:
        """Time event handlers and the acks the server waits for from now on
        (``realtime.metrics`` does this; sockets connected before are timed
        in their handlers, not their acks)."""
        runner = self.handler_runner
        if runner.timings is None:
            runner.timings = Timings(time.perf_counter)
        return runner.timings

    def attach(self, app: Any, *, body_timeout: float = 75.0, handler_threads: int = 0) -> None:
        """Serve this server on its path within an aiohttp ``web.Application``
        (``realtime.attach``: the options are its own)."""
        from .integrations.aiohttp import attach

        attach(self, app, body_timeout=body_timeout, handler_threads=handler_threads)

    def __call__(self, *args: Any) -> Any:
        """A Server is not a web application; mounting it as one (FastAPI's
        ``app.mount("/socket.io", sio)``, a WSGI dispatcher) fails with a
        request for the host that serves it."""
        raise InvalidArgumentType(
            "a realtime.Server is not an ASGI or WSGI application: serve it through its host, "
            "realtime.ASGIApp(sio, other_asgi_app=fastapi_app) for FastAPI or Starlette (run "
            "that under uvicorn; or mount realtime.ASGIApp(sio) under a prefix, clients then "
            'use path "/prefix/socket.io"), realtime.WSGIApp(sio, wsgi_app=flask_app) for Flask'
        )

    @staticmethod
    def make_message(data: Data) -> SharedMessage:
        """The shared message a broadcast hands to every recipient."""
        return Message(data)

    # -- namespaces and handlers ----------------------------------------------------

    def of(self, name: str | Matcher) -> Namespace:
        """The namespace called ``name``, created on first use; or, for a
        compiled pattern or a ``(name, auth) -> bool`` predicate, a new
        dynamic parent namespace."""
        if isinstance(name, str):
            name = normalize(name)
            namespace = self._namespaces.get(name)
            if namespace is None:
                namespace = Namespace(self, name)
                self._namespaces.add(name, namespace)
                self.namespace_created(namespace)
            return namespace
        label = getattr(name, "pattern", None) or getattr(name, "__name__", repr(name))
        parent = Namespace(self, str(label), matcher=name)
        self._namespaces.add_matcher(name, parent)
        return parent

    @overload
    def on(self, event: str, *, namespace: str = "/") -> Callable[[Handler], Handler]: ...

    @overload
    def on(self, event: str, handler: Handler, *, namespace: str = "/") -> Handler: ...

    def on(self, event: str, handler: Handler | None = None, *, namespace: str = "/") -> Any:
        """Register a handler on ``namespace`` (see :meth:`Namespace.on`)."""
        target = self.of(namespace)
        return target.on(event) if handler is None else target.on(event, handler)

    def use(self, middleware: Handler, *, namespace: str = "/") -> Handler:
        """Add a connection middleware to ``namespace`` (see :meth:`Namespace.use`)."""
        return self.of(namespace).use(middleware)

    @overload
    def event(self, handler: Handler, /) -> Handler: ...

    @overload
    def event(self, *, namespace: str = "/") -> Callable[[Handler], Handler]: ...

    def event(self, handler: Callable[..., Any] | None = None, *, namespace: str = "/") -> Any:
        """Register a handler for the event named as the function, as
        python-socketio's ``@sio.event``: ``def chat_message(socket, text)``
        handles ``"chat_message"``. ``@sio.event(namespace="/chat")`` for
        another namespace (see :meth:`Namespace.event`)."""
        target = self.of(namespace)
        return target.event if handler is None else target.event(handler)

    @overload
    def on_any(self, listener: Handler, /) -> Handler: ...

    @overload
    def on_any(self, *, namespace: str = "/") -> Callable[[Handler], Handler]: ...

    def on_any(self, listener: Callable[..., Any] | None = None, *, namespace: str = "/") -> Any:
        """``listener(socket, event, *args)`` for every incoming event of
        ``namespace`` (see :meth:`Namespace.on_any`)."""
        target = self.of(namespace)
        return target.on_any if listener is None else target.on_any(listener)

    @overload
    def on_any_outgoing(self, listener: Handler, /) -> Handler: ...

    @overload
    def on_any_outgoing(self, *, namespace: str = "/") -> Callable[[Handler], Handler]: ...

    def on_any_outgoing(
        self, listener: Callable[..., Any] | None = None, *, namespace: str = "/"
    ) -> Any:
        """``listener(socket, event, *args)`` for every event sent to a socket
        of ``namespace`` (see :meth:`Namespace.on_any_outgoing`)."""
        target = self.of(namespace)
        return target.on_any_outgoing if listener is None else target.on_any_outgoing(listener)

    @overload
    def on_server_side_emit(
        self, event: str, *, namespace: str = "/"
    ) -> Callable[[Handler], Handler]: ...

    @overload
    def on_server_side_emit(
        self, event: str, handler: Handler, *, namespace: str = "/"
    ) -> Handler: ...

    def on_server_side_emit(
        self, event: str, handler: Handler | None = None, *, namespace: str = "/"
    ) -> Any:
        """Handle ``event`` sent by another server's :meth:`server_side_emit`
        (see :meth:`Namespace.on_server_side_emit`)."""
        target = self.of(namespace)
        if handler is None:
            return target.on_server_side_emit(event)
        return target.on_server_side_emit(event, handler)

    def _namespace(self, name: str) -> Namespace | None:
        return self._namespaces.get(normalize(name))

    def namespace_named(self, name: str) -> Namespace | None:
        """The namespace ``name`` if it exists (a dynamic child once created);
        unlike :meth:`of`, never creates one."""
        return self._namespace(name)

    def instrument(
        self,
        auth: Mapping[str, str] | None,
        *,
        namespace: str = "/admin",
        read_only: bool = False,
        mode: str = "production",
        server_id: str | None = None,
    ) -> Any:
        """Serve the official Socket.IO Admin UI's protocol on ``namespace``
        (realtime.admin). ``auth``: ``{"username": ..., "password": ...}``, or
        None for none (only where the namespace cannot be reached from outside).
        ``mode="development"`` also reports every socket, room change and
        event; ``read_only`` refuses the UI's commands."""
        from .admin import AdminUI

        return AdminUI(
            self,
            auth=auth,
            namespace=namespace,
            read_only=read_only,
            mode=mode,
            server_id=server_id,
        )

    # -- sending --------------------------------------------------------------------

    def emit(
        self,
        event: str,
        *args: Any,
        to: Rooms | None = None,
        skip: Any = None,
        namespace: str = "/",
        callback: Callable[[BaseException | None, list[Any]], Any] | None = None,
        timeout: float | None = None,
        room: Rooms | None = None,
        skip_sid: Any = None,
    ) -> Done:
        """Send to every socket of ``namespace``, or to those in the rooms
        ``to`` (a room, a socket id, or several), except ``skip`` (sockets,
        socket ids or rooms). Encoded once for all recipients.

        With ``callback``, each recipient is asked for an ack and
        ``callback(err, replies)`` runs once: every reply, or a
        :class:`~realtime.BroadcastAckTimeout` after ``timeout`` seconds
        (default 60) with the replies that came.

        For python-socketio's code: ``room`` is ``to`` and ``skip_sid`` is
        ``skip``, and the result may be awaited (it is already done)."""
        to = _either(to, room, "to", "room")
        skip = _either(skip, skip_sid, "skip", "skip_sid")
        if callback is not None:
            check_callback(callback)
        operator = self.to(to, namespace=namespace) if to is not None else self._operator(namespace)
        operator.except_(skip).emit(event, *args, callback=callback, timeout=timeout)
        return DONE

    def call(
        self,
        event: str,
        *args: Any,
        to: Rooms | None = None,
        skip: Any = None,
        namespace: str = "/",
        timeout: float | None = DEFAULT_ACK_TIMEOUT,
        room: Rooms | None = None,
        skip_sid: Any = None,
    ) -> Promise[list[Any]]:
        """Emit and wait for every recipient's ack: ``replies = await
        sio.call("ping", to="room", timeout=5)`` (see :meth:`BroadcastOperator.call`).
        A list, one reply per recipient, even for one socket's id (python-socketio
        returns that socket's reply: ``await sio.get_socket(sid).call(...)`` does)."""
        to = _either(to, room, "to", "room")
        skip = _either(skip, skip_sid, "skip", "skip_sid")
        operator = self.to(to, namespace=namespace) if to is not None else self._operator(namespace)
        return operator.except_(skip).call(event, *args, timeout=timeout)

    def server_side_emit(
        self,
        event: str,
        *args: Any,
        namespace: str = "/",
        callback: Callable[[BaseException | None, list[Any]], Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Send ``event`` to the :meth:`on_server_side_emit` handlers of the
        other servers of the cluster (see :meth:`Namespace.server_side_emit`)."""
        self.of(namespace).server_side_emit(event, *args, callback=callback, timeout=timeout)

    def server_side_call(
        self,
        event: str,
        *args: Any,
        namespace: str = "/",
        timeout: float | None = DEFAULT_ACK_TIMEOUT,
    ) -> Promise[list[Any]]:
        """:meth:`server_side_emit` and wait for the other servers' replies."""
        return self.of(namespace).server_side_call(event, *args, timeout=timeout)

    def close_room(self, room: str, namespace: str = "/") -> Done:
        """Make every socket in ``room`` leave it, on every server."""
        if handed_over(self._runtime, self.close_room, room, namespace):
            return DONE
        target = self._namespace(namespace)
        if target is not None:
            target.close_room(room)
        return DONE

    async def fetch_sockets(self, namespace: str = "/") -> list[RemoteSocket]:
        """Every socket of ``namespace`` on every server (see
        :meth:`BroadcastOperator.fetch_sockets`; ``sio.in_(room)`` narrows it)."""
        return await self._operator(namespace).fetch_sockets()

    @property
    def local(self) -> BroadcastOperator:
        """Everyone in ``/`` on this server only: ``sio.local.emit(...)``."""
        return self._operator("/").local

    @property
    def volatile(self) -> BroadcastOperator:
        """Everyone in ``/``, dropped where not writable: ``sio.volatile.emit(...)``."""
        return self._operator("/").volatile

    def timeout(self, seconds: float) -> BroadcastOperator:
        """Everyone in ``/``, acks awaited ``seconds``: ``sio.timeout(5).call(...)``."""
        return self._operator("/").timeout(seconds)

    def send(
        self,
        *args: Any,
        to: Rooms | None = None,
        skip: Any = None,
        namespace: str = "/",
        room: Rooms | None = None,
        skip_sid: Any = None,
    ) -> Done:
        """Emit a ``message`` event, as :meth:`emit` does (python-socketio's ``send``)."""
        return self.emit(
            "message", *args, to=to, skip=skip, namespace=namespace, room=room, skip_sid=skip_sid
        )

    def to(self, rooms: Rooms, *, namespace: str = "/") -> BroadcastOperator:
        """Everyone in ``rooms`` of ``namespace``: a :class:`BroadcastOperator` to chain on."""
        return self._operator(namespace).to(rooms)

    def in_(self, rooms: Rooms, *, namespace: str = "/") -> BroadcastOperator:
        """The same as :meth:`to` (python-socketio's name)."""
        return self.to(rooms, namespace=namespace)

    def except_(self, rooms: Any, *, namespace: str = "/") -> BroadcastOperator:
        """Everyone in ``namespace`` but those in ``rooms``: a :class:`BroadcastOperator`."""
        return self._operator(namespace).except_(skip_rooms(rooms))

    def _operator(self, namespace: str) -> BroadcastOperator:
        # An unknown namespace has no sockets: emitting to it reaches nobody,
        # and must not create it (that would make it connectable).
        return BroadcastOperator(self._namespace(namespace))

    # -- sockets and rooms by id ----------------------------------------------------

    def get_socket(self, sid: str, namespace: str = "/") -> Socket | None:
        """The socket ``sid`` of ``namespace`` on this node, or None."""
        target = self._namespace(namespace)
        return target.find_socket(sid) if target is not None else None

    def rooms(self, sid: str, namespace: str = "/") -> frozenset[str]:
        """The rooms socket ``sid`` is in (empty if it is not connected here)."""
        socket = self.get_socket(sid, namespace)
        return socket.rooms if socket is not None else frozenset()

    def enter_room(self, sid: str, room: str, namespace: str = "/") -> Done:
        """Put socket ``sid`` in ``room`` (a no-op for a socket not connected here)."""
        socket = self.get_socket(sid, namespace)
        if socket is not None:
            socket.join(room)
        return DONE

    def leave_room(self, sid: str, room: str, namespace: str = "/") -> Done:
        """Take socket ``sid`` out of ``room`` (a no-op for a socket not connected here)."""
        socket = self.get_socket(sid, namespace)
        if socket is not None:
            socket.leave(room)
        return DONE

    def disconnect(self, sid: str, namespace: str = "/", close: bool = False) -> Done:
        """Disconnect socket ``sid`` from ``namespace``; with ``close``, end its whole
        connection too. A no-op for a socket not connected here."""
        socket = self.get_socket(sid, namespace)
        if socket is not None:
            socket.disconnect(close)
        return DONE

    # -- sessions (python-socketio's, kept in socket.data) --------------------------

    async def get_session(self, sid: str, namespace: str = "/") -> dict[str, Any]:
        """The session of socket ``sid``: its ``data`` dict (see :mod:`realtime.sessions`)."""
        return session_of(self.get_socket(sid, namespace), sid, namespace)

    async def save_session(
        self, sid: str, session: Mapping[str, Any], namespace: str = "/"
    ) -> None:
        """Replace the session (``socket.data``) of socket ``sid`` with a copy of ``session``."""
        save(self.get_socket(sid, namespace), sid, namespace, session)

    def session(self, sid: str, namespace: str = "/") -> SessionScope:
        """``async with sio.session(sid) as session:``, saved when the block ends."""
        return SessionScope(self.get_socket(sid, namespace), sid, namespace)

    def namespaces(self) -> list[Namespace]:
        """Every concrete namespace: those named, and the dynamic children
        created so far (their parents' matchers are not namespaces)."""
        return list(self._namespaces)

    def shutdown(self) -> None:
        """Disconnect everyone ("server shutting down") and close the engine.
        Does not wait: goodbyes are queued for the writers."""
        self._closing = True
        for client in list(self._clients.values()):
            client.conn.close("server shutting down")
        self._engine.shutdown()
        if isinstance(self.adapter_factory, AdapterFactory):
            self.adapter_factory.close()

    # -- EngineListener -------------------------------------------------------------

    def on_open(self, conn: Connection) -> None:
        if self._closing:
            conn.close("server shutting down")
            return
        runtime = self.runtime
        rate = self.events_per_second
        bucket = None if rate is None else TokenBucket(rate, self.event_burst, runtime.now())
        client = _Client(conn, self.max_attachments, self.max_depth, bucket)
        self._clients[conn.id] = client
        client.connect_timer = self._engine.deadlines.schedule(
            runtime.now() + self.connect_timeout, lambda now: self._connect_timed_out(client)
        )
        if client.revision == 4:
            # Revision 4 clients are in "/" from the start, unasked.
            self._connect(client, "/", {})

    def on_message(self, conn: Connection, data: Data) -> None:
        client = self._clients.get(conn.id)
        if client is None:
            return
        try:
            packet = client.decoder.feed(data)
        except MalformedPacket as exc:
            log_once(f"sio:{exc.kind}", "closing %s: Socket.IO %s", conn.id, exc)
            conn.close("parse error")
            return
        if packet is None:
            return  # a binary packet still waiting for attachments
        ptype = packet.type
        events = client.events
        if events is not None and ptype in EVENT_TYPES and not events.take(self.runtime.now()):
            self._over_event_rate(client)
            return
        socket = client.sockets.get(packet.nsp)
        if socket is not None and ptype in _FOR_SOCKET:
            socket.receive(packet)
        elif ptype is PacketType.CONNECT:
            self._connect(client, packet.nsp, packet.data if packet.data is not None else {})
        elif ptype is PacketType.CONNECT_ERROR:
            log_once("sio:client-connect-error", "closing %s: CONNECT_ERROR from a client", conn.id)
            conn.close("parse error")
        elif socket is None:
            logger.debug("%s: packet for %s, which it has not joined", conn.id, packet.nsp)
        elif ptype is PacketType.DISCONNECT:
            socket.end("client namespace disconnect", notify_client=False)

    def _over_event_rate(self, client: _Client) -> None:
        conn = client.conn
        if self.event_rate_policy == "drop":
            self._engine.counters.events_dropped += 1
            log_once("event-rate", "%s: over events_per_second, events dropped", conn.id)
        else:
            log_once("event-rate", "closing %s: over events_per_second", conn.id)
            conn.close("event rate")

    def on_close(self, conn: Connection, reason: str) -> None:
        client = self._clients.pop(conn.id, None)
        if client is None:
            return
        if client.connect_timer is not None:
            client.connect_timer.cancel()
            client.connect_timer = None
        reason = node_reason(reason)  # the handlers hear Node's words
        for socket in list(client.sockets.values()):
            socket.end(reason, notify_client=False)

    # -- connecting -----------------------------------------------------------------

    def _connect(self, client: _Client, name: str, auth: dict[str, Any]) -> None:
        if name in client.sockets:
            logger.debug("%s: second CONNECT to %s ignored", client.conn.id, name)
            return
        if len(client.sockets) >= self.max_namespaces:
            log_once("max-namespaces", "%s: over max_namespaces, CONNECT refused", client.conn.id)
            self._refuse(client, name, "Too many namespaces")
            return
        namespace = self._namespaces.get(name)
        if namespace is None:
            parent = self._match(name, auth)
            if parent is None:
                self._refuse(client, name, "Invalid namespace")
                return
            if not self._room_for_a_child():
                log_once(
                    "max-dynamic-namespaces",
                    "%s: max_dynamic_namespaces (%d) reached, CONNECT to %s refused",
                    client.conn.id,
                    self.max_dynamic_namespaces,
                    name,
                )
                self._refuse(client, name, "Too many namespaces")
                return
            namespace = self._add_child(parent, name)
        pid, offset = auth.get("pid"), auth.get("offset")
        if (
            namespace.recovery is not None
            and client.revision >= 5
            and isinstance(pid, str)
            and (offset is None or isinstance(offset, str))
        ):
            restoring = namespace.adapter.restore_session(pid, offset)
            if isinstance(restoring, CoroutineType) and never_suspends(restoring):
                self._open(client, namespace, auth, run_now(restoring))
            else:
                self.runtime.spawn(self._open_restored, client, namespace, auth, restoring)
            return
        self._open(client, namespace, auth, None)

    async def _open_restored(
        self,
        client: _Client,
        namespace: Namespace,
        auth: dict[str, Any],
        restoring: Awaitable[RestoredSession | None],
    ) -> None:
        """An adapter whose sessions live elsewhere answers later."""
        try:
            session = await restoring
        except Exception:
            logger.exception("restoring a session of %s failed", namespace.name)
            session = None
        if self._clients.get(client.conn.id) is client and namespace.name not in client.sockets:
            if namespace.parent is not None and self._namespaces.get(namespace.name) is None:
                self._register_child(namespace)  # removed while the adapter answered
            self._open(client, namespace, auth, session)

    def _open(
        self,
        client: _Client,
        namespace: Namespace,
        auth: dict[str, Any],
        session: RestoredSession | None,
    ) -> None:
        conn = client.conn
        if session is not None and namespace.find_socket(session.sid) is None:
            sid = session.sid
        elif client.revision >= 5:
            session = None
            sid = secrets.token_urlsafe(15)
        else:
            # Revision 4 clients derive their socket id from the engine's.
            name = namespace.name
            sid = conn.id if name == "/" else f"{name}#{conn.id}"
        socket = Socket(self, namespace, conn, sid, client.revision, auth, session)
        client.sockets[namespace.name] = socket
        namespace.add_socket(socket)
        socket.start()

    def _refuse(self, client: _Client, name: str, message: str) -> None:
        client.conn.send(encode(connect_error(name, message, None, client.revision))[0])

    def _match(self, name: str, auth: Mapping[str, Any]) -> Namespace | None:
        """The dynamic parent whose pattern or predicate admits ``name``."""
        try:
            return self._namespaces.match(name, auth)
        except Exception:
            logger.exception("error in the namespace predicate for %s", name)
            return None

    # -- dynamic children -------------------------------------------------------------

    def _room_for_a_child(self) -> bool:
        if self._children < self.max_dynamic_namespaces:
            return True
        for child in list(self._kept_children.values()):
            if not child.socket_count and not child.adapter.holds_sessions():
                self._remove_child(child)
        return self._children < self.max_dynamic_namespaces

    def _add_child(self, parent: Namespace, name: str) -> Namespace:
        child = parent.make_child(name)
        self._register_child(child)
        return child

    def _register_child(self, child: Namespace) -> None:
        self._namespaces.add(child.name, child)
        assert child.parent is not None
        child.parent.children[child.name] = child
        self._children += 1

    def child_emptied(self, child: Namespace) -> None:
        """A dynamic child lost its last socket: it goes, unless sessions
        wait in it for their clients (then it goes when room is needed and
        they have expired)."""
        if child.adapter.holds_sessions():
            self._kept_children[child.name] = child
        else:
            self._remove_child(child)

    def _remove_child(self, child: Namespace) -> None:
        if not self._namespaces.remove(child.name, child):
            return  # removed already
        assert child.parent is not None
        if child.parent.children.get(child.name) is child:
            del child.parent.children[child.name]
        if self._kept_children.get(child.name) is child:
            del self._kept_children[child.name]
        self._children -= 1
        child.adapter.close()
        for watcher in self.watchers:
            watcher.namespace_removed(child)

    def _connect_timed_out(self, client: _Client) -> None:
        client.connect_timer = None
        if self._clients.get(client.conn.id) is not client:
            return
        if not client.sockets:
            client.conn.close("connect timeout")

    @property
    def presence(self) -> Any:
        """Who is online, per user (:class:`realtime.presence.Presence`),
        made on first use."""
        if self._presence is None:
            from .presence import Presence

            self._presence = Presence(self)
        return self._presence

    def watch(self, watcher: ServerWatcher) -> None:
        """Tell ``watcher`` of every namespace created from now on, and of
        every socket that connects, disconnects or upgrades (see :class:`ServerWatcher`)."""
        self.watchers.append(watcher)
        self._engine.on_upgrade = self._upgraded

    def _upgraded(self, conn: Connection) -> None:
        client = self._clients.get(conn.id)
        if client is None:
            return
        for socket in list(client.sockets.values()):
            for watcher in self.watchers:
                watcher.socket_upgraded(socket)

    def namespace_created(self, namespace: Namespace) -> None:
        """A namespace was created (a dynamic child too): the watchers hear it."""
        for watcher in self.watchers:
            watcher.namespace_created(namespace)

    def socket_disconnected(self, socket: MemberSocket, reason: str) -> None:
        """A connected socket is closing: the watchers hear it before its handlers run."""
        for watcher in self.watchers:
            watcher.socket_disconnected(socket, reason)

    def socket_connected(self, socket: MemberSocket) -> None:
        """A socket's CONNECT was accepted: the watchers hear it, and its
        connection no longer waits for a namespace."""
        for watcher in self.watchers:
            watcher.socket_connected(socket)
        self.engine.counters.socket_connects += 1
        client = self._clients.get(socket.conn.id)
        if client is not None and client.connect_timer is not None:
            client.connect_timer.cancel()
            client.connect_timer = None

    def socket_gone(self, socket: MemberSocket) -> None:
        """A socket left its namespace: its connection no longer holds it."""
        client = self._clients.get(socket.conn.id)
        name = socket.namespace.name
        if client is not None and client.sockets.get(name) is socket:
            del client.sockets[name]
