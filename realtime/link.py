"""A WebSocket attached to a session, as a sans-I/O state machine.

Whoever owns the socket (the asyncio runtime's :class:`WebSocketConnection`
for a raw transport, its message pump for an ASGI or WSGI host) moves bytes
or messages and asks the link what they mean: :meth:`WebSocketLink.receive`
for each message in, :meth:`WebSocketLink.output` for what to write when the
session wakes the writer, :meth:`WebSocketLink.lost` when the socket goes.
The upgrade rules a probing socket follows live here and in the engine, not
in any host.

States, with what moves a link between them::

    PROBING --(the client sent "5": the session is upgraded)--> OPEN
    PROBING --(the upgrade timed out or the session ended)----> CLOSING
    OPEN ----(the session closes: its last packets written)---> CLOSING
    any -----(the socket is gone)-----------------------------> CLOSED

A link in CLOSING wants its socket closed (``closing`` becomes True) and
takes nothing more from the session.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Protocol

from .protocol.session import Outgoing, Session, State, Upgrade

if TYPE_CHECKING:
    from .types import Data


class LinkState(enum.Enum):
    PROBING = "probing"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


# Which moves are legal; anything else is a bug in the link, not in a client.
TRANSITIONS: Final[dict[LinkState, frozenset[LinkState]]] = {
    LinkState.PROBING: frozenset({LinkState.OPEN, LinkState.CLOSING, LinkState.CLOSED}),
    LinkState.OPEN: frozenset({LinkState.CLOSING, LinkState.CLOSED}),
    LinkState.CLOSING: frozenset({LinkState.CLOSED}),
    LinkState.CLOSED: frozenset(),
}

_PROBING: Final = LinkState.PROBING
_OPEN: Final = LinkState.OPEN
_CLOSING: Final = LinkState.CLOSING
_SESSION_OPEN: Final = State.OPEN
_NO_ITEMS: Final[list[Outgoing]] = []


class LinkEngine(Protocol):
    """The engine's side of a WebSocket."""

    def receive_frame(
        self, session: Session, frame: Data, probe_socket: bool, now: float
    ) -> Data | None: ...

    def websocket_closed(self, session: Session, probe_socket: bool, now: float) -> None: ...


class WebSocketLink:
    """One WebSocket of ``session``: its carrier, or a socket probing to
    become it (``probe``). ``waker`` is the owner's "flush soon"; the
    session calls it, and its identity tells the session's current socket
    from a stale probe."""

    __slots__ = ("engine", "paused", "probe", "session", "state", "waker")

    def __init__(
        self, engine: LinkEngine, session: Session, probe: bool, waker: Callable[[], None]
    ) -> None:
        self.engine = engine
        self.session = session
        self.waker = waker
        self.state = _PROBING if probe else _OPEN
        self.probe = probe  # joined a polling session, and not upgraded yet
        self.paused = False
        session.ws_waker = waker

    def _move(self, to: LinkState) -> None:
        if to not in TRANSITIONS[self.state]:
            raise AssertionError(f"WebSocket link cannot go from {self.state} to {to}")
        if to is _OPEN:
            self.probe = False
        self.state = to

    @property
    def closing(self) -> bool:
        """The owner must close the socket (after writing what it was given)."""
        return self.state is _CLOSING

    @property
    def wants_output_now(self) -> bool:
        """Whether the owner should flush as soon as it holds the socket: a
        plain WebSocket's OPEN packet and what ``on_open`` queued wait; a
        probe writes nothing before its upgrade."""
        return self.state is _OPEN

    # -- input --------------------------------------------------------------------

    def receive(self, message: Data, now: float) -> Data | None:
        """One message from the client; returns a payload to send back at
        once on this socket (the probe's answer), if any."""
        session = self.session
        if self.state is _OPEN:
            return self.engine.receive_frame(session, message, False, now)
        if self.state is not _PROBING:
            return None  # nothing counts after a close
        probing = session.transport == "polling"
        if probing and session.ws_waker is not self.waker:
            self._move(_CLOSING)  # the upgrade timed out
            return None
        if not probing and session.ws_waker is self.waker:
            self._move(_OPEN)  # upgraded: from now on, the plain socket it has become
        return self.engine.receive_frame(session, message, probing, now)

    # -- output -------------------------------------------------------------------

    def output(self) -> list[Outgoing]:
        """What to write now that the session woke the owner; afterwards
        ``closing`` says whether the socket closes after it."""
        state = self.state
        if state is not _OPEN and state is not _PROBING:
            return _NO_ITEMS
        session = self.session
        if session.ws_waker is not self.waker:
            self._move(_CLOSING)  # a probe socket whose upgrade was abandoned
            return _NO_ITEMS
        if state is _PROBING:
            if session.transport != "websocket":
                # Still probing: nothing is written until the upgrade is
                # done, but a session that ends meanwhile takes the socket along.
                if session.state is State.CLOSED or (
                    session.state is State.CLOSING and session.upgrade is not Upgrade.PROBING
                ):
                    self._move(_CLOSING)
                return _NO_ITEMS
            self._move(_OPEN)
        if self.paused and session.state is _SESSION_OPEN:
            return _NO_ITEMS  # resuming flushes
        items = session.take()
        if session.state is not _SESSION_OPEN:
            session.finish()
            self._move(_CLOSING)
        return items

    def pause(self) -> None:
        """The socket's output backs up: what is sent waits in the outbox."""
        self.paused = True
        self.session.ws_paused = True

    def resume(self) -> None:
        self.paused = False
        self.session.ws_paused = False
        self.waker()

    # -- the end ------------------------------------------------------------------

    def lost(self, now: float) -> None:
        """The socket is gone (closed by either side, or broken)."""
        if self.state is LinkState.CLOSED:
            return
        session = self.session
        probing = self.probe and session.transport == "polling"
        self._move(LinkState.CLOSED)
        # A stale probe socket that closes after a newer upgrade started must
        # not tear down the newer one's state.
        if not probing or session.ws_waker is self.waker or session.ws_waker is None:
            self.engine.websocket_closed(session, probing, now)
        if session.ws_waker is self.waker:
            session.ws_waker = None
