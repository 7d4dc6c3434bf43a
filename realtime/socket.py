"""One client's presence in one namespace.

A socket goes CONNECTING -> CONNECTED -> DISCONNECTED (or CONNECTING ->
DISCONNECTED when refused). While CONNECTING, middlewares and the ``connect``
handler run; anything sent to the socket meanwhile is held and follows the
CONNECT answer, so the client never sees an event before its confirmation.

Every handler of a socket runs on the socket's own serial runner: events are
handled one after another in the order they arrived, while different sockets
run concurrently. Acknowledgements from the client bypass the runner (they
resolve at once), which is what lets a handler ``await socket.call(...)``.
"""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from ._log import log_once
from .bus.acks import AckTable
from .bus.recovery import RestoredSession, SessionState
from .crossing import call_over, elsewhere, handed_over
from .errors import ConnectionRefused, Disconnected, EventRefused
from .handlers import HandlerRunner, Listener, SocketHooks, check_handler, settle
from .http import Handshake
from .protocol.socketio import (
    ACK,
    ACK_TYPES,
    EVENT,
    RESERVED_EVENTS,
    Packet,
    PacketType,
    check_event,
    connect_answer,
    connect_error,
    encode,
    encode_fields,
)
from .reasons import RECOVERABLE

if TYPE_CHECKING:
    from .namespace import BroadcastOperator, Namespace
    from .server import Server
    from .types import Connection, Data, Promise, Runtime, SharedMessage, TaskRunner

logger: Final = logging.getLogger("realtime.socketio")


class SocketState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


# Before Python 3.12, a lookup such as ``SocketState.CONNECTED`` goes through the enum
# metaclass's __getattr__ hook and costs ~0.1 µs, ten times a global's:
# the per-message paths read these names instead.
_CONNECTING: Final = SocketState.CONNECTING
_CONNECTED: Final = SocketState.CONNECTED
_DISCONNECTED: Final = SocketState.DISCONNECTED
ROOMS_READ_BOUND: Final = 10.0
"""Seconds another thread's read of :attr:`Socket.rooms` waits for the
runtime's thread before it reads the rooms as they are."""


def ack_args(result: Any) -> list[Any]:
    """A handler's return value as ack arguments: a tuple spreads, None is none."""
    if result is None:
        return []
    if isinstance(result, tuple):
        return list(result)
    return [result]


def ack_value(args: list[Any]) -> Any:
    """Ack arguments as ``call()``'s result: nothing, one value, or a tuple."""
    if not args:
        return None
    if len(args) == 1:
        return args[0]
    return tuple(args)


class VolatileSocket:
    """A socket's volatile emits: sent only if its transport is writable now."""

    __slots__ = ("socket",)

    def __init__(self, socket: Socket) -> None:
        self.socket = socket

    def emit(self, event: str, *args: Any) -> bool:
        """Send ``event`` now or never; True if it was sent."""
        socket = self.socket
        check_event(event)
        if socket.state is not SocketState.CONNECTED or not socket.conn.writable:
            socket.namespace.volatile_dropped += 1
            return False
        socket.emit(event, *args)
        return True

    def send(self, *args: Any) -> bool:
        return self.emit("message", *args)


class Socket:
    """A client connected to a namespace. Created by the server."""

    def __init__(
        self,
        server: Server,
        namespace: Namespace,
        conn: Connection,
        sid: str,
        revision: int,
        auth: dict[str, Any],
        session: RestoredSession | None = None,
    ) -> None:
        self.server = server
        self.namespace = namespace
        self.conn = conn
        self.id = sid
        """The socket's id; the socket is in a room of that name, so ``sio.to(socket.id)``
        reaches it."""
        self.handshake = Handshake(conn.headers, conn.query, conn.remote_addr, auth)
        """The connection's headers, query, address and the CONNECT's ``auth``."""
        self.data: dict[str, Any] = {}
        """Free for the application: per-socket state."""
        self.revision = revision
        self.state = SocketState.CONNECTING
        """Connecting, connected or disconnected."""
        self.was_connected = False
        """Whether the socket was ever connected: the events that arrived
        while it was connecting are dropped if it was refused."""
        self._held: list[Data | SharedMessage] = []
        # The rooms a closing socket had, readable by its disconnecting handler.
        self._closing_rooms: frozenset[str] | None = None
        self._acks = AckTable(server.engine.deadlines, namespace.ack_ids, server.timings)
        # A socket exists only on a server bound to its runtime.
        self._runtime: Runtime = server.runtime
        self._runner: TaskRunner = self._runtime.serial_runner()
        self._calls: HandlerRunner = server.handler_runner
        self._hooks: SocketHooks | None = None
        self.recovered = False
        """Whether this socket is a session restored after its client lost
        the connection: same id, rooms and ``data``, and the broadcasts it
        missed go just before the CONNECT answer (docs/recovery.md)."""
        self.pid: str | None = None
        """The private id of its recoverable session (None without recovery)."""
        self._mark = ""
        self._missed: tuple[SharedMessage, ...] = ()
        if namespace.recovery is not None and revision >= 5:
            if session is None:
                self.pid = secrets.token_urlsafe(15)
                self._mark = namespace.adapter.session_mark()
            else:
                self.pid = session.pid
                self._mark = session.mark
                self.data = session.data
                self.recovered = True
                namespace.adapter.add_all(sid, session.rooms)
                self._missed = session.missed

    def __repr__(self) -> str:
        return f"<Socket {self.id} {self.namespace.name} {self.state.value}>"

    # -- state ----------------------------------------------------------------------

    @property
    def auth(self) -> dict[str, Any]:
        """The ``auth`` payload the client sent with its CONNECT (empty if none)."""
        return self.handshake.auth

    @property
    def connected(self) -> bool:
        """True from the accepted CONNECT until the socket disconnects."""
        return self.state is SocketState.CONNECTED

    @property
    def rooms(self) -> frozenset[str]:
        """The rooms this socket is in, its own id included (still the rooms
        it had, inside its ``disconnecting`` handler).

        Read from another thread (a ``def`` handler on a worker, a Flask
        view), the answer comes from the runtime's thread: that is where a
        ``join`` this thread made a moment ago is carried out, in order, and
        where the room sets change."""
        runtime = self._runtime
        if elsewhere(runtime):
            answer: frozenset[str] | None = call_over(runtime, self._rooms_into).wait(
                ROOMS_READ_BOUND
            )
            if answer is not None:
                return answer
            # the runtime did not answer (stopped, or stuck): the rooms as they are
        return self._rooms_here()

    def _rooms_into(self, promise: Promise[frozenset[str]]) -> None:
        promise.set_result(self._rooms_here())

    def _rooms_here(self) -> frozenset[str]:
        if self._closing_rooms is not None:
            return self._closing_rooms
        return self.namespace.adapter.socket_rooms(self.id)

    # -- sending --------------------------------------------------------------------

    def emit(
        self,
        event: str,
        *args: Any,
        callback: Callable[..., Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Send an event to this client. With ``callback``, the client's ack
        arguments are passed to it (it may be async).

        With ``timeout`` as well, the callback takes Node's error-first form
        (``socket.timeout(t).emit(..., (err, ...args) => ...)``):
        ``callback(None, *ack)`` when the client answers in time,
        ``callback(AckTimeout)`` when it does not, and
        ``callback(Disconnected)`` when the socket goes first (or is gone
        already). A late ack is
        then dropped, never silently: the callback has had its error."""
        if type(event) is not str or event in RESERVED_EVENTS:
            check_event(event)  # raises
        # elsewhere(), not handed_over(): an emit is the hot path, and the
        # varargs call and bound method that would build cost more than the check.
        runtime = self._runtime
        if elsewhere(runtime):
            runtime.call_soon_threadsafe(self._emit_here, event, args, callback, timeout)
        else:
            self._emit_here(event, args, callback, timeout)

    def _emit_here(
        self,
        event: str,
        args: tuple[Any, ...],
        callback: Callable[..., Any] | None,
        timeout: float | None,
    ) -> None:
        ack_id = None
        if callback is not None and len(self._acks) >= self.server.max_pending_acks:
            self._ack_backlog()
        if callback is not None and timeout is not None and self.state is _DISCONNECTED:
            # Nothing is sent, so no answer can come: say so now, not never.
            self._runtime.spawn(
                self._calls.invoke, callback, Disconnected("the socket is disconnected")
            )
            return
        if callback is not None and self.state is not SocketState.DISCONNECTED:
            runtime = self._runtime
            # the application's callback: on a worker thread where plain
            # functions go to one (handler_threads), as its handlers
            invoke = self._calls.invoke
            on_fail: Callable[[BaseException], None] | None = None
            if timeout is None:

                def on_ack(ack: list[Any]) -> None:
                    runtime.spawn(invoke, callback, *ack)

                deadline = None
            else:

                def on_ack(ack: list[Any]) -> None:
                    runtime.spawn(invoke, callback, None, *ack)

                def on_fail(exc: BaseException) -> None:
                    runtime.spawn(invoke, callback, exc)

                deadline = runtime.now() + timeout
            ack_id = self._acks.add(on_ack, on_fail, deadline)
        if self.namespace.watching:
            self.tell_outgoing([event, *args])
        self._send(EVENT, [event, *args], ack_id)

    @property
    def volatile(self) -> VolatileSocket:
        """``socket.volatile.emit(...)``: dropped, not queued, when the
        transport is not writable now (see :attr:`Connection.writable`)."""
        return VolatileSocket(self)

    def send(self, *args: Any, callback: Callable[..., Any] | None = None) -> None:
        """``emit("message", *args)``."""
        self.emit("message", *args, callback=callback)

    def call(self, event: str, *args: Any, timeout: float | None = 60) -> Promise[Any]:
        """Emit and wait for the client's ack: ``reply = await socket.call(...)``.

        Resolves to the single ack argument, a tuple for several, None for
        none. Raises :class:`~realtime.AckTimeout` after ``timeout`` seconds
        and :class:`~realtime.Disconnected` if the socket goes first.
        """
        check_event(event)
        runtime = self._runtime
        if elsewhere(runtime):
            return call_over(
                runtime, lambda promise: self._call_here(promise, event, args, timeout)
            )
        promise = runtime.create_promise()
        self._call_here(promise, event, args, timeout)
        return promise

    def _call_here(
        self, promise: Promise[Any], event: str, args: tuple[Any, ...], timeout: float | None
    ) -> None:
        runtime = self._runtime
        if len(self._acks) >= self.server.max_pending_acks:
            self._ack_backlog()
        if self.state is SocketState.DISCONNECTED:
            promise.set_exception(Disconnected("the socket is disconnected"))
            return

        def on_ack(ack: list[Any]) -> None:
            if not promise.done():
                promise.set_result(ack_value(ack))

        def on_fail(exc: BaseException) -> None:
            if not promise.done():
                promise.set_exception(exc)

        deadline = None if timeout is None else runtime.now() + timeout
        ack_id = self._acks.add(on_ack, on_fail, deadline)
        if self.namespace.watching:
            self.tell_outgoing([event, *args])
        self._send(EVENT, [event, *args], ack_id)

    def expect_ack(self, ack_id: int, on_reply: Callable[[Any], None]) -> bool:
        """A broadcast asks this socket for an ack of ``ack_id``: its reply is
        the first ack argument, as in Node. False when this socket is closed
        instead, for leaving too many acks unanswered: it is no recipient."""
        if len(self._acks) >= self.server.max_pending_acks:
            self._ack_backlog()
            return False
        self._acks.expect(ack_id, lambda args: on_reply(args[0] if args else None))
        return True

    def _ack_backlog(self) -> None:
        """The client left ``max_pending_acks`` acks unanswered: a broken or
        hostile peer, closed rather than let it make the server hold a waiter
        for every emit without end. Every waiter hears Disconnected."""
        log_once(
            "ack-backlog",
            "closing %s: %d acks unanswered (max_pending_acks)",
            self.conn.id,
            len(self._acks),
        )
        self.conn.close("ack backlog")

    def _send(self, ptype: PacketType, data: Any = None, ack_id: int | None = None) -> None:
        """Send a packet of this socket's namespace."""
        state = self.state
        if state is _DISCONNECTED:
            return
        parts = encode_fields(ptype, self.namespace.name, data, ack_id)  # errors are the caller's
        if state is _CONNECTING:
            self._held.extend(parts)
            return
        for part in parts:
            self.conn.send(part)

    def forget_ack(self, ack_id: int) -> None:
        """A broadcast stopped waiting for this socket's ack of ``ack_id``."""
        self._acks.forget(ack_id)

    def tell_outgoing(self, data: Sequence[Any]) -> None:
        """Call the outgoing listeners of this socket, its namespace's and its
        own, with ``[event, *args]`` of what it is being sent."""
        if self.state is _DISCONNECTED or not data:
            return
        hooks = self._hooks
        listeners = [*self.namespace.outgoing_handlers, *(hooks.outgoing if hooks else ())]
        spawn, invoke = self._runtime.spawn, self._calls.invoke
        for listener in listeners:
            spawn(invoke, listener, self, *data)

    @property
    def watches_outgoing(self) -> bool:
        """Whether this socket has outgoing listeners of its own."""
        return self._hooks is not None and bool(self._hooks.outgoing)

    def deliver(self, messages: Iterable[SharedMessage]) -> None:
        """A broadcast reached this socket (called by its namespace's adapter)."""
        if self.state is _CONNECTED:
            for message in messages:
                self.conn.send_shared(message)
        elif self.state is _CONNECTING:
            self._held.extend(messages)

    # -- rooms and broadcast --------------------------------------------------------

    def join(self, rooms: str | Iterable[str]) -> None:
        """Put the socket in ``rooms`` (one name or several); a no-op once it has
        disconnected."""
        if handed_over(self._runtime, self.join, rooms):
            return
        if self.state is not SocketState.DISCONNECTED:
            names = [rooms] if isinstance(rooms, str) else list(rooms)
            self.namespace.adapter.add_all(self.id, names)

    def leave(self, room: str) -> None:
        """Take the socket out of ``room``."""
        if handed_over(self._runtime, self.leave, room):
            return
        self.namespace.adapter.delete(self.id, room)

    def to(self, rooms: str | Iterable[str]) -> BroadcastOperator:
        """Everyone in ``rooms`` except this socket."""
        return self.broadcast.to(rooms)

    def in_(self, rooms: str | Iterable[str]) -> BroadcastOperator:
        """The same as :meth:`to` (python-socketio's name)."""
        return self.to(rooms)

    @property
    def broadcast(self) -> BroadcastOperator:
        """Everyone in the namespace except this socket."""
        return self.namespace.except_(self.id)

    # -- hooks ----------------------------------------------------------------------

    def _hooks_(self) -> SocketHooks:
        if self._hooks is None:
            self._hooks = SocketHooks()
        return self._hooks

    def on_any(self, listener: Listener) -> Listener:
        """Call ``listener(socket, event, *args)`` for every event this
        client sends, before the event's middlewares and handler (Node:
        ``socket.onAny``); see also :meth:`Namespace.on_any`."""
        check_handler("*", listener)
        self._hooks_().any.append(listener)
        return listener

    def on_any_outgoing(self, listener: Listener) -> Listener:
        """Call ``listener(socket, event, *args)`` for every event sent to
        this client, direct or broadcast, as it is sent (Node:
        ``socket.onAnyOutgoing``)."""
        check_handler("*", listener)
        hooks = self._hooks_()
        hooks.outgoing.append(listener)
        if len(hooks.outgoing) == 1 and self.state is not SocketState.DISCONNECTED:
            self.namespace.watch_socket(+1)
        return listener

    def use(self, middleware: Listener) -> Listener:
        """Run ``middleware(socket, event, args)`` before the handler of each
        event this client sends, in the order registered (Node:
        ``socket.use``). ``args`` is the event's argument list, which the
        middleware may change in place; ``def`` or ``async def``.

        Raising :class:`~realtime.EventRefused` (Node: ``next(err)``) drops
        the event: no handler runs, its ack is not answered, and the
        namespace's ``error`` handler gets ``(socket, exc)``; the client is
        told nothing unless that handler tells it. Any other exception
        refuses the event the same way, and is logged."""
        check_handler("*", middleware)
        self._hooks_().uses.append(middleware)
        return middleware

    # -- disconnecting --------------------------------------------------------------

    def disconnect(self, close: bool = False) -> None:
        """Leave the namespace (the client is told). With ``close``, end the
        whole Engine.IO connection too."""
        if handed_over(self._runtime, self.disconnect, close):
            return
        if self.state is SocketState.CONNECTING:
            # Called from a middleware or the connect handler: the client
            # must see the connection before it can see it end.
            self._confirm()
        self.end("server namespace disconnect", notify_client=True)
        if close:
            self.conn.close("forced server close")

    # -- driven by the server -------------------------------------------------------

    def start(self) -> None:
        """Run the connection middlewares and the ``connect`` handler: the
        socket is then accepted or refused."""
        fns = [*self._middlewares(), self.namespace.handlers.get("connect")]
        self._calls.queue(self._runner, fns, self._handshake)

    async def _handshake(self) -> None:
        if self.state is not SocketState.CONNECTING:
            return  # the client left while earlier work ran
        try:
            for middleware in self._middlewares():
                await settle(self._calls.invoke(middleware, self, self.auth))
                if self.state is not SocketState.CONNECTING:
                    return
            handler = self.namespace.handlers.get("connect")
            if handler is not None:
                verdict = await settle(self._calls.invoke(handler, self, self.auth))
                if verdict is False:
                    raise ConnectionRefused()
        except ConnectionRefused as exc:
            self._refuse(exc.message, exc.data)
            return
        except Exception:
            self._calls.failed("error in a connect handler of %s", self.namespace.name)
            self._refuse("Internal server error", None)
            return
        if self.state is SocketState.CONNECTING:
            self._confirm()

    def _middlewares(self) -> list[Callable[..., Any]]:
        recovery = self.namespace.recovery
        if self.recovered and recovery is not None and recovery.skip_middlewares:
            return []
        return self.namespace.middlewares

    def _confirm(self) -> None:
        self.state = SocketState.CONNECTED
        self.was_connected = True
        if logger.isEnabledFor(logging.DEBUG):
            how = "recovered" if self.recovered else "connected"
            logger.debug("%s: socket %s %s to %s", self.conn.id, self.id, how, self.namespace.name)
        self.server.socket_connected(self)
        answer = connect_answer(self.namespace.name, self.id, self.revision, self.pid)
        # What a recovered socket missed goes just before its answer, as in
        # Node: the client holds it until the CONNECT, then replays it
        # before its "connect" listeners run.
        missed, self._missed = self._missed, ()
        for message in missed:
            self.conn.send_shared(message)
        self.conn.send(encode(answer)[0])
        held, self._held = self._held, []
        for item in held:
            if self.state is not SocketState.CONNECTED:
                break  # sending failed and closed the connection
            if isinstance(item, (str, bytes)):
                self.conn.send(item)
            else:
                self.conn.send_shared(item)

    def _refuse(self, message: str, data: Any) -> None:
        if self.state is not SocketState.CONNECTING:
            return
        self.state = SocketState.DISCONNECTED
        self._held = []
        self._missed = ()
        self._detach()
        try:
            refusal = encode(connect_error(self.namespace.name, message, data, self.revision))
        except (TypeError, ValueError):
            logger.error("ConnectionRefused data is not JSON; sent without it")
            refusal = encode(connect_error(self.namespace.name, message, None, self.revision))
        self.conn.send(refusal[0])

    def end(self, reason: str, *, notify_client: bool) -> None:
        """Leave the namespace for ``reason``; the client is sent a DISCONNECT
        if ``notify_client``. The disconnect handlers run after."""
        if self.state is SocketState.DISCONNECTED:
            return
        was_connected = self.state is SocketState.CONNECTED
        if was_connected and self.server.watchers:
            self.server.socket_disconnected(self, reason)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s: socket %s left %s: %s", self.conn.id, self.id, self.namespace.name, reason
            )
        if notify_client and was_connected:
            self._send(PacketType.DISCONNECT)
        handlers = self.namespace.handlers
        disconnecting = handlers.get("disconnecting") if was_connected else None
        if disconnecting is not None:
            # Handlers run on the socket's runner, after the room membership
            # is gone: the handler reads the rooms as they were, until it ends.
            self._closing_rooms = self.namespace.adapter.socket_rooms(self.id)
        # A restored socket that loses its connection again before its
        # confirmation is kept too: its client will come back once more.
        kept = was_connected or self.recovered
        if kept and self.pid is not None and reason in RECOVERABLE:
            adapter = self.namespace.adapter
            rooms = adapter.socket_rooms(self.id)
            adapter.persist_session(SessionState(self.id, self.pid, rooms, self.data, self._mark))
        self.state = SocketState.DISCONNECTED
        self._held = []
        self._missed = ()
        self._detach()
        if disconnecting is not None:
            self._runner.submit(
                self._calls.call, disconnecting, self, [reason], None, "disconnecting"
            )
            self._runner.submit(self._forget_closing_rooms)
        handler = handlers.get("disconnect")
        if was_connected and handler is not None:
            self._runner.submit(self._calls.call, handler, self, [reason], None, "disconnect")

    def _forget_closing_rooms(self) -> None:
        self._closing_rooms = None

    def _detach(self) -> None:
        self.namespace.remove_socket(self)
        self.server.socket_gone(self)
        self._acks.fail_all()

    def receive(self, packet: Packet) -> None:
        """A packet for this socket, already decoded and validated."""
        if packet.type in ACK_TYPES:
            assert packet.id is not None
            if self._acks.resolve(packet.id, packet.data):
                self.server.engine.counters.acks += 1
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s: ack %d from socket %s", self.conn.id, packet.id, self.id)
            return
        data = packet.data
        event = data[0]
        if logger.isEnabledFor(logging.DEBUG):
            # The event's name and shape, never its payload.
            logger.debug(
                "%s: event %r on %s, %d argument(s)%s",
                self.conn.id,
                event,
                self.namespace.name,
                len(data) - 1,
                "" if packet.id is None else f", ack {packet.id} asked",
            )
        if event in RESERVED_EVENTS:
            return  # the codec refuses these; never let one reach a lifecycle handler
        namespace = self.namespace
        handlers = namespace.handlers
        handler = handlers.get(event)
        hooked = self._hooks is not None or bool(namespace.any_handlers)
        if handler is not None:
            del data[0]  # freshly decoded for this packet: the arguments follow the name
        else:
            handler = handlers.get("*")
            if handler is None and not hooked:
                return
        if self._runner.pending >= self.server.max_pending_events:
            log_once("event-backlog", "closing %s: over max_pending_events", self.conn.id)
            self.conn.close("event backlog")
            return
        if hooked:
            self._submit_hooked(event, handler, data, packet.id)
            return
        self._runner.submit(self._calls.call, handler, self, data, packet.id, event)

    def _submit_hooked(
        self,
        event: str,
        handler: Callable[..., Any] | None,
        data: list[Any],
        ack_id: int | None,
    ) -> None:
        """Queue an event that listeners or middlewares see first."""
        namespace = self.namespace
        hooks = self._hooks
        listeners = [*namespace.any_handlers, *(hooks.any if hooks is not None else ())]
        uses = list(hooks.uses) if hooks is not None else []
        # ``data`` lost its event name only if the event has a handler of its own.
        fallback = event not in namespace.handlers
        args = data[1:] if fallback else data
        fns = [*listeners, *uses, handler, namespace.handlers.get("error")]
        work = (event, handler, fallback, args, listeners, uses, ack_id)
        self._calls.queue(self._runner, fns, self._hooked, *work)

    async def _hooked(
        self,
        event: str,
        handler: Callable[..., Any] | None,
        fallback: bool,
        args: list[Any],
        listeners: list[Listener],
        uses: list[Listener],
        ack_id: int | None,
    ) -> None:
        if not self.was_connected:
            return
        for listener in listeners:
            try:
                await settle(self._calls.invoke(listener, self, event, *args))
            except Exception:
                self._calls.failed("error in an any-event listener on %s", self.namespace.name)
        for use in uses:
            try:
                await settle(self._calls.invoke(use, self, event, args))
            except Exception as exc:
                if not isinstance(exc, EventRefused):
                    self._calls.failed("error in a packet middleware on %s", self.namespace.name)
                await self._refused(exc)
                return
        if handler is None:
            return
        # The catch-all handler gets the event's name first, and what middlewares made of args.
        pending = self._calls.call(
            handler, self, [event, *args] if fallback else args, ack_id, event
        )
        if pending is not None:
            await pending

    async def _refused(self, exc: Exception) -> None:
        """A middleware refused an event: the namespace's ``error`` handler hears it."""
        handler = self.namespace.handlers.get("error")
        if handler is None:
            logger.info("event refused on %s: %s", self.namespace.name, exc)
            return
        try:
            await settle(self._calls.invoke(handler, self, exc))
        except Exception:
            self._calls.failed("error in the error handler of %s", self.namespace.name)

    def answer(self, result: Any, ack_id: int) -> None:
        """Send the client the ack ``ack_id`` asked for: a handler's return value."""
        try:
            self._send(ACK, ack_args(result), ack_id)
        except (TypeError, ValueError):
            logger.exception("the handler's return value cannot be sent as an ack")
