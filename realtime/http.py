"""Host-neutral HTTP types: what an integration hands the engine and gets back.

An integration turns its host's request into an :class:`HttpRequest` (body
already read, within ``max_payload``), asks the engine for a decision and
carries it out. No protocol decision is made by the host.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# A runtime import, not a TYPE_CHECKING one: in the compiled build, a class
# whose field names another compiled class needs that class's module loaded
# first (a typing-only import crashed the import). session.py imports nothing here.
from .protocol.session import Session


@dataclass(slots=True)
class HttpRequest:
    """One request on the engine path. Not frozen: it is built once or twice
    per polling round trip, and a frozen dataclass's ``__init__`` pays an
    ``object.__setattr__`` call per field. Nothing changes it after the host
    built it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""
    remote_addr: str | None = None
    scheme: str = "http"

    @property
    def is_websocket(self) -> bool:
        return self.headers.get("upgrade", "").lower() == "websocket"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class LongPoll:
    """Hold the GET until the session has something to send (or closes), then
    answer with ``engine.poll_response(session, request)``. If the client goes
    away first, clear ``session.polling_parked``."""

    session: Session


@dataclass(frozen=True, slots=True)
class AcceptWebSocket:
    """Complete the WebSocket handshake, then serve ``session`` on the
    socket: frames go to ``engine.receive_frame``, the session's outbox goes
    out as frames (the asyncio runtime's ``WebSocketConnection`` does both).
    ``upgrade`` is True when the session moves here from polling (probe
    first)."""

    session: Session
    upgrade: bool


@dataclass(frozen=True, slots=True)
class CloseWebSocket:
    """Complete the WebSocket handshake and close the socket at once: the
    answer to a second WebSocket for a session that has one, or is getting
    one (engine.io does the same). A client then sees a close rather than
    a failed handshake, which client libraries report as an error."""

    code: int = 1000


Decision = HttpResponse | LongPoll | AcceptWebSocket | CloseWebSocket
