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
from collections.abc import Sequence
from typing import Any, Final

import msgpack
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from ._log import log_once
from .bus.adapter import (
    AdapterFactory,
    AdapterHost,
    BroadcastOptions,
    Deliver,
    MemoryAdapter,
    MessageFactory,
)
from .bus.cluster import DEFAULT_PREFIX, Broadcast, Channels, Codec, MalformedClusterMessage
from .protocol.socketio import Packet
from .types import Runtime

__all__ = ["RedisAdapter", "RedisNamespaceAdapter"]

logger = logging.getLogger("realtime.redis")

DEFAULT_URL: Final = "redis://127.0.0.1:6379/0"
_UID_ALPHABET: Final = string.ascii_letters + string.digits
_CONNECTION_ERRORS: Final = (RedisError, OSError)


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


class RedisNamespaceAdapter(MemoryAdapter):
    """Rooms of one namespace, kept locally; broadcasts published to Redis."""

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
        cluster._register(self)

    def broadcast(self, packet: Packet, options: BroadcastOptions) -> int:
        # Local first: a payload that cannot be encoded raises here, before
        # anything left this node.
        count = self.broadcast_local(packet, options)
        message = Broadcast(self.cluster.uid, packet, options)
        self.cluster.publish(self.channels.for_broadcast(options), pack(message.to_wire()))
        return count

    def on_broadcast(self, channel: str, data: bytes) -> None:
        """A message on one of this namespace's broadcast channels."""
        room = self.channels.room_of(channel)
        if room is None:
            raise MalformedClusterMessage(f"not a broadcast channel: {channel!r}")
        if room and room not in self._rooms:
            return  # nobody here is in that room: not even worth decoding
        if data.startswith(self.cluster._own_head):
            return  # our own broadcast, back from Redis
        message = Broadcast.from_wire(unpack(data, self.cluster.max_message_size))
        if message.uid == self.cluster.uid:
            return
        packet = message.packet
        if packet.nsp != self.nsp:
            raise MalformedClusterMessage(f"a packet of {packet.nsp!r} on {channel!r}")
        try:
            self.broadcast_local(packet, message.options)
        except (TypeError, ValueError):
            # Dates, or values JSON cannot carry: retry with Dates as strings.
            fixed = Packet(packet.type, packet.nsp, js_values(packet.data), packet.id)
            try:
                self.broadcast_local(fixed, message.options)
            except (TypeError, ValueError) as exc:
                raise MalformedClusterMessage(f"the event cannot be sent: {exc}") from None

    def on_request(self, channel: str, data: bytes) -> None:
        """A message on the request or a response channel of this namespace.
        Requests between nodes are not served yet: logged and dropped."""
        logger.debug("%s: request on %s not handled", self.nsp, channel)

    def close(self) -> None:
        self.cluster._unregister(self)


# -- the connection every namespace shares -------------------------------------------


class RedisAdapter(AdapterFactory):
    """``Server(adapter=RedisAdapter(url))``: the namespaces of that server
    share this node's Redis connections.

    ``url``: ``redis://[[user]:password@]host[:port][/db]``, or ``rediss://``
    for TLS, or ``unix://``; further keyword arguments go to redis-py
    (``ssl_ca_certs``, ``ssl_cert_reqs``, ``socket_connect_timeout``...).
    ``key_prefix``: the ``key`` option of Node's adapter (``"socket.io"``).
    ``max_message_size``: bytes; a larger message from the cluster is dropped
    (16,000,000, as ``max_buffer``). ``max_pending_publishes``: messages
    waiting for Redis; past it a broadcast reaches the local clients only
    (10,000). ``reconnect_delay`` / ``reconnect_delay_max``: the backoff,
    doubling from the first to the second, in seconds (0.1 and 5).
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        key_prefix: str = DEFAULT_PREFIX,
        max_message_size: int = 16_000_000,
        max_pending_publishes: int = 10_000,
        reconnect_delay: float = 0.1,
        reconnect_delay_max: float = 5.0,
        **redis_options: Any,
    ) -> None:
        if max_message_size <= 0 or max_pending_publishes <= 0:
            raise ValueError("max_message_size and max_pending_publishes must be positive")
        if not 0 < reconnect_delay <= reconnect_delay_max:
            raise ValueError("need 0 < reconnect_delay <= reconnect_delay_max")
        self.url = url
        self.key_prefix = key_prefix
        self.max_message_size = max_message_size
        self.max_pending_publishes = max_pending_publishes
        self.reconnect_delay = reconnect_delay
        self.reconnect_delay_max = reconnect_delay_max
        # The adapter owns the backoff: redis-py's own retries would hold a
        # publish (and every broadcast behind it) for seconds during an outage.
        redis_options.setdefault("retry", Retry(NoBackoff(), 0))
        self.redis_options = redis_options
        self.uid = new_uid()
        # How a msgpack [uid, ...] of ours starts: fixarray(3), fixstr(6), uid.
        self._own_head = b"\x93\xa6" + self.uid.encode()
        self.namespaces: dict[str, RedisNamespaceAdapter] = {}
        self._by_pattern: dict[bytes, RedisNamespaceAdapter] = {}
        self._by_channel: dict[bytes, RedisNamespaceAdapter] = {}
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._pub: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._wake: asyncio.Event | None = None
        self._changed: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: asyncio.Future[None] | None = None
        self._publishing = True
        self._dropped = 0
        self.generation = 0
        """How many times the listener has completed its subscriptions."""
        self.connected = False
        """Subscribed to every namespace's channels, on a live connection."""

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
        for name in (channels.request, channels.response, channels.specific_response(self.uid)):
            self._by_channel[name.encode()] = adapter
        if self._pubsub is not None:
            self._subscribed_to(adapter)

    def _unregister(self, adapter: RedisNamespaceAdapter) -> None:
        if self.namespaces.get(adapter.nsp) is adapter:
            del self.namespaces[adapter.nsp]
        for table in (self._by_pattern, self._by_channel):
            for key in [k for k, v in table.items() if v is adapter]:
                del table[key]

    def _subscribed_to(self, adapter: RedisNamespaceAdapter) -> None:
        """Subscribe a namespace added while connected (a dynamic child)."""
        channels = adapter.channels
        names = (channels.request, channels.response, channels.specific_response(self.uid))
        pubsub = self._pubsub
        self._spawn(self._send_subscriptions(pubsub, [channels.pattern], list(names)))

    async def _send_subscriptions(
        self, pubsub: Any, patterns: Sequence[str], channels: Sequence[str]
    ) -> None:
        try:
            await pubsub.psubscribe(*patterns)
            await pubsub.subscribe(*channels)
        except _CONNECTION_ERRORS:
            pass  # the listener sees the failure too, and subscribes everything again

    # -- life ---------------------------------------------------------------------------

    def start(self, runtime: Runtime) -> None:
        if self._tasks:
            return
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._pub = aioredis.Redis.from_url(self.url, **self.redis_options)
        self._tasks = [
            asyncio.ensure_future(self._listen()),
            asyncio.ensure_future(self._write()),
        ]

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.append(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    def close(self) -> None:
        """Stop listening and publishing (what is still queued is dropped)."""
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
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._closing is not None:
            await self._closing

    async def ready(self, after: int = 0) -> None:
        """Wait until every namespace is subscribed, on a connection made
        after the ``after``-th one (:attr:`generation`)."""
        changed = self._changed
        if changed is None:
            raise RuntimeError("the adapter is not started (its server is not serving)")
        while not (self.connected and self.generation > after):
            await changed.wait()

    def _set_connected(self, connected: bool) -> None:
        self.connected = connected
        if connected:
            self.generation += 1
        if self._changed is not None:
            self._changed.set()  # wakes every waiter of ready() ...
            self._changed.clear()  # ... which then checks the state again

    # -- publishing ---------------------------------------------------------------------

    def publish(self, channel: str, data: bytes) -> None:
        """Queue one message for Redis; never blocks."""
        if self._wake is None:
            return  # not serving yet: nobody else can be reached either
        if not self._publishing or len(self._outbox) >= self.max_pending_publishes:
            self._dropped += 1
            if self._publishing:
                log_once(
                    "redis:publish-backlog",
                    "Redis is slower than the broadcasts: over max_pending_publishes "
                    "(%d), a broadcast reaches this node's clients only",
                    self.max_pending_publishes,
                )
            return
        self._outbox.append((channel, data))
        self._wake.set()

    async def _write(self) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            await wake.wait()
            wake.clear()
            while self._outbox:
                batch = list(self._outbox)
                self._outbox.clear()
                try:
                    await self._publish_batch(batch)
                except _CONNECTION_ERRORS as exc:
                    self._dropped += len(batch)
                    await self._publisher_down(exc)

    async def _publish_batch(self, batch: list[tuple[str, bytes]]) -> None:
        pub = self._pub
        assert pub is not None
        if len(batch) == 1:
            await pub.publish(*batch[0])
            return
        pipe = pub.pipeline(transaction=False)
        for channel, data in batch:
            pipe.publish(channel, data)
        await pipe.execute()

    async def _publisher_down(self, exc: BaseException) -> None:
        """Drop broadcasts (local delivery goes on) until a PING succeeds."""
        self._publishing = False
        self._dropped += len(self._outbox)
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
        if self.generation > 1:
            logger.warning("Redis subscription restored")

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        channel = message.get("channel")
        data = message.get("data")
        if not isinstance(channel, bytes) or not isinstance(data, bytes):
            return  # a confirmation of a later subscription, a pong
        try:
            if kind == "pmessage":
                adapter = self._by_pattern.get(message.get("pattern") or b"")
                if adapter is not None:
                    adapter.on_broadcast(channel.decode(), data)
            elif kind == "message":
                adapter = self._by_channel.get(channel)
                if adapter is not None:
                    adapter.on_request(channel.decode(), data)
        except (MalformedClusterMessage, UnicodeDecodeError) as exc:
            log_once("redis:malformed", "dropped a message on %r: %s", channel, exc)
        except Exception:
            # A bug of ours must not kill the listener of every namespace.
            logger.exception("error handling a message on %r", channel)


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except (*_CONNECTION_ERRORS, RuntimeError):
        pass
