"""``sio.presence`` on the Redis adapter: who is online in the whole cluster.

Redis holds the count, under ``{key_prefix}#presence#{namespace}#``:

- ``users``: a hash, user id -> how many nodes have a socket of theirs;
- ``node#{uid}``: a set, the users with a socket on that node;
- ``nodes``: a sorted set, node uid -> when (Redis's clock, in ms) it is
  taken for dead unless it beats again;
- ``seen``: a sorted set, user id -> when their last socket went (ms), the
  newest ``max_last_seen`` kept;
- ``version``: how many online and offline changes there have been;

and every change is published on ``{key_prefix}#presence`` as JSON
``[namespace, version, "online" | "offline", user_id, ms]``.

One Lua script makes every change, so a user goes online (or offline) once
in the cluster, and the node whose call did it runs the handlers. Each call
is also that node's heartbeat, and reaps the nodes whose beat is over: the
users of a node that died (SIGKILL, a lost network) go offline after
``presence_expiry``. A node that finds itself reaped (its beats were late,
or Redis restarted empty) gives Redis its whole set again. A node that
shuts down cleanly leaves before it unsubscribes (:meth:`RedisPresence.leave`):
its users go at once, their last seen that moment, and its keys go too.

Each node mirrors the users online and the last-seen times from the
channel, so that reading waits for nothing; a gap in the versions, or a new
subscription, fetches the namespace again. Keys of dead nodes are named by
the script (not passed as keys): a single Redis, not a Redis Cluster.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Final

from redis.exceptions import RedisError

from ._log import log_once
from .bus.cluster import MalformedClusterMessage
from .presence import Tell, forget_oldest

if TYPE_CHECKING:
    from .redis import RedisAdapter

logger = logging.getLogger("realtime.redis")

_CONNECTION_ERRORS: Final = (RedisError, OSError)

_CHANGES: Final = "0"
_WHOLE: Final = "1"
_LEAVING: Final = "2"

_CHANGE: Final = """
local users, nodes, seen, version, mine = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local channel, namespace, uid = ARGV[1], ARGV[2], ARGV[3]
local expiry, keep, mode = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local result = {redis.call('ZADD', nodes, now + expiry, uid), now}

local function tell(kind, sign, user)
  local v = redis.call('INCR', version)
  redis.call('PUBLISH', channel, cjson.encode({namespace, v, kind, user, now}))
  table.insert(result, v)
  table.insert(result, sign .. user)
end

local function arrive(user)
  if redis.call('HINCRBY', users, user, 1) == 1 then
    redis.call('ZREM', seen, user)
    tell('online', '+', user)
  end
end

local function leave(user)
  local left = redis.call('HINCRBY', users, user, -1)
  if left <= 0 then
    redis.call('HDEL', users, user)
  end
  if left == 0 then
    redis.call('ZADD', seen, now, user)
    redis.call('ZREMRANGEBYRANK', seen, 0, -(keep + 1))
    tell('offline', '-', user)
  end
end

if mode ~= '0' then
  local wanted = {}
  for i = 7, #ARGV do wanted[ARGV[i]] = true end
  for _, user in ipairs(redis.call('SMEMBERS', mine)) do
    if wanted[user] then
      wanted[user] = nil
    else
      redis.call('SREM', mine, user)
      leave(user)
    end
  end
  for i = 7, #ARGV do
    local user = ARGV[i]
    if wanted[user] then
      wanted[user] = nil
      redis.call('SADD', mine, user)
      arrive(user)
    end
  end
else
  for i = 7, #ARGV do
    local user = string.sub(ARGV[i], 2)
    if string.sub(ARGV[i], 1, 1) == '+' then
      if redis.call('SADD', mine, user) == 1 then arrive(user) end
    elseif redis.call('SREM', mine, user) == 1 then
      leave(user)
    end
  end
end

local stem = string.sub(mine, 1, #mine - #uid)
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', nodes, '-inf', now)) do
  if dead ~= uid then
    for _, user in ipairs(redis.call('SMEMBERS', stem .. dead)) do leave(user) end
    redis.call('DEL', stem .. dead)
    redis.call('ZREM', nodes, dead)
  end
end
if mode == '2' then
  redis.call('DEL', mine)
  redis.call('ZREM', nodes, uid)
end
return result
"""
"""KEYS: users, nodes, seen, version, this node's set. ARGV: channel,
namespace, node uid, expiry (ms), last-seen kept, the mode: "0" for the
"+user" / "-user" changes that follow, "1" to replace this node's set with
the users that follow, "2" for this node leaving (its users go, and so do
its set and its beat).
Returns [1 if this node was not alive, Redis's time (ms), then for each
change its version and "+user" (online) or "-user" (offline)]."""


class _Mirror:
    """One namespace's users online, as the channel told them."""

    __slots__ = ("fetching", "heard", "seen", "users", "version")

    def __init__(self) -> None:
        self.users: set[str] = set()
        self.seen: OrderedDict[str, float] = OrderedDict()
        self.version = -1  # none fetched yet
        self.heard = 0  # the newest version the channel announced
        self.fetching = False


def _apply(mirror: _Mirror, version: int, kind: str, user: str, moment: float, keep: int) -> bool:
    """Change ``mirror`` if ``version`` is the next one; False if one is missing."""
    if mirror.version < 0 or version != mirror.version + 1:
        return False
    mirror.version = version
    if kind == "online":
        mirror.users.add(user)
        mirror.seen.pop(user, None)
    else:
        mirror.users.discard(user)
        mirror.seen[user] = moment / 1000
        mirror.seen.move_to_end(user)
        forget_oldest(mirror.seen, keep)
    return True


class RedisPresence:
    """The :class:`~realtime.presence.PresenceStore` of a
    :class:`~realtime.redis.RedisAdapter` (``presence_expiry`` and
    ``max_pending_publishes`` are its options)."""

    def __init__(self, cluster: RedisAdapter, tell: Tell, max_last_seen: int) -> None:
        self.cluster = cluster
        self._tell = tell
        self.max_last_seen = max_last_seen
        self.channel = f"{cluster.key_prefix}#presence"
        self._here: dict[str, set[str]] = {}  # namespace -> users with sockets on this node
        self._pending: dict[str, list[str]] = {}  # namespace -> "+user" / "-user" to send
        self._pending_count = 0
        self._whole: set[str] = set()  # namespaces whose set Redis must get whole again
        self._beats: set[str] = set()  # namespaces that owe Redis a heartbeat
        self._mirrors: dict[str, _Mirror] = {}
        self._wake: asyncio.Event | None = None
        self._leaving: asyncio.Event | None = None  # made when leaving begins, set once done
        self._backoff: asyncio.Future[None] | None = None  # the wait after an error, if any
        self._script: Any = None

    def _keys(self, namespace: str) -> list[str]:
        base = f"{self.cluster.key_prefix}#presence#{namespace}#"
        names = ("users", "nodes", "seen", "version", f"node#{self.cluster.uid}")
        return [base + name for name in names]

    # -- the store -----------------------------------------------------------------

    def arrived(self, namespace: str, user_id: str) -> None:
        self._here.setdefault(namespace, set()).add(user_id)
        self._mirror(namespace)
        self._send(namespace, "+" + user_id)

    def left(self, namespace: str, user_id: str) -> None:
        self._here.get(namespace, set()).discard(user_id)
        self._send(namespace, "-" + user_id)

    def users(self, namespace: str) -> Collection[str]:
        return self._mirror(namespace).users

    def last_seen(self, namespace: str, user_id: str) -> float | None:
        return self._mirror(namespace).seen.get(user_id)

    def _send(self, namespace: str, change: str) -> None:
        if self._leaving is not None:
            return  # this node has left the count (or is leaving it): it stays out
        if namespace not in self._whole:
            if self._pending_count < self.cluster.max_pending_publishes:
                self._pending.setdefault(namespace, []).append(change)
                self._pending_count += 1
            else:
                # Too far behind Redis: send each namespace's whole set instead.
                log_once("redis:presence-backlog", "presence changes over max_pending_publishes")
                self._whole.update(self._pending, (namespace,))
                self._pending.clear()
                self._pending_count = 0
        if self._wake is not None:
            self._wake.set()

    # -- life ----------------------------------------------------------------------

    def start(self) -> None:
        """The adapter is serving: talk to Redis from now on."""
        if self._wake is not None:
            return
        self._wake = asyncio.Event()
        self.cluster.spawn(self._write())
        self.cluster.spawn(self._beat())

    async def _beat(self) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            await asyncio.sleep(self.cluster.presence_expiry / 3)
            self._beats.update(self._here, self._mirrors)
            wake.set()

    async def _write(self) -> None:
        wake = self._wake
        assert wake is not None
        delay = self.cluster.reconnect_delay
        while self._leaving is None:
            await wake.wait()
            wake.clear()
            while (self._pending or self._whole or self._beats) and self._leaving is None:
                namespace, changes, mode = self._next_call()
                try:
                    result = await self._call(namespace, changes, mode)
                except _CONNECTION_ERRORS as exc:
                    self._whole.add(namespace)
                    self._pending_count -= len(self._pending.pop(namespace, ()))
                    log_once("redis:presence", "Redis unreachable for presence (%s)", exc)
                    if self._leaving is not None:
                        break
                    await self._back_off(delay)
                    delay = min(delay * 2, self.cluster.reconnect_delay_max)
                    continue
                delay = self.cluster.reconnect_delay
                self._told(namespace, result, mode)
        left = self._leaving
        assert left is not None
        await self._leave_every_namespace(left)

    async def _back_off(self, delay: float) -> None:
        """Wait ``delay`` seconds before trying Redis again, or until :meth:`leave`
        asks: the leave gets its one try within ``leave_timeout``."""
        backoff = self._backoff = asyncio.ensure_future(asyncio.sleep(delay))
        try:
            await asyncio.wait([backoff])  # ends when leave() cancels it, without raising
        finally:
            backoff.cancel()
            self._backoff = None

    def _next_call(self) -> tuple[str, list[str], str]:
        """The namespace to send next, its changes, and the script's mode for them."""
        if self._whole:
            namespace = self._whole.pop()
            self._pending_count -= len(self._pending.pop(namespace, ()))
            changes, mode = sorted(self._here.get(namespace, ())), _WHOLE
        elif self._pending:
            namespace, changes = next(iter(self._pending.items()))
            del self._pending[namespace]
            self._pending_count -= len(changes)
            mode = _CHANGES
        else:
            namespace, changes, mode = self._beats.pop(), [], _CHANGES
        self._beats.discard(namespace)
        return namespace, changes, mode

    async def leave(self) -> None:
        """A clean shutdown: take this node's users out of the cluster's count
        now, so that they go offline at once (their last seen this moment)
        instead of at ``presence_expiry``; nothing is sent after it. Returns
        once Redis has done it, or could not be reached (then the expiry
        does it); the caller bounds the wait (``leave_timeout``)."""
        if self._wake is None:
            return  # never talked to Redis: nothing of this node is there
        if self._leaving is None:
            self._leaving = asyncio.Event()
            self._wake.set()
            if self._backoff is not None:
                self._backoff.cancel()
        await self._leaving.wait()

    async def _leave_every_namespace(self, left: asyncio.Event) -> None:
        namespaces = set(self._here) | set(self._pending) | self._whole | set(self._mirrors)
        self._pending.clear()
        self._pending_count = 0
        self._whole.clear()
        self._beats.clear()
        try:
            # One round trip for every namespace: the whole leave fits in leave_timeout.
            pipe = self.cluster.connection().pipeline(transaction=False)
            for namespace in sorted(namespaces):
                await self._run(namespace, [], _LEAVING, pipe)
            for namespace, result in zip(sorted(namespaces), await pipe.execute(), strict=True):
                self._told(namespace, result, _LEAVING)
        except _CONNECTION_ERRORS as exc:
            logger.warning("presence: Redis unreachable when leaving (%s), left to expiry", exc)
        finally:
            left.set()

    async def _call(self, namespace: str, changes: list[str], mode: str) -> list[Any]:
        pub = self.cluster.connection()
        result: list[Any] = await self._run(namespace, changes, mode, pub)
        return result

    async def _run(self, namespace: str, changes: list[str], mode: str, client: Any) -> Any:
        """The script on ``client``: its result, or (on a pipeline) queued."""
        if self._script is None:
            self._script = self.cluster.connection().register_script(_CHANGE)
        args = [
            self.channel,
            namespace,
            self.cluster.uid,
            int(self.cluster.presence_expiry * 1000),
            self.max_last_seen,
            mode,
            *changes,
        ]
        return await self._script(keys=self._keys(namespace), args=args, client=client)

    def _told(self, namespace: str, result: list[Any], mode: str) -> None:
        moment = int(result[1])
        mirror = self._mirror(namespace)
        for version, change in zip(result[2::2], result[3::2], strict=True):
            text = change.decode() if isinstance(change, bytes) else str(change)
            kind, user = ("online" if text[0] == "+" else "offline"), text[1:]
            mirror.heard = max(mirror.heard, int(version))
            # Ahead of the channel's message, so this node reads its own change.
            # (If another node's change comes first, its message brings both.)
            _apply(mirror, int(version), kind, user, moment, self.max_last_seen)
            self._tell(kind, user, namespace)
        if result[0] == 1 and mode == _CHANGES and self._here.get(namespace):
            self._whole.add(namespace)  # reaped, or Redis forgot: what else is here?

    # -- the mirror ----------------------------------------------------------------

    def _mirror(self, namespace: str) -> _Mirror:
        mirror = self._mirrors.get(namespace)
        if mirror is None:
            mirror = self._mirrors[namespace] = _Mirror()
            self._fetch(namespace)
        return mirror

    def on_change(self, channel: str, data: bytes) -> None:
        """A message on the presence channel."""
        try:
            namespace, version, kind, user, moment = json.loads(data)
            ok = isinstance(namespace, str) and isinstance(version, int)
            ok = ok and kind in ("online", "offline") and isinstance(user, str)
            ok = ok and isinstance(moment, (int, float))
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise MalformedClusterMessage(f"not a presence change: {data[:80]!r}")
        mirror = self._mirrors.get(namespace)
        if mirror is None:
            self._mirror(namespace)
            return
        mirror.heard = max(mirror.heard, version)
        keep = self.max_last_seen
        if version > mirror.version and not _apply(mirror, version, kind, user, moment, keep):
            self._fetch(namespace)  # missed one

    def resync(self) -> None:
        """Subscribed again: what was published meanwhile is lost, fetch it all."""
        for namespace in self._mirrors:
            self._fetch(namespace)
        self._whole.update(self._here)
        if self._wake is not None:
            self._wake.set()

    def _fetch(self, namespace: str) -> None:
        mirror = self._mirrors[namespace]
        if mirror.fetching or not self.cluster.connected:
            return  # the subscription, when it comes, fetches
        mirror.fetching = True
        self.cluster.spawn(self._fetch_now(namespace, mirror))

    async def _fetch_now(self, namespace: str, mirror: _Mirror) -> None:
        users, _, seen, version, _ = self._keys(namespace)
        try:
            while True:
                pipe = self.cluster.connection().pipeline(transaction=True)
                pipe.get(version)
                pipe.hkeys(users)
                pipe.zrange(seen, -self.max_last_seen, -1, withscores=True)
                count, names, times = await pipe.execute()
                mirror.version = int(count or 0)
                mirror.users = {name.decode() for name in names}
                mirror.seen = OrderedDict(
                    (name.decode(), moment / 1000) for name, moment in times if self.max_last_seen
                )
                if mirror.heard <= mirror.version:
                    return
        except _CONNECTION_ERRORS as exc:
            log_once("redis:presence", "Redis unreachable for presence (%s)", exc)
        finally:
            mirror.fetching = False
