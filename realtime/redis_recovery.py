"""Connection state recovery on the Redis adapter: a client that drops on one
node and comes back to another inside the window gets its socket and the
broadcasts it missed (docs/recovery.md).

As Node's ``@socket.io/redis-streams-adapter``, Redis holds both halves:

- every stored broadcast of a namespace (Node's rule, see
  :mod:`realtime.bus.recovery`), in the stream ``{key_prefix}#recovery#{nsp}``,
  the newest ``max_packets`` kept, each entry ``o`` (its offset), ``m``
  (msgpack ``[packet, opts]`` as the cluster channels carry them) and, for a
  ``.local`` broadcast, ``l`` (the uid of the node whose sockets it was for);
- each waiting session in ``{key_prefix}#session#{nsp}#{pid}``, msgpack
  ``{sid, pid, rooms, data, mark, node}``, expiring after
  ``max_disconnection_duration``;
- the namespace's waiting sessions in the sorted set
  ``{key_prefix}#sessions#{nsp}``, pid -> the moment (Redis's clock, in
  microseconds) its session expires: past ``max_sessions`` the first due,
  for one window the one waiting longest, is dropped, cluster-wide. The set
  expires with its last session.

The broadcasts themselves still travel on the pub/sub channels of
``@socket.io/redis-adapter``: the offset rides as a fourth element of the
message, ``[uid, packet, opts, offset]``, which Node nodes ignore. An offset
is the publishing node's uid and a counter; every node stamps the same
offset on its clients' copy, so a client may come back anywhere.

The stream is written after the local delivery, by the adapter's writer in
the order of the broadcasts; a client that comes back within milliseconds
of a broadcast may find it not yet written (then it is not in the missed
packets), and the order of the stream is the order in which the nodes'
broadcasts reached Redis.

A session and its entry in the set are written by one Lua script that names
the sessions it drops (they are not passed as keys): a single Redis, not a
Redis Cluster, as for presence (:mod:`realtime.redis_presence`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import msgpack

from ._log import log_once
from .bus.cluster import (
    MalformedClusterMessage,
    options_from_wire,
    packet_from_wire,
    packet_to_wire,
)
from .bus.recovery import ConnectionStateRecovery, RestoredSession, SessionState, reaches
from .bus.requests import BroadcastOptions
from .protocol.socketio import Packet, encode
from .types import SharedMessage

if TYPE_CHECKING:
    from .redis import RedisNamespaceAdapter

logger = logging.getLogger("realtime.redis")

# Redis's clock (TIME), not the node's: one clock for every node, and the
# one the session's PX counts in, so an entry's score is its key's expiry.
# TIME before writes needs scripts replicated by their effects, the default
# since Redis 5 (GETDEL, in restore, needs 6.2 anyway). Microseconds, so that
# sessions persisted within the same millisecond still go in the order they
# reached Redis; they stay exact in a double until the year 2255.
_PERSIST: Final = """
local index, session = KEYS[1], KEYS[2]
local value, window, most = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local pid, stem = ARGV[4], ARGV[5]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
redis.call('SET', session, value, 'PX', window)
redis.call('ZADD', index, now + window * 1000, pid)
redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. string.format('%d', now))
local excess = redis.call('ZCARD', index) - most
if excess > 0 then
  local oldest = redis.call('ZPOPMIN', index, excess)
  for i = 1, #oldest, 2 do redis.call('DEL', stem .. oldest[i]) end
end
if redis.call('PTTL', index) < window then redis.call('PEXPIRE', index, window) end
return math.max(excess, 0)
"""
"""KEYS: the namespace's set of sessions, the session's key. ARGV: the
session (msgpack), the window (ms), ``max_sessions``, its pid, and the stem
of the sessions' keys (a key is the stem and a pid). Returns how many
sessions it dropped.
Expired entries go first, so ``max_sessions`` counts the live ones; the set
lives as long as its longest session, whichever node's window is longest."""


class RedisSessions:
    """The sessions and stored broadcasts of one namespace, in Redis."""

    def __init__(self, adapter: RedisNamespaceAdapter, options: ConnectionStateRecovery) -> None:
        self.adapter = adapter
        self.options = options
        cluster = adapter.cluster
        self.stream = f"{cluster.key_prefix}#recovery#{adapter.nsp}"
        self._session_key = f"{cluster.key_prefix}#session#{adapter.nsp}#"
        self.index = f"{cluster.key_prefix}#sessions#{adapter.nsp}"
        """The sorted set of the namespace's waiting sessions (see the module)."""
        self._seq = 0
        self.latest = ""
        """The newest offset this node stamped (its own or another node's)."""

    @staticmethod
    def stamped(packet: Packet, offset: str) -> Packet:
        return Packet(packet.type, packet.nsp, [*packet.data, offset])

    def next_offset(self) -> str:
        self._seq += 1
        self.latest = f"{self.adapter.cluster.uid}-{self._seq}"
        return self.latest

    def keep(self, packet: Packet, options: BroadcastOptions, offset: str) -> None:
        """Queue the stream entry of a broadcast of this node's."""
        entry = msgpack.packb([packet_to_wire(packet), options.to_json()], use_bin_type=True)
        fields = ["o", offset, "m", entry]
        if options.flags.local:
            fields += ["l", self.adapter.cluster.uid]  # for this node's sockets only
        self.adapter.cluster.command(
            "XADD", self.stream, "MAXLEN", self.options.max_packets, "*", *fields
        )

    def heard(self, packet: Packet, offset: str) -> Packet:
        """Another node's broadcast, stamped with its offset."""
        self.latest = offset
        return self.stamped(packet, offset)

    def persist(self, state: SessionState) -> None:
        try:
            value = msgpack.packb(
                {
                    "sid": state.sid,
                    "pid": state.pid,
                    "rooms": sorted(state.rooms),
                    "data": state.data,
                    "mark": state.mark,
                    "node": self.adapter.cluster.uid,
                },
                use_bin_type=True,
            )
        except (TypeError, ValueError) as exc:
            log_once("redis:session", "a session's data cannot be kept in Redis (%s)", exc)
            return
        milliseconds = max(1, int(self.options.max_disconnection_duration * 1000))
        # One EVAL through the writer: in order with the publishes, and
        # persisting never waits for Redis.
        self.adapter.cluster.command(
            "EVAL",
            _PERSIST,
            2,
            self.index,
            self._session_key + state.pid,
            value,
            milliseconds,
            self.options.max_sessions,
            state.pid,
            self._session_key,
        )

    async def restore(self, pid: str, offset: str | None) -> RestoredSession | None:
        """The session (used up either way) and what its client missed after
        ``offset``; None if unknown, expired, or not whole any more."""
        pipe = self.adapter.cluster.connection().pipeline(transaction=True)
        pipe.getdel(self._session_key + pid)
        pipe.zrem(self.index, pid)
        pipe.xrange(self.stream, "-", "+")
        raw, _, entries = await pipe.execute()
        if raw is None:
            return None
        try:
            return self._restored(msgpack.unpackb(raw, raw=False), offset, entries)
        except (MalformedClusterMessage, ValueError, TypeError, KeyError) as exc:
            log_once("redis:session", "dropped a session Redis held (%s)", exc)
            return None

    def _restored(
        self, saved: dict[str, Any], offset: str | None, entries: list[Any]
    ) -> RestoredSession | None:
        rooms = frozenset(str(room) for room in saved["rooms"])
        mark = str(saved["mark"])
        offsets = [fields[b"o"].decode() for _, fields in entries]
        start = -1  # the entry the client saw last (-1: none of those held)
        if offset:
            if offset not in offsets:
                return None  # trimmed away: what followed may be too
            start = offsets.index(offset)
        if mark in offsets:
            start = max(start, offsets.index(mark))  # nothing before it was for this socket
        elif mark and not offset:
            return None
        if start < 0 and len(entries) >= self.options.max_packets:
            return None  # the stream may have lost the first ones it missed
        missed: list[SharedMessage] = []
        make_message = self.adapter.make_message
        later = zip(entries[start + 1 :], offsets[start + 1 :], strict=True)
        node = str(saved["node"]).encode()
        for (_, fields), entry_offset in later:
            if fields.get(b"l", node) != node:
                continue  # a .local broadcast of a node the socket was not on
            packet_wire, options_wire = msgpack.unpackb(fields[b"m"], raw=False)
            if reaches(rooms, options_from_wire(options_wire)):
                packet = self.stamped(packet_from_wire(packet_wire, self.adapter.nsp), entry_offset)
                missed.extend(make_message(part) for part in encode(packet))
        return RestoredSession(
            str(saved["sid"]), str(saved["pid"]), rooms, saved["data"], tuple(missed), mark
        )
