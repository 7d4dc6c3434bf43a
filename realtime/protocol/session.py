"""One Engine.IO session: the state machine, the outbox and the heartbeat.

Pure: packets and ``now`` come in; queued packets, listener calls and timer
entries in the shared :class:`Deadlines` heap come out. The session is also
the :class:`realtime.types.Connection` handed to the layers above, so one
object per client carries everything (memory per idle connection matters).

States::

    OPEN ──close()/timeout/error──▶ CLOSING ──final flush or grace over──▶ CLOSED

While CLOSING the listener has already been told; the session lingers only so
that a last poll or the WebSocket writer can deliver what was queued (for
example a Socket.IO DISCONNECT) followed by the CLOSE packet.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

from .counters import Counters
from .deadlines import Deadlines, Timer
from .engineio import Message, Packet, PacketType
from .poll import ParkedPoll, PollState

if TYPE_CHECKING:
    from ..types import Data, EngineListener, SharedMessage, TransportName

# What an outbox holds: a control packet, a message shared by a broadcast, or
# the data of a message for this client alone (no wrapper: the common case).
Outgoing = Packet | Message | str | bytes

ITEM_OVERHEAD: Final = 64
"""Bytes each queued item counts against ``max_buffer`` beside its data (its
object and its deque slot), so a million empty items cannot hide there."""


def _size(item: Outgoing) -> int:
    return len(item) if isinstance(item, (str, bytes)) else len(item.data)


class State(enum.Enum):
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


# Before Python 3.12, a lookup such as ``State.OPEN`` goes through the enum
# metaclass's __getattr__ hook and costs ~0.1 µs, ten times a global's:
# the per-message paths read this name instead.
_OPEN: Final = State.OPEN
_POLL_IDLE: Final = PollState.IDLE


class Upgrade(enum.Enum):
    NONE = "none"
    PROBING = "probing"  # the WebSocket answered 3probe; waiting for 5
    DONE = "done"


@dataclass(frozen=True, slots=True)
class SessionConfig:
    ping_interval: float
    ping_timeout: float
    upgrade_timeout: float
    max_buffer: int  # bytes queued for one client before it is cut off
    close_grace: float  # how long a closing session waits for its last poll


class SessionOwner(Protocol):
    """The engine, as far as a session needs it."""

    listener: EngineListener
    deadlines: Deadlines
    counters: Counters
    # Told when a session moves from polling to WebSocket (instrumentation
    # such as the Admin UI); None, the usual case, costs one test per upgrade.
    on_upgrade: Callable[[Session], None] | None

    def now(self) -> float:
        """The runtime's clock, for closes that application code starts."""

    def forget(self, session: Session) -> None: ...


class Session:
    """An Engine.IO session; implements :class:`realtime.types.Connection`."""

    __slots__ = (
        "_awaiting_pong",
        "_outbox",
        "_outbox_size",
        "_pong",
        "_timer",
        "b64",
        "close_reason",
        "config",
        "id",
        "jsonp",
        "last_seen",
        "opened_at",
        "owner",
        "poll",
        "protocol",
        "remote_addr",
        "request_headers",
        "request_query",
        "state",
        "transport",
        "upgrade",
        "upgrade_timer",
        "ws_paused",
        "ws_waker",
    )

    def __init__(
        self,
        sid: str,
        protocol: int,
        transport: TransportName,
        *,
        owner: SessionOwner,
        config: SessionConfig,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        remote_addr: str | None,
        jsonp: bool = False,
        b64: bool = True,
    ) -> None:
        self.id = sid
        self.protocol = protocol
        self.transport: TransportName = transport
        self.jsonp = jsonp
        self.b64 = b64  # EIO 3 polling: binary as base64 text instead of an XHR2 payload
        self.owner = owner
        self.config = config
        self.request_headers = headers
        self.request_query = query
        self.remote_addr = remote_addr
        self.state = State.OPEN
        self.upgrade = Upgrade.NONE
        self.close_reason = ""
        self._outbox: deque[Outgoing] = deque()
        self._outbox_size = 0
        self._timer: Timer | None = None
        self._awaiting_pong = False
        self._pong: Packet | None = None  # an EIO 3 PONG still queued: the one answer kept
        self.upgrade_timer: Timer | None = None
        self.last_seen = 0.0
        self.opened_at = 0.0
        self.poll = ParkedPoll()  # the GET waiting for data, if any, and its waker
        # Set by the WebSocket link: called when the outbox goes from empty
        # to not empty, or the session starts closing (a parked poll has its
        # own; both exist during an upgrade).
        self.ws_waker: Callable[[], None] | None = None
        # Set by the WebSocket writer while its transport is above its
        # high-water mark (backpressure): what is sent waits in the outbox.
        self.ws_paused = False

    def __repr__(self) -> str:
        return f"<Session {self.id} EIO{self.protocol} {self.transport} {self.state.value}>"

    # -- Connection protocol ------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.state is not State.OPEN

    @property
    def headers(self) -> Mapping[str, str]:
        return self.request_headers

    @property
    def query(self) -> Mapping[str, str]:
        return self.request_query

    @property
    def writable(self) -> bool:
        """Whether a message sent now leaves without waiting in the outbox,
        as engine.io's ``transport.writable``: a WebSocket not paused by
        backpressure, or a polling client with a GET parked. A volatile emit
        to a session that is not writable is dropped."""
        if self.state is not _OPEN:
            return False
        if self.transport == "websocket":
            return not self.ws_paused
        return self.poll.state is not _POLL_IDLE

    @property
    def polling_parked(self) -> bool:
        """A GET is waiting for data."""
        return self.poll.state is not _POLL_IDLE

    def send(self, data: Data) -> None:
        if self.state is _OPEN:
            self._push(data, len(data))

    def send_shared(self, message: SharedMessage) -> None:
        if self.state is _OPEN:
            assert isinstance(message, Message)
            self._push(message, len(message.data))

    def close(self, reason: str = "server disconnect") -> None:
        """Close from this side: queue the CLOSE packet and tell the listener."""
        if self.state is not State.OPEN:
            return
        self._begin_close(reason, self.owner.now(), notify_peer=True)

    # -- outbox -------------------------------------------------------------------

    def _push(self, item: Outgoing, size: int) -> None:
        counters = self.owner.counters
        counters.messages_out += 1
        counters.bytes_out += size
        was_empty = not self._outbox
        self._outbox.append(item)
        self._outbox_size += size + ITEM_OVERHEAD
        if self._outbox_size > self.config.max_buffer:
            # A client that does not read is cut off rather than allowed to
            # grow the server without bound; everyone else is unaffected.
            counters.dropped_overflow += len(self._outbox)
            self._outbox.clear()
            self._outbox_size = 0
            counters.overflows += 1
            self._begin_close("buffer overflow", self.owner.now(), notify_peer=False)
            return
        if was_empty:
            self._wake()

    def push_packet(self, ptype: PacketType, data: str = "") -> None:
        self._push(Packet(ptype, data), len(data))

    def has_output(self) -> bool:
        return bool(self._outbox)

    def take(self, limit: int | None = None) -> list[Outgoing]:
        """What is queued, in order: everything, or the first ``limit`` items."""
        outbox = self._outbox
        if limit is None or len(outbox) <= limit:
            items = list(outbox)
            outbox.clear()
            self._outbox_size = 0
            self._pong = None
            return items
        items = [outbox.popleft() for _ in range(limit)]
        self._outbox_size = max(
            0, self._outbox_size - sum(_size(item) + ITEM_OVERHEAD for item in items)
        )
        if self._pong is not None and any(item is self._pong for item in items):
            self._pong = None
        return items

    # -- the parked poll -----------------------------------------------------------

    def park_poll(self, waker: Callable[[], None]) -> None:
        """The GET the engine answered with ``LongPoll`` waits: ``waker``
        is called once there is something to answer it with."""
        self.poll.attach(waker)

    def release_poll(self, waker: Callable[[], None] | None = None) -> None:
        """The parked GET is answered, or its client went away. ``waker``
        (the one given to :meth:`park_poll`) is forgotten unless a newer
        poll's replaced it."""
        self.poll.release(waker)

    def _wake(self) -> None:
        if self.transport == "websocket":
            if self.ws_waker is not None:
                self.ws_waker()
        else:
            self.poll.wake()

    # -- heartbeat ----------------------------------------------------------------

    def start(self, now: float) -> None:
        """Arm the heartbeat; called once the OPEN packet is on its way."""
        self.last_seen = now
        self.opened_at = now
        if self.protocol == 4:
            self._arm(now + self.config.ping_interval, self._send_ping)
        else:
            self._arm(now + self.config.ping_interval + self.config.ping_timeout, self._check_alive)

    def _arm(self, when: float, callback: Callable[[float], None]) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.owner.deadlines.schedule(when, callback)

    def _send_ping(self, now: float) -> None:
        timer, self._timer = self._timer, None
        if self.state is State.OPEN:
            self.push_packet(PacketType.PING)
            self._awaiting_pong = True
            # From when the ping was due, not when the timer ran: a late timer
            # must not give a silent peer more than interval + timeout.
            due = timer.when if timer is not None else now
            self._arm(due + self.config.ping_timeout, self._ping_timed_out)

    def _ping_timed_out(self, now: float) -> None:
        self._timer = None
        self.fail("ping timeout", now)

    def _check_alive(self, now: float) -> None:
        # EIO 3: the client pings. Pings only move ``last_seen``; the single
        # timer re-arms itself lazily instead of being rescheduled per ping.
        self._timer = None
        if self.state is not State.OPEN:
            return
        limit = self.config.ping_interval + self.config.ping_timeout
        if now - self.last_seen >= limit:
            self.fail("ping timeout", now)
        else:
            self._arm(self.last_seen + limit, self._check_alive)

    # -- input --------------------------------------------------------------------

    def receive(self, packet: Packet, now: float) -> None:
        """A packet from the client over the session's current transport."""
        if self.state is not State.OPEN:
            return
        ptype = packet.type
        if ptype is PacketType.MESSAGE:
            self.receive_message(packet.data, now)
            return
        self.last_seen = now
        if ptype is PacketType.PONG:
            if self.protocol == 4 and self._awaiting_pong:
                # Only the answer to our PING re-arms the heartbeat: an
                # unsolicited PONG costs no timer entry, so a flood of them
                # holds nothing (Node reschedules on every one).
                self._awaiting_pong = False
                self._arm(now + self.config.ping_interval, self._send_ping)
        elif ptype is PacketType.PING:
            if self.protocol == 3:
                data = packet.data if isinstance(packet.data, str) else ""
                pong = self._pong
                if pong is not None:
                    # A client that pings without reading gets one answer,
                    # the latest, rather than a queue of them.
                    self._outbox_size += len(data) - len(pong.data)
                    pong.data = data
                else:
                    self._pong = Packet(PacketType.PONG, data)
                    self._push(self._pong, len(data))
        elif ptype is PacketType.CLOSE:
            self._begin_close("transport close", now, notify_peer=False)
        elif ptype is PacketType.NOOP:
            pass
        else:
            # OPEN or UPGRADE on an established transport: a broken client.
            self.fail("parse error", now)

    def receive_message(self, data: Data, now: float) -> None:
        """A MESSAGE packet's data: the hot path, which needs no Packet."""
        if self.state is _OPEN:
            self.last_seen = now
            counters = self.owner.counters
            counters.messages_in += 1
            counters.bytes_in += len(data)
            self.owner.listener.on_message(self, data)

    def fail(self, reason: str, now: float) -> None:
        """Close without a goodbye: timeouts, protocol errors, lost transports.
        Nothing queued is delivered: the peer is gone or broken, and the
        session must answer "unknown session" from now on, as engine.io does."""
        if self.state is State.OPEN:
            self._outbox.clear()
            self._outbox_size = 0
            self._begin_close(reason, now, notify_peer=False)

    # -- upgrade ------------------------------------------------------------------

    def expect_probe(self, now: float) -> None:
        """A WebSocket joined to upgrade: it must finish within the upgrade
        timeout, probe or not, or its writer is woken to close it."""
        self.upgrade_timer = self.owner.deadlines.schedule(
            now + self.config.upgrade_timeout, self._upgrade_timed_out
        )

    def probe(self, now: float) -> None:
        """The WebSocket sent ``2probe``: answer is the caller's; release a
        parked GET with a NOOP so the client can pause polling. A probe
        repeated is answered but moves nothing: the first one's deadline
        stands, so a stream of probes adds no timer entries and cannot hold
        the upgrade open."""
        if self.upgrade is Upgrade.PROBING:
            return
        self.upgrade = Upgrade.PROBING
        if self.upgrade_timer is not None:
            self.upgrade_timer.cancel()
        self.upgrade_timer = self.owner.deadlines.schedule(
            now + self.config.upgrade_timeout, self._upgrade_timed_out
        )
        if self.poll.state is not _POLL_IDLE:
            self.push_packet(PacketType.NOOP)

    def _upgrade_timed_out(self, now: float) -> None:
        self.upgrade_timer = None
        if self.upgrade is not Upgrade.DONE:
            self.upgrade = Upgrade.NONE
            waker = self.ws_waker  # the WebSocket writer closes the probe socket
            self.ws_waker = None
            if waker is not None:
                waker()

    def complete_upgrade(self, now: float) -> None:
        """The client sent ``5``: from now on everything goes over the WebSocket."""
        if self.upgrade_timer is not None:
            self.upgrade_timer.cancel()
            self.upgrade_timer = None
        self.upgrade = Upgrade.DONE
        self.transport = "websocket"
        self.owner.counters.upgrades += 1
        self.last_seen = now
        on_upgrade = self.owner.on_upgrade
        if on_upgrade is not None:
            on_upgrade(self)
        # The client paused polling, so a GET still parked must not carry
        # packets any more: answer it with a NOOP of its own.
        self.poll.wake()
        if self.state is not State.OPEN:
            # Closed while the probe ran: the client waits for this socket
            # now, and closing it is the goodbye (no CLOSE packet on WebSocket).
            outbox = self._outbox
            if outbox and isinstance(outbox[-1], Packet) and outbox[-1].type is PacketType.CLOSE:
                outbox.pop()
        if (self._outbox or self.state is not State.OPEN) and self.ws_waker is not None:
            self.ws_waker()

    # -- closing ------------------------------------------------------------------

    def _begin_close(self, reason: str, now: float, *, notify_peer: bool) -> None:
        self.state = State.CLOSING
        self.close_reason = reason
        closes = self.owner.counters.closes
        closes[reason] = closes.get(reason, 0) + 1
        if self.upgrade_timer is not None:
            self.upgrade_timer.cancel()
            self.upgrade_timer = None
        if notify_peer and self.transport == "polling":
            # Polling clients learn of the close from a CLOSE packet; on a
            # WebSocket, closing the socket says it (as engine.io does), and
            # clients then reconnect as after any lost transport.
            self._outbox.append(Packet(PacketType.CLOSE))
        self._arm(now + self.config.close_grace, self._grace_over)
        try:
            self.owner.listener.on_close(self, reason)
        finally:
            # Wake whoever writes: a parked GET answers with what is left, a
            # WebSocket writer flushes and closes.
            self.poll.wake()
            if self.ws_waker is not None:
                self.ws_waker()
            if not notify_peer and not self._outbox and self.poll.state is _POLL_IDLE:
                self.finish()

    def _grace_over(self, now: float) -> None:
        self._timer = None
        self.finish()

    def finish(self) -> None:
        """Drop the session for good: it answers nothing from now on."""
        if self.state is State.CLOSED:
            return
        self.state = State.CLOSED
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._outbox.clear()
        self._outbox_size = 0
        self.owner.forget(self)
        self.poll.wake()
        if self.ws_waker is not None:
            self.ws_waker()
