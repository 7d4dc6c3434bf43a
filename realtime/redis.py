"""The Redis adapter: one cluster of realtime and Node Socket.IO nodes.

::

    sio = realtime.Server(adapter=realtime.RedisAdapter("redis://127.0.0.1:6379/0"))

Each node keeps its own sockets and rooms (the in-memory adapter) and only
publishes and subscribes: a broadcast is delivered to the local recipients and
published once; a broadcast from another node is delivered to the local
recipients it names. The messages are those of Node's
``@socket.io/redis-adapter`` 8.x (:mod:`realtime.bus.cluster`), so Node nodes
and ``@socket.io/redis-emitter`` join the same cluster.

One :class:`RedisAdapter` per server: it holds two connections (publishing,
and the subscription that every namespace shares), one listener task and one
writer task. Redis going away stops neither: the listener reconnects with
backoff and subscribes again, local delivery goes on, and what is published
while Redis is unreachable reaches this node's clients only (Redis pub/sub
keeps nothing for later; the outage is logged with the count dropped).

Needs the ``redis`` extra: ``pip install 'realtime[redis]'`` (redis-py and
msgpack). A malformed or foreign message is logged and dropped, never
unpickled or evaluated: msgpack and JSON carry data only.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import secrets
import string
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import msgpack
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from ._log import log_once
from .bus.adapter import (
    DEFAULT_ACK_TIMEOUT,
    AdapterFactory,
    AdapterHost,
    Cancellable,
    Deliver,
    MemoryAdapter,
    MessageFactory,
    OnCount,
    OnReply,
    OnServerReplies,
)
from .bus.cluster import (
    DEFAULT_PREFIX,
    AllRooms,
    Channels,
    ClusterReply,
    ClusterRequest,
    Codec,
    MalformedClusterMessage,
    RoomsReply,
    SocketIds,
    broadcast_from_wire,
    broadcast_offset,
    broadcast_to_wire,
    reply_from_wire,
    reply_request_id,
    reply_to_wire,
    request_from_wire,
    request_to_wire,
)
from .bus.recovery import ConnectionStateRecovery, RestoredSession, SessionState, SessionStore
from .bus.requests import (
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    BroadcastOptions,
    BroadcastWithAck,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsReply,
    RequestKind,
    ServerSideEmit,
    ServerSideEmitReply,
    SocketDetails,
    SocketsJoin,
    SocketsLeave,
)
from .errors import BroadcastAckTimeout, InvalidArgument, InvalidState
from .presence import Tell
from .protocol.socketio import Packet
from .redis_presence import RedisPresence
from .redis_recovery import RedisSessions
from .types import Promise, Runtime

__all__ = ["RedisAdapter", "RedisNamespaceAdapter"]

logger = logging.getLogger("realtime.redis")

DEFAULT_URL: Final = "redis://127.0.0.1:6379/0"
_UID_ALPHABET: Final = string.ascii_letters + string.digits
_CONNECTION_ERRORS: Final = (RedisError, OSError)

RECOUNT_EVERY: Final = 0.5
"""Seconds between two counts (PUBSUB NUMSUB) of the nodes still subscribed
while a request of ours waits for answers."""

OnReached = Callable[[int | None], None]
"""Told how many subscribers a PUBLISH reached (None: it was not sent)."""


def new_uid() -> str:
    """A node id as Node's adapter makes them (six letters or digits)."""
    return "".join(secrets.choice(_UID_ALPHABET) for _ in range(6))


# -- bytes ---------------------------------------------------------------------------


def pack(value: Any, codec: Codec = Codec.MSGPACK) -> bytes:
    if codec is Codec.JSON:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def unpack(data: bytes, max_size: int) -> Any:
    """A message from a cluster channel: JSON if it starts with ``{``, msgpack
    otherwise (the rule Node's adapter reads by). Raises MalformedClusterMessage."""
    if len(data) > max_size:
        raise MalformedClusterMessage(f"{len(data)} bytes, over max_message_size ({max_size})")
    try:
        if data[:1] == b"{":
            return json.loads(data)
        return msgpack.unpackb(data, raw=False, ext_hook=_ext)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise MalformedClusterMessage(f"undecodable: {exc}") from None


def _ext(code: int, data: bytes) -> Any:
    if code == 0 and data == b"\x00":  # notepack.io's old encoding of ``undefined``
        return None
    raise MalformedClusterMessage(f"msgpack extension type {code}")


def js_values(value: Any) -> Any:
    """``value`` with msgpack timestamps (JavaScript Dates) as the ISO strings
    that JSON.stringify makes of them, which is what a Node node sends its own
    clients. Only called when a decoded message would not encode otherwise."""
    if isinstance(value, msgpack.Timestamp):
        moment = value.to_datetime().astimezone(datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if isinstance(value, list):
        return [js_values(item) for item in value]
    if isinstance(value, dict):
        return {key: js_values(item) for key, item in value.items()}
    return value


# -- the adapter of one namespace ------------------------------------------------------


class _Waiting:
    """A request of ours that waits for one reply from every other node it
    reached; how many it reached is known when Redis answers the PUBLISH."""

    __slots__ = ("done", "expected", "kind", "recount", "replies", "timer")

    def __init__(
        self, kind: RequestKind, done: Callable[[BaseException | None, list[ClusterReply]], None]
    ) -> None:
        self.kind = kind
        self.expected: int | None = None
        self.done = done
        self.replies: list[ClusterReply] = []
        self.timer: Cancellable | None = None
        self.recount: Cancellable | None = None

    def cancel_timers(self) -> None:
        for timer in (self.timer, self.recount):
            if timer is not None:
                timer.cancel()


class _AckWait:
    """A broadcast of ours that collects acks from the clients of other nodes."""

    __slots__ = ("counted", "on_count", "on_reply", "others", "recount", "timer")

    def __init__(self, on_count: OnCount, on_reply: OnReply) -> None:
        self.on_count = on_count
        self.on_reply = on_reply
        self.others: int | None = None
        """The other nodes the broadcast reached: each sends a client count."""
        self.counted = 0
        self.timer: Cancellable | None = None
        self.recount: Cancellable | None = None


class RedisNamespaceAdapter(MemoryAdapter):
    """Rooms of one namespace, kept locally; every server-wide operation done
    locally and published to the other nodes, as Node's adapter does."""

    def __init__(
        self,
        cluster: RedisAdapter,
        nsp: str,
        deliver: Deliver,
        make_message: MessageFactory,
        host: AdapterHost | None = None,
    ) -> None:
        super().__init__(nsp, deliver, make_message, host)
        self.cluster = cluster
        self.channels = Channels(cluster.key_prefix, nsp)
        self._waiting: dict[str, _Waiting] = {}
        self._acks: dict[str, _AckWait] = {}
        self.recovery: RedisSessions | None = None
        cluster._register(self)

    # -- connection state recovery: sessions and stored broadcasts in Redis ------------

    def enable_recovery(self, options: ConnectionStateRecovery) -> bool:
        self.recovery = RedisSessions(self, options)
        return True

    def session_mark(self) -> str:
        return self.recovery.latest if self.recovery is not None else ""

    def persist_session(self, state: SessionState) -> None:
        if self.recovery is not None:
            self.recovery.persist(state)

    async def restore_session(self, pid: str, offset: str | None) -> RestoredSession | None:
        if self.recovery is None:
            return None
        try:
            return await self.recovery.restore(pid, offset)
        except _CONNECTION_ERRORS as exc:
            log_once("redis:restore", "Redis unreachable to restore a session (%s)", exc)
            return None

    # -- publishing ---------------------------------------------------------------------

    def _request(self, request: ClusterRequest) -> None:
        wire, codec = request_to_wire(self.cluster.uid, request)
        self.cluster.publish(self.channels.request, pack(wire, codec))

    def _respond(self, reply: ClusterReply) -> None:
        wire, codec = reply_to_wire(reply)
        self.cluster.publish(self.channels.response, pack(wire, codec))

    def broadcast(self, packet: Packet, options: BroadcastOptions) -> int:
        # Local first: a payload that cannot be encoded raises here, before
        # anything left this node.
        recovery = self.recovery
        offset = None
        if recovery is not None and SessionStore.stores(packet, options):
            offset = recovery.next_offset()
            count = self.broadcast_local(recovery.stamped(packet, offset), options)
            recovery.keep(packet, options, offset)
        else:
            count = self.broadcast_local(packet, options)
        if not options.flags.local:
            message = Broadcast(self.nsp, packet, options)
            wire = broadcast_to_wire(self.cluster.uid, message, offset)
            self.cluster.publish(self.channels.for_broadcast(options), pack(wire))
        return count

    def broadcast_with_ack(
        self, packet: Packet, options: BroadcastOptions, on_count: OnCount, on_reply: OnReply
    ) -> int | Awaitable[int]:
        if options.flags.local or self.cluster.leaving:
            self.broadcast_with_ack_local(packet, options, on_count, on_reply)
            return 1
        request_id = new_uid()
        wait = self._acks[request_id] = _AckWait(on_count, on_reply)
        # Nobody can tell when every remote client has answered: forget
        # the request when the broadcast's own timeout is over (as Node).
        timeout = options.flags.timeout
        wait.timer = self.host.schedule(
            DEFAULT_ACK_TIMEOUT if timeout is None else timeout,
            lambda: self._forget_acks(request_id),
        )
        nodes: Promise[int] = self.host.create_promise()

        def reached(subscribers: int | None) -> None:
            # Every node the broadcast reached sends its client count; ours
            # (our own subscription among them) is the local one.
            if not nodes.done():
                nodes.set_result(max(1, subscribers or 0))
            wait.others = max(0, (subscribers or 0) - 1)
            if wait.counted < wait.others:
                self._keep_counting(wait, recounted)

        def recounted(subscribed: int) -> bool:
            if self._acks.get(request_id) is not wait or wait.others is None:
                return False
            # Those gone before they counted reached nobody.
            still = max(wait.counted, min(wait.others, subscribed - 1))
            for _ in range(wait.others - still):
                on_count(0)
            wait.others = still
            return wait.counted < wait.others

        wire, codec = request_to_wire(
            self.cluster.uid, BroadcastWithAck(self.nsp, packet, options, request_id)
        )
        self.cluster.publish(self.channels.request, pack(wire, codec), reached)
        self.broadcast_with_ack_local(packet, options, on_count, on_reply)
        return nodes

    def _forget_acks(self, request_id: str) -> None:
        wait = self._acks.pop(request_id, None)
        if wait is not None and wait.recount is not None:
            wait.recount.cancel()

    async def fetch_sockets(self, options: BroadcastOptions) -> list[SocketDetails]:
        found = self.fetch_sockets_local(options)
        if options.flags.local:
            return found
        request = FetchSockets(self.nsp, options, new_uid())
        for reply in await self._ask(request, request.request_id, "fetchSockets"):
            if isinstance(reply, FetchSocketsReply):
                found.extend(reply.sockets)
        return found

    async def all_rooms(self) -> frozenset[str]:
        """Every room with a member on any node (Node's ``allRooms``)."""
        rooms = set(self.rooms())
        request = AllRooms(self.nsp, new_uid())
        for reply in await self._ask(request, request.request_id, "allRooms"):
            if isinstance(reply, RoomsReply):
                rooms.update(reply.names)
        return frozenset(rooms)

    def add_sockets(self, options: BroadcastOptions, rooms: Sequence[str]) -> None:
        if not options.flags.local:
            self._request(SocketsJoin(self.nsp, options, tuple(rooms)))
        super().add_sockets(options, rooms)

    def del_sockets(self, options: BroadcastOptions, rooms: Sequence[str]) -> None:
        if not options.flags.local:
            self._request(SocketsLeave(self.nsp, options, tuple(rooms)))
        super().del_sockets(options, rooms)

    def disconnect_sockets(self, options: BroadcastOptions, close: bool) -> None:
        if not options.flags.local:
            self._request(DisconnectSockets(self.nsp, options, close))
        super().disconnect_sockets(options, close)

    def server_side_emit(
        self,
        args: Sequence[Any],
        on_replies: OnServerReplies | None = None,
        timeout: float | None = None,
    ) -> None:
        if on_replies is None:
            self._request(ServerSideEmit(self.nsp, tuple(args)))
            return
        callback = on_replies

        async def ask() -> None:
            request = ServerSideEmit(self.nsp, tuple(args), new_uid())
            assert request.request_id is not None
            try:
                replies = await self._ask(request, request.request_id, "serverSideEmit", timeout)
            except BroadcastAckTimeout as exc:
                callback(exc, exc.replies)
                return
            values = [r.value for r in replies if isinstance(r, ServerSideEmitReply)]
            callback(None, values)

        self.cluster.spawn(ask())

    async def server_count(self) -> int:
        return await self.cluster.server_count(self.channels.request)

    async def _ask(
        self, request: ClusterRequest, request_id: str, what: str, timeout: float | None = None
    ) -> list[ClusterReply]:
        """Publish ``request`` and wait for one reply from every other node
        it reached. PUBLISH answers how many subscribers got the message,
        counted by Redis as it delivers: a node that has unsubscribed (a
        clean shutdown) or whose connection dropped (a killed process) is
        not among them, and every node that is answers (it unsubscribes
        only after it has answered what came before). In a cluster of one
        that count is all the round trip there is."""
        if self.cluster.leaving:
            return []  # nobody would count this node's own part any more
        promise: Promise[list[ClusterReply]] = self.host.create_promise()

        def done(error: BaseException | None, replies: list[ClusterReply]) -> None:
            if promise.done():
                return
            if error is None:
                promise.set_result(replies)
            else:
                promise.set_exception(error)

        wait = self._waiting[request_id] = _Waiting(request.kind, done)
        wait.timer = self.host.schedule(
            self.cluster.requests_timeout if timeout is None else timeout,
            lambda: self._timed_out(request_id, what),
        )
        wire, codec = request_to_wire(self.cluster.uid, request)
        self.cluster.publish(
            self.channels.request, pack(wire, codec), lambda n: self._reached(request_id, n)
        )
        return await promise

    def _reached(self, request_id: str, subscribers: int | None) -> None:
        wait = self._waiting.get(request_id)
        if wait is None:
            return
        # Our own subscription is one of them; unsent (Redis unreachable), none.
        wait.expected = 0 if subscribers is None else max(0, subscribers - 1)
        self._settle_if_answered(request_id, wait)

        def recounted(subscribed: int) -> bool:
            wait = self._waiting.get(request_id)
            if wait is None or wait.expected is None:
                return False
            wait.expected = min(wait.expected, subscribed - 1)
            self._settle_if_answered(request_id, wait)
            return request_id in self._waiting

        if request_id in self._waiting:
            self._keep_counting(wait, recounted)

    def _keep_counting(self, wait: _Waiting | _AckWait, recounted: Callable[[int], bool]) -> None:
        """A node killed just as a request reached it was counted, and will
        never answer: every RECOUNT_EVERY seconds, hand ``recounted`` the
        nodes subscribed now (this one included), while it returns True."""

        async def recount() -> None:
            if recounted(await self.server_count()):
                self._keep_counting(wait, recounted)

        wait.recount = self.host.schedule(RECOUNT_EVERY, lambda: self.cluster.spawn(recount()))

    def _settle_if_answered(self, request_id: str, wait: _Waiting) -> None:
        if wait.expected is None or len(wait.replies) < wait.expected:
            return
        del self._waiting[request_id]
        wait.cancel_timers()
        self.cluster.requests_answered += 1
        wait.done(None, wait.replies)

    def _timed_out(self, request_id: str, what: str) -> None:
        wait = self._waiting.pop(request_id, None)
        if wait is None:
            return
        wait.cancel_timers()
        self.cluster.requests_timed_out += 1
        replies = [r.value for r in wait.replies if isinstance(r, ServerSideEmitReply)]
        expected = "?" if wait.expected is None else wait.expected
        error = BroadcastAckTimeout(
            f"timeout reached while waiting for {what} response: "
            f"{len(wait.replies)} of {expected} nodes answered",
            replies,
        )
        wait.done(error, wait.replies)

    # -- from other nodes ---------------------------------------------------------------

    def on_broadcast(self, channel: str, data: bytes) -> None:
        """A message on one of this namespace's broadcast channels."""
        room = self.channels.room_of(channel)
        if room is None:
            raise MalformedClusterMessage(f"not a broadcast channel: {channel!r}")
        if room and room not in self._rooms and self.recovery is None:
            # Nobody here is in that room: not even worth decoding (with
            # recovery, its offset is the newest mark of sockets connecting here).
            return
        if data.startswith(self.cluster._own_heads):
            return  # our own broadcast, back from Redis
        value = unpack(data, self.cluster.max_message_size)
        uid, message = broadcast_from_wire(value, self.nsp)
        if uid == self.cluster.uid:
            return
        packet, offset = message.packet, broadcast_offset(value)
        if offset is not None and self.recovery is not None:
            packet = self.recovery.heard(packet, offset)
        self._deliver_remote(packet, message.options)

    def _deliver_remote(self, packet: Packet, options: BroadcastOptions) -> None:
        try:
            self.broadcast_local(packet, options)
        except (TypeError, ValueError):
            # Dates, or values JSON cannot carry: retry with Dates as strings.
            fixed = Packet(packet.type, packet.nsp, js_values(packet.data), packet.id)
            try:
                self.broadcast_local(fixed, options)
            except (TypeError, ValueError) as exc:
                raise MalformedClusterMessage(f"the event cannot be sent: {exc}") from None

    def on_request(self, channel: str, data: bytes) -> None:
        """A message on this namespace's request channel."""
        uid, request = request_from_wire(unpack(data, self.cluster.max_message_size), self.nsp)
        if uid == self.cluster.uid:
            return  # ours: the local part is done already
        if isinstance(request, AllRooms):
            self._respond(RoomsReply(request.request_id, tuple(sorted(self.rooms()))))
        elif isinstance(request, SocketIds):
            sids = self.sockets(BroadcastOptions(request.rooms))
            self._respond(RoomsReply(request.request_id, tuple(sids)))
        else:
            self.serve(request, self._respond)

    def on_response(self, channel: str, data: bytes) -> None:
        """A message on a response channel: most answer other nodes' requests."""
        value = unpack(data, self.cluster.max_message_size)
        request_id = reply_request_id(value)
        ack = self._acks.get(request_id)
        if ack is not None:
            reply = reply_from_wire(value, RequestKind.BROADCAST)
            if isinstance(reply, BroadcastClientCount):
                ack.counted += 1
                ack.on_count(reply.client_count)
            elif isinstance(reply, BroadcastAck):
                ack.on_reply(reply.value)
            return
        wait = self._waiting.get(request_id)
        if wait is None:
            return  # another node's request, or one of ours that timed out
        wait.replies.append(reply_from_wire(value, wait.kind))
        self._settle_if_answered(request_id, wait)

    def close(self) -> None:
        super().close()
        self.cluster._unregister(self)


# -- the connection every namespace shares -------------------------------------------


class RedisAdapter(AdapterFactory):
    """``Server(adapter=RedisAdapter(url))``: the namespaces of that server
    share this node's Redis connections.

    ``url``: ``redis://[[user]:password@]host[:port][/db]``, or ``rediss://``
    for TLS, or ``unix://``; further keyword arguments go to redis-py
    (``ssl_ca_certs``, ``ssl_cert_reqs``, ``socket_connect_timeout``...).
    ``key_prefix``: the ``key`` option of Node's adapter (``"socket.io"``).
    ``requests_timeout``: seconds a request to the other nodes (fetch
    sockets, all rooms, a server-side emit with replies) waits for every
    answer (5, as Node's ``requestsTimeout``).
    ``max_message_size``: bytes; a larger message from the cluster is dropped
    (16,000,000, as ``max_buffer``). ``max_pending_publishes``: messages
    waiting for Redis; past it a broadcast reaches the local clients only
    (10,000). ``reconnect_delay`` / ``reconnect_delay_max``: the backoff,
    doubling from the first to the second, in seconds (0.1 and 5).
    ``presence_expiry``: seconds after which the users of a node that stopped
    beating (killed, cut off) go offline in ``sio.presence`` (15; a node
    beats every third of it). ``leave_timeout``: seconds a node that shuts
    down takes at most to take its users out of the presence count,
    unsubscribe, answer the requests that reached it before, and send what
    is queued (2).
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        key_prefix: str = DEFAULT_PREFIX,
        requests_timeout: float = 5.0,
        max_message_size: int = 16_000_000,
        max_pending_publishes: int = 10_000,
        reconnect_delay: float = 0.1,
        reconnect_delay_max: float = 5.0,
        presence_expiry: float = 15.0,
        leave_timeout: float = 2.0,
        **redis_options: Any,
    ) -> None:
        if max_message_size <= 0 or max_pending_publishes <= 0:
            raise InvalidArgument("max_message_size and max_pending_publishes must be positive")
        if not 0 < reconnect_delay <= reconnect_delay_max:
            raise InvalidArgument("need 0 < reconnect_delay <= reconnect_delay_max")
        if not presence_expiry > 0:
            raise InvalidArgument("presence_expiry must be positive")
        if not leave_timeout > 0:
            raise InvalidArgument("leave_timeout must be positive")
        self.url = url
        self.key_prefix = key_prefix
        self.requests_timeout = requests_timeout
        self.max_message_size = max_message_size
        self.max_pending_publishes = max_pending_publishes
        self.reconnect_delay = reconnect_delay
        self.reconnect_delay_max = reconnect_delay_max
        self.presence_expiry = presence_expiry
        self.leave_timeout = leave_timeout
        # The adapter owns the backoff: redis-py's own retries would hold a
        # publish (and every broadcast behind it) for seconds during an outage.
        redis_options.setdefault("retry", Retry(NoBackoff(), 0))
        self.redis_options = redis_options
        """Keyword arguments for redis-py's client (``Redis.from_url``)."""
        self.uid = new_uid()
        """This node's id on the Redis channels: its own messages are recognised and skipped."""
        # How a msgpack [uid, ...] of ours starts: fixarray(3 or 4: with an
        # offset), fixstr(6), uid.
        self._own_heads = (b"\x93\xa6" + self.uid.encode(), b"\x94\xa6" + self.uid.encode())
        self.namespaces: dict[str, RedisNamespaceAdapter] = {}
        """The adapter of each namespace, by name."""
        self._by_pattern: dict[bytes, RedisNamespaceAdapter] = {}
        self._by_channel: dict[bytes, Callable[[str, bytes], None]] = {}
        self._answering: dict[bytes, Callable[[str, bytes], None]] = {}
        """Request channels of namespaces that are gone, until Redis confirms
        their unsubscription."""
        self._outbox: deque[tuple[tuple[Any, ...], OnReached | None]] = deque()
        self._idle = asyncio.Event()
        self._left: asyncio.Event | None = None
        self._unconfirmed: set[bytes] = set()
        self._leaving: asyncio.Task[None] | None = None
        self._pub: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._wake: asyncio.Event | None = None
        self._changed: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: asyncio.Future[None] | None = None
        self._publishing = True
        self._dropped = 0
        self._presence: RedisPresence | None = None
        self._runtime: Runtime | None = None
        self.generation = 0
        """How many times the listener has completed its subscriptions."""
        self.connected = False
        """Subscribed to every namespace's channels, on a live connection."""
        self.requests_answered = 0
        """Requests of this node (fetch sockets, all rooms, server-side emit
        with replies) resolved because every node they reached answered."""
        self.requests_timed_out = 0
        """Requests of this node that ended at ``requests_timeout`` instead."""
        self.unpublished = 0
        """Messages (broadcasts, requests) that never reached Redis since the
        adapter started: during an outage, or over ``max_pending_publishes``."""
        self.malformed = 0
        """Messages from Redis dropped as malformed since the adapter started."""

    @property
    def pending_publishes(self) -> int:
        """Messages queued for Redis, not yet written."""
        return len(self._outbox)

    @property
    def publishing(self) -> bool:
        """Whether broadcasts reach Redis now (False during an outage, when
        they reach this node's clients only)."""
        return self._publishing

    def __repr__(self) -> str:
        return f"<RedisAdapter {self.key_prefix!r} uid={self.uid}>"

    def __call__(
        self,
        nsp: str,
        deliver: Deliver,
        make_message: MessageFactory,
        host: AdapterHost | None = None,
    ) -> RedisNamespaceAdapter:
        return RedisNamespaceAdapter(self, nsp, deliver, make_message, host)

    # -- namespaces ---------------------------------------------------------------------

    def _register(self, adapter: RedisNamespaceAdapter) -> None:
        self.namespaces[adapter.nsp] = adapter
        channels = adapter.channels
        self._by_pattern[channels.pattern.encode()] = adapter
        self._by_channel[channels.request.encode()] = adapter.on_request
        for name in (channels.response, channels.specific_response(self.uid)):
            self._by_channel[name.encode()] = adapter.on_response
        if self._pubsub is not None:
            self._subscribed_to(adapter)

    def _unregister(self, adapter: RedisNamespaceAdapter) -> None:
        """Forget a namespace that is gone (an empty dynamic child), and
        unsubscribe its channels, or churned names would pile up in Redis."""
        if self.namespaces.get(adapter.nsp) is not adapter:
            return
        del self.namespaces[adapter.nsp]
        channels = adapter.channels
        names = [channels.request, channels.response, channels.specific_response(self.uid)]
        self._by_pattern.pop(channels.pattern.encode(), None)
        request = self._by_channel.get(channels.request.encode())
        for name in names:
            self._by_channel.pop(name.encode(), None)
        if self._pubsub is not None:
            if request is not None:
                # A request Redis delivers before the unsubscription counted
                # this node: answer it (as a namespace with nobody in it).
                self._answering[channels.request.encode()] = request
            self._spawn(
                self._send_subscriptions(self._pubsub, [channels.pattern], names, subscribe=False)
            )

    def _subscribed_to(self, adapter: RedisNamespaceAdapter) -> None:
        """Subscribe a namespace added while connected (a dynamic child)."""
        channels = adapter.channels
        names = (channels.request, channels.response, channels.specific_response(self.uid))
        pubsub = self._pubsub
        self._spawn(self._send_subscriptions(pubsub, [channels.pattern], list(names)))

    async def _send_subscriptions(
        self,
        pubsub: Any,
        patterns: Sequence[str],
        channels: Sequence[str],
        *,
        subscribe: bool = True,
    ) -> None:
        try:
            if not subscribe:
                await pubsub.punsubscribe(*patterns)
                await pubsub.unsubscribe(*channels)
                # The name may have come back meanwhile (a new child of the
                # same name): what it registered again stays subscribed.
                patterns = [p for p in patterns if p.encode() in self._by_pattern]
                channels = [c for c in channels if c.encode() in self._by_channel]
            if patterns:
                await pubsub.psubscribe(*patterns)
            if channels:
                await pubsub.subscribe(*channels)
        except _CONNECTION_ERRORS:
            pass  # the listener sees the failure too, and subscribes everything again

    def presence_store(self, tell: Tell, max_last_seen: int) -> RedisPresence:
        """``sio.presence`` counted by Redis, cluster-wide (:mod:`realtime.redis_presence`)."""
        if self._presence is None:
            self._presence = RedisPresence(self, tell, max_last_seen)
            channel = self._presence.channel
            self._by_channel[channel.encode()] = self._presence.on_change
            if self._pubsub is not None:
                self._spawn(self._send_subscriptions(self._pubsub, [], [channel]))
            if self._tasks:
                self._presence.start()
        return self._presence

    # -- life ---------------------------------------------------------------------------

    def start(self, runtime: Runtime) -> None:
        """Connect to Redis and start listening and publishing (``Server.bind`` calls it; a
        second call does nothing)."""
        if self._tasks:
            return
        self._runtime = runtime
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._pub = aioredis.Redis.from_url(self.url, **self.redis_options)
        self._tasks = [
            asyncio.ensure_future(self._listen()),
            asyncio.ensure_future(self._write()),
        ]
        if self._presence is not None:
            self._presence.start()

    def connection(self) -> aioredis.Redis:
        """The connection for commands (publishing, presence); the adapter must be started."""
        if self._pub is None:
            raise RedisError("the adapter is not started, or closed")
        return self._pub

    def spawn(self, coroutine: Any) -> None:
        """Run ``coroutine`` as a task of the adapter (cancelled by close)."""
        self._spawn(coroutine)

    async def server_count(self, request_channel: str) -> int:
        """The nodes subscribed to ``request_channel`` (Node's ``serverCount``);
        1 while Redis is unreachable: then this node is all it can reach."""
        pub = self._pub
        if pub is None:
            return 1
        try:
            counts = await pub.pubsub_numsub(request_channel)
        except _CONNECTION_ERRORS as exc:
            log_once("redis:numsub", "Redis unreachable for PUBSUB NUMSUB (%s)", exc)
            return 1
        return max(1, int(counts[0][1])) if counts else 1

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.append(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    def close(self) -> None:
        """Leave the cluster: take this node's users out of the presence
        count, unsubscribe, answer the requests that came before the
        unsubscription, send what is queued, then close the connections
        (within ``leave_timeout``; the server's drain waits)."""
        if self._leaving is not None:
            return
        if not (self.connected and self._pubsub is not None):
            self._stop()  # not subscribed: nobody counts this node
            return
        self._leaving = asyncio.ensure_future(self._leave(self._pubsub))
        if self._runtime is not None:
            self._runtime.spawn(_wait_for, self._leaving)

    @property
    def leaving(self) -> bool:
        """Whether :meth:`close` has begun: this node no longer counts as
        one that answers, and its own requests get the local answer only."""
        return self._leaving is not None

    async def _leave(self, pubsub: Any) -> None:
        # The request channels and broadcast patterns go first; the response
        # channels stay until the end, for the requests of ours under way.
        requests = [adapter.channels.request for adapter in self.namespaces.values()]
        patterns = list(self._by_pattern)
        self._unconfirmed = {name.encode() for name in requests} | set(patterns)
        left = self._left = asyncio.Event()
        if not self._unconfirmed:
            left.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.leave_timeout
        try:
            if self._presence is not None:
                # While this node still answers: its users leave the count now
                # (their last seen this moment), not at presence_expiry.
                await asyncio.wait_for(self._presence.leave(), self.leave_timeout)
            # What this node published before counted its own subscription:
            # let Redis have it first.
            await asyncio.wait_for(self._idle.wait(), max(0.0, deadline - loop.time()))
            if requests:
                await pubsub.unsubscribe(*requests)
            if patterns:
                await pubsub.punsubscribe(*patterns)
            await asyncio.wait_for(left.wait(), deadline - loop.time())
            await asyncio.wait_for(self._requests_settled(), max(0.0, deadline - loop.time()))
            await asyncio.wait_for(self._idle.wait(), max(0.0, deadline - loop.time()))
        except (asyncio.TimeoutError, *_CONNECTION_ERRORS):
            logger.warning(
                "leaving the cluster: not done after %.1f s (leave_timeout), closing",
                self.leave_timeout,
            )
        finally:
            self._stop()

    async def _requests_settled(self) -> None:
        while any(adapter._waiting for adapter in self.namespaces.values()):
            # Shutdown only: a short poll is simpler than a wake-up per request.
            await asyncio.sleep(0.01)

    def _stop(self) -> None:
        """Stop listening and publishing (what is still queued is dropped)."""
        self._wake = None
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if self.connected:
            self._set_connected(False)
        pub, self._pub = self._pub, None
        if pub is not None:
            self._closing = asyncio.ensure_future(_quietly(pub.aclose()))

    async def aclose(self) -> None:
        """:meth:`close`, and wait until the connections are closed."""
        tasks = list(self._tasks)
        self.close()
        if self._leaving is not None:
            await asyncio.gather(self._leaving, return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._closing is not None:
            await self._closing

    async def ready(self, after: int = 0) -> None:
        """Wait until the cluster is usable both ways: every namespace
        subscribed, on a connection made after the ``after``-th one
        (:attr:`generation`), and broadcasts reaching Redis again."""
        changed = self._changed
        if changed is None:
            raise InvalidState("the adapter is not started (its server is not serving)")
        while not (self.connected and self.generation > after and self._publishing):
            await changed.wait()

    def _set_connected(self, connected: bool) -> None:
        self.connected = connected
        if connected:
            self.generation += 1
        self._changed_state()

    def _changed_state(self) -> None:
        if self._changed is not None:
            self._changed.set()  # wakes every waiter of ready() ...
            self._changed.clear()  # ... which then checks the state again

    # -- publishing ---------------------------------------------------------------------

    def publish(self, channel: str, data: bytes, reached: OnReached | None = None) -> None:
        """Queue one message for Redis; never blocks. ``reached`` gets what
        PUBLISH answers, the number of subscribers that received the message
        (this node's own subscription included), or None if it was not sent."""
        self._queue(("PUBLISH", channel, data), reached)

    def command(self, *command: Any) -> None:
        """Queue one Redis command, sent in order with the publishes; never blocks."""
        self._queue(command, None)

    def _queue(self, command: tuple[Any, ...], on_result: OnReached | None) -> None:
        if self._wake is None:
            # Not serving yet, or closed: nobody else can be reached either.
            _tell(on_result, None)
            return
        if not self._publishing or len(self._outbox) >= self.max_pending_publishes:
            self._dropped += 1
            self.unpublished += 1
            if self._publishing:
                log_once(
                    "redis:publish-backlog",
                    "Redis is slower than the broadcasts: over max_pending_publishes "
                    "(%d), a broadcast reaches this node's clients only",
                    self.max_pending_publishes,
                )
            _tell(on_result, None)
            return
        self._outbox.append((command, on_result))
        self._idle.clear()  # until the writer has sent it
        self._wake.set()

    async def _write(self) -> None:
        wake = self._wake
        assert wake is not None
        idle = self._idle
        while True:
            while not self._outbox:
                idle.set()
                wake.clear()
                await wake.wait()
            idle.clear()
            while self._outbox:
                batch = list(self._outbox)
                self._outbox.clear()
                try:
                    results = await self._publish_batch([command for command, _ in batch])
                except _CONNECTION_ERRORS as exc:
                    self._dropped += len(batch)
                    for _, on_result in batch:
                        _tell(on_result, None)
                    self.unpublished += len(batch)
                    await self._publisher_down(exc)
                    continue
                for (_, on_result), result in zip(batch, results, strict=False):
                    if isinstance(result, ResponseError):
                        log_once("redis:refused", "Redis refused a command (%s)", result)
                    _tell(on_result, result if isinstance(result, int) else None)

    async def _publish_batch(self, batch: list[tuple[Any, ...]]) -> list[Any]:
        pub = self._pub
        assert pub is not None
        # A command Redis refuses (a script's error, OOM) is that command's
        # answer, not an outage: the others of the batch went through.
        if len(batch) == 1:
            try:
                return [await pub.execute_command(*batch[0])]  # type: ignore[no-untyped-call]
            except ResponseError as exc:
                return [exc]
        pipe = pub.pipeline(transaction=False)
        for command in batch:
            pipe.execute_command(*command)
        return list(await pipe.execute(raise_on_error=False))

    async def _publisher_down(self, exc: BaseException) -> None:
        """Drop broadcasts (local delivery goes on) until a PING succeeds."""
        self._publishing = False
        self._dropped += len(self._outbox)
        for _, on_result in self._outbox:
            _tell(on_result, None)
        self.unpublished += len(self._outbox)
        self._outbox.clear()
        logger.warning("Redis unreachable for publishing (%s): broadcasts stay local", exc)
        delay = self.reconnect_delay
        pub = self._pub
        assert pub is not None
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.reconnect_delay_max)
            try:
                await pub.ping()
            except _CONNECTION_ERRORS:
                continue
            break
        logger.warning(
            "Redis reachable again for publishing; %d broadcasts reached local clients only",
            self._dropped,
        )
        self._dropped = 0
        self._publishing = True
        self._changed_state()

    # -- listening ----------------------------------------------------------------------

    async def _listen(self) -> None:
        delay = self.reconnect_delay
        while True:
            client = aioredis.Redis.from_url(self.url, **self.redis_options)
            pubsub = client.pubsub()
            try:
                wanted = await self._subscribe_all(pubsub)
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    if self._left is not None and _unsubscription(message):
                        self._unconfirmed.discard(message.get("channel") or b"")
                        if not self._unconfirmed:
                            # Everything Redis delivered before is handled.
                            self._left.set()
                        continue
                    if wanted and self._confirmed(message, wanted):
                        wanted = set()
                        delay = self.reconnect_delay
                        continue
                    self._dispatch(message)
            except _CONNECTION_ERRORS as exc:
                if self.connected:
                    self._set_connected(False)
                logger.warning("Redis subscription lost (%s); retrying in %.1f s", exc, delay)
            finally:
                self._pubsub = None
                await _quietly(pubsub.aclose())
                await _quietly(client.aclose())
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.reconnect_delay_max)

    async def _subscribe_all(self, pubsub: Any) -> set[bytes]:
        patterns = list(self._by_pattern)
        channels = list(self._by_channel)
        self._answering.clear()  # a new connection subscribes none of them
        self._pubsub = pubsub
        if patterns:
            await pubsub.psubscribe(*patterns)
        if channels:
            await pubsub.subscribe(*channels)
        wanted = set(patterns) | set(channels)
        if not wanted:
            self._now_subscribed()
        return wanted

    def _confirmed(self, message: dict[str, Any], wanted: set[bytes]) -> bool:
        """Count a subscription confirmation; True once all have come."""
        if message.get("type") not in ("subscribe", "psubscribe"):
            return False
        wanted.discard(message.get("channel") or b"")
        if wanted:
            return False
        self._now_subscribed()
        return True

    def _now_subscribed(self) -> None:
        self._set_connected(True)
        if self._presence is not None:
            self._presence.resync()
        if self.generation > 1:
            logger.warning("Redis subscription restored")

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        channel = message.get("channel")
        data = message.get("data")
        if kind == "unsubscribe" and isinstance(channel, bytes):
            self._answering.pop(channel, None)
        if not isinstance(channel, bytes) or not isinstance(data, bytes):
            return  # a confirmation of a later subscription, a pong
        try:
            if kind == "pmessage":
                adapter = self._by_pattern.get(message.get("pattern") or b"")
                if adapter is not None:
                    adapter.on_broadcast(channel.decode(), data)
            elif kind == "message":
                handler = self._by_channel.get(channel) or self._answering.get(channel)
                if handler is not None:
                    handler(channel.decode(), data)
        except (MalformedClusterMessage, UnicodeDecodeError) as exc:
            self.malformed += 1
            log_once("redis:malformed", "dropped a message on %r: %s", channel, exc)
        except Exception:
            # A bug of ours must not kill the listener of every namespace.
            logger.exception("error handling a message on %r", channel)


def _tell(on_result: OnReached | None, result: int | None) -> None:
    if on_result is None:
        return
    try:
        on_result(result)
    except Exception:
        # A bug of ours must not kill the writer of every namespace.
        logger.exception("error handling the answer to a PUBLISH")


def _unsubscription(message: dict[str, Any]) -> bool:
    return message.get("type") in ("unsubscribe", "punsubscribe")


async def _wait_for(awaitable: Any) -> None:
    await awaitable


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except (*_CONNECTION_ERRORS, RuntimeError):
        pass
