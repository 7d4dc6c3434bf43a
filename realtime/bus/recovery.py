"""Connection state recovery: the sessions of sockets that went away, and the
broadcasts they may have missed (Node's ``connectionStateRecovery``).

Wire format (socket.io 4.x): with recovery on, the CONNECT answer carries a
private session id, ``{"sid": ..., "pid": ...}``, and every stored broadcast
carries its *offset* as its last argument. A client that lost its connection
sends ``{"pid": ..., "offset": <the last offset it saw>}`` in its next
CONNECT; inside the window it gets its socket back (same id, rooms and
``data``) and every stored packet after that offset, in order.

Which broadcasts are stored (Node's rule): events, including binary ones,
that go through the adapter (to the namespace, to rooms, to a socket id),
without an ack and not volatile. ``socket.emit`` straight to one socket is
never stored, nor is anything from another node of a cluster.

Memory. :class:`SessionStore` keeps, per namespace:

- the *log*: the last stored broadcasts of the namespace, at most
  ``max_packets`` of them and ``max_bytes`` of encoded size (each counting
  :data:`ENTRY_OVERHEAD` more). It is what a socket that is still connected
  may need when its transport dies with packets in flight;
- one *session* per socket that went away for a reason Node recovers from:
  its id, pid, rooms, ``data``, and the stored broadcasts for its rooms, from
  the log at the moment it went away and then each new one, within the same
  two caps. Messages are shared with the log and the live recipients (the
  bytes of a broadcast exist once), but each session counts them in full.

Policy at a cap: the oldest packets go first. Dropping one the client had
already seen is harmless; once a packet sent *after* the disconnection must
go, the session cannot be recovered whole, so it is dropped at once and its
client later gets a fresh socket (``recovered`` false), exactly as after the
window. Past ``max_sessions`` waiting sessions, the one waiting longest is
dropped the same way. A session also ends when ``max_disconnection_duration`` passes (one
entry in the engine's deadline heap per session, no task) and when it is
restored (a session is restored once).

A store with I/O (the Redis streams of Node's ``@socket.io/redis-streams-adapter``)
fits the same three calls the adapter makes: :meth:`SessionStore.keep`,
:meth:`~SessionStore.persist`, :meth:`~SessionStore.restore`; offsets are
opaque strings to everything but the store that made them.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from ..errors import InvalidArgument
from ..protocol.socketio import Packet, encode
from ..types import Data, SharedMessage
from .requests import BroadcastOptions

__all__ = [
    "ENTRY_OVERHEAD",
    "ConnectionStateRecovery",
    "RestoredSession",
    "SessionState",
    "SessionStore",
    "reaches",
    "select",
]

ENTRY_OVERHEAD: Final = 64
"""Bytes each stored packet counts beyond its encoding (the entry and its
references), so that a flood of tiny packets still meets ``max_bytes``."""


@dataclass(frozen=True)
class ConnectionStateRecovery:
    """The options of ``Server(connection_state_recovery=...)``; ``True``
    means these defaults.

    ``max_disconnection_duration``: seconds a session waits for its client
    (Node's default, 2 minutes). ``skip_middlewares``: a recovered socket
    does not go through the namespace's middlewares again (Node's default).
    ``max_packets`` / ``max_bytes``: the most stored packets, and their
    encoded bytes, that the namespace's log and each session keep; past
    either, the oldest go, and a session that would lose a packet it never
    received is dropped (its client gets a fresh socket).
    ``max_sessions``: sessions one namespace keeps waiting; past it, the
    one waiting longest is dropped (clients cycling connections would
    otherwise make the server hold a session each for the whole window)."""

    max_disconnection_duration: float = 120.0
    skip_middlewares: bool = True
    max_packets: int = 1000
    max_bytes: int = 1_000_000
    max_sessions: int = 100_000

    def __post_init__(self) -> None:
        if not self.max_disconnection_duration > 0:
            raise InvalidArgument("max_disconnection_duration must be a positive number of seconds")
        if self.max_packets < 1 or self.max_bytes < 1 or self.max_sessions < 1:
            raise InvalidArgument("max_packets, max_bytes and max_sessions must be at least 1")


@dataclass(frozen=True)
class SessionState:
    """What a socket leaves behind when it goes away. ``mark`` is the offset
    that was current when it connected: nothing stored before it was for
    this socket."""

    sid: str
    pid: str
    rooms: frozenset[str]
    data: Any
    mark: str


@dataclass(frozen=True)
class RestoredSession:
    """A session handed back to its client: ``missed`` holds the encoded
    packets to send it, oldest first; ``mark`` is the session's own (the
    socket, once restored, may lose its connection again before the
    missed packets arrive)."""

    sid: str
    pid: str
    rooms: frozenset[str]
    data: Any
    missed: tuple[SharedMessage, ...]
    mark: str


class Cancellable(Protocol):
    def cancel(self) -> None: ...


Schedule = Callable[[float, Callable[[], None]], Cancellable]
"""``schedule(delay, callback)``: a timer in the engine's deadline heap."""


def select(
    index: Mapping[str, Mapping[str, None]], everyone: Iterable[str], options: BroadcastOptions
) -> list[str]:
    """The members a broadcast with ``options`` reaches, given ``index`` (room
    -> members) and every member: those in any of its rooms (everyone when
    it names none), less those in any room it excludes. Order: first seen."""
    if options.rooms:
        chosen: dict[str, None] = {}
        for room in options.rooms:
            chosen.update(index.get(room, {}))
    else:
        chosen = dict.fromkeys(everyone)
    if not options.except_rooms:
        return list(chosen)
    excluded: set[str] = set()
    for room in options.except_rooms:
        excluded.update(index.get(room, ()))
    return [member for member in chosen if member not in excluded]


def reaches(rooms: frozenset[str], options: BroadcastOptions) -> bool:
    """Whether a broadcast with ``options`` was for a socket in ``rooms``."""
    if options.rooms and rooms.isdisjoint(options.rooms):
        return False
    return rooms.isdisjoint(options.except_rooms)


class _Stored:
    """One stored broadcast: its sequence number, whom it was for, and the
    messages every recipient got (the offset already inside)."""

    __slots__ = ("messages", "options", "seq", "size")

    def __init__(
        self, seq: int, options: BroadcastOptions, messages: list[SharedMessage], size: int
    ) -> None:
        self.seq = seq
        self.options = options
        self.messages = messages
        self.size = size


class _Packets:
    """Stored packets, oldest first, within a count and a byte cap; knows
    from which sequence number on it is complete."""

    __slots__ = ("bytes", "complete_from", "entries")

    def __init__(self, complete_from: int) -> None:
        self.entries: deque[_Stored] = deque()
        self.bytes = 0
        self.complete_from = complete_from

    def add(self, entry: _Stored) -> None:
        self.entries.append(entry)
        self.bytes += entry.size

    def trim(self, max_packets: int, max_bytes: int) -> int:
        """Drop the oldest entries until within both caps; returns the
        highest sequence number dropped (0 if none)."""
        dropped = 0
        entries = self.entries
        while entries and (len(entries) > max_packets or self.bytes > max_bytes):
            old = entries.popleft()
            self.bytes -= old.size
            dropped = old.seq
        if dropped:
            self.complete_from = dropped + 1
        return dropped


class _Session:
    __slots__ = ("gone_at", "mark", "packets", "state", "timer")

    def __init__(self, state: SessionState, mark: int, packets: _Packets, gone_at: int) -> None:
        self.state = state
        self.mark = mark
        self.packets = packets
        self.gone_at = gone_at  # the last sequence number stored before it went away
        self.timer: Cancellable | None = None


class SessionStore:
    """The in-memory store of one namespace (see the module's docstring)."""

    def __init__(
        self,
        options: ConnectionStateRecovery,
        make_message: Callable[[Data], SharedMessage],
        schedule: Schedule,
    ) -> None:
        self.options = options
        self._make_message = make_message
        self._schedule = schedule
        # Offsets of another store (an earlier process, another namespace)
        # never parse as this one's.
        self._prefix = secrets.token_hex(4) + "-"
        self._seq = 0
        self._log = _Packets(1)
        # Oldest first; an OrderedDict finds its first item in O(1), where a
        # dict that had items deleted from its front scans past their slots.
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._by_room: dict[str, dict[str, None]] = {}
        self.dropped = 0
        """Sessions dropped at a cap: one that would have lost a packet it
        never received, or the one waiting longest past ``max_sessions``."""

    # -- what tests and operators read ----------------------------------------------

    @property
    def log_held(self) -> tuple[int, int]:
        """Packets and bytes (overhead included) in the namespace's log."""
        return len(self._log.entries), self._log.bytes

    @property
    def sessions(self) -> int:
        """Sessions waiting for their client."""
        return len(self._sessions)

    def session_held(self, pid: str) -> tuple[int, int] | None:
        """Packets and bytes the session ``pid`` holds (None when gone)."""
        session = self._sessions.get(pid)
        if session is None:
            return None
        return len(session.packets.entries), session.packets.bytes

    # -- offsets ----------------------------------------------------------------------

    def mark(self) -> str:
        """The offset of the latest stored packet (the start, before any)."""
        return self._prefix + str(self._seq)

    def _parse(self, offset: str) -> int | None:
        if not offset.startswith(self._prefix):
            return None
        digits = offset[len(self._prefix) :]
        if not digits.isdigit() or not digits.isascii() or len(digits) > 20:
            return None
        seq = int(digits)
        return seq if seq <= self._seq else None

    # -- the three calls of the adapter -----------------------------------------------

    @staticmethod
    def stores(packet: Packet, options: BroadcastOptions) -> bool:
        """Node's rule: events without an ack id, not volatile."""
        return packet.is_event and packet.id is None and not options.flags.volatile

    def keep(self, packet: Packet, options: BroadcastOptions) -> list[SharedMessage]:
        """Stamp ``packet`` with the next offset, store it, and return the
        messages every recipient gets. Raises what encoding raises."""
        seq = self._seq + 1
        stamped = Packet(packet.type, packet.nsp, [*packet.data, self._prefix + str(seq)])
        parts = encode(stamped)
        self._seq = seq
        messages = [self._make_message(part) for part in parts]
        entry = _Stored(seq, options, messages, sum(map(len, parts)) + ENTRY_OVERHEAD)
        limits = self.options.max_packets, self.options.max_bytes
        self._log.add(entry)
        self._log.trim(*limits)
        if self._sessions:
            for pid in select(self._by_room, self._sessions, options):
                session = self._sessions[pid]
                session.packets.add(entry)
                if session.packets.trim(*limits) > session.gone_at:
                    self.dropped += 1
                    self._forget(session)
        return messages

    def persist(self, state: SessionState) -> None:
        """A socket went away and may come back: keep its session."""
        mark = self._parse(state.mark)
        if mark is None:
            return  # another store's mark: nothing here can restore it whole
        previous = self._sessions.get(state.pid)
        if previous is not None:
            self._forget(previous)
        packets = _Packets(max(self._log.complete_from, mark + 1))
        for entry in self._log.entries:
            if entry.seq > mark and reaches(state.rooms, entry.options):
                packets.add(entry)
        packets.trim(self.options.max_packets, self.options.max_bytes)
        session = _Session(state, mark, packets, self._seq)
        self._sessions[state.pid] = session
        for room in state.rooms:
            self._by_room.setdefault(room, {})[state.pid] = None
        session.timer = self._schedule(
            self.options.max_disconnection_duration, lambda: self._expire(session)
        )
        if len(self._sessions) > self.options.max_sessions:
            self.dropped += 1
            self._forget(next(iter(self._sessions.values())))  # the one waiting longest

    def restore(self, pid: str, offset: str | None) -> RestoredSession | None:
        """The session ``pid`` and what its client missed after ``offset``
        (the last offset it saw; None if it saw none), or None when it cannot
        be restored whole. Either way the session is used up."""
        session = self._sessions.get(pid)
        if session is None:
            return None
        self._forget(session)
        if offset is None:
            seen: int | None = session.mark
        else:
            seen = self._parse(offset)
        if seen is None:
            return None
        seen = max(seen, session.mark)
        if seen + 1 < session.packets.complete_from:
            return None  # some of what it missed was dropped at a cap
        missed = tuple(
            message
            for entry in session.packets.entries
            if entry.seq > seen
            for message in entry.messages
        )
        state = session.state
        return RestoredSession(state.sid, state.pid, state.rooms, state.data, missed, state.mark)

    # -- ending sessions --------------------------------------------------------------

    def _expire(self, session: _Session) -> None:
        session.timer = None
        if self._sessions.get(session.state.pid) is session:
            self._forget(session)

    def _forget(self, session: _Session) -> None:
        pid = session.state.pid
        del self._sessions[pid]
        for room in session.state.rooms:
            members = self._by_room.get(room)
            if members is not None:
                members.pop(pid, None)
                if not members:
                    del self._by_room[room]
        if session.timer is not None:
            session.timer.cancel()
            session.timer = None

    def close(self) -> None:
        """Forget every session and packet (the namespace is going away)."""
        for session in list(self._sessions.values()):
            self._forget(session)
        self._log = _Packets(self._seq + 1)
