"""Host-neutral HTTP types: what an integration hands the engine and gets back.

An integration turns its host's request into an :class:`HttpRequest` (body
already read, within ``max_payload``), asks the engine for a decision and
carries it out. No protocol decision is made by the host.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# A runtime import, not a TYPE_CHECKING one: in the compiled build, a class
# whose field names another compiled class needs that class's module loaded
# first (a typing-only import crashed the import). session.py imports nothing here.
from ._log import log_once
from .protocol.session import Session
from .transports.deflate import DeflateAgreement


@dataclass(frozen=True)
class Handshake:
    """What the client presented when it connected: the headers and query of
    its first request, its address, and (once it joins a namespace) the auth
    of its Socket.IO CONNECT."""

    headers: Mapping[str, str]
    query: Mapping[str, str]
    address: str | None
    auth: dict[str, Any] = field(default_factory=dict)


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
    answer with ``engine.poll_response(session, request)``: the host hands
    ``session.park_poll`` its waker, and calls ``session.release_poll`` if
    the client goes away first."""

    session: Session


@dataclass(frozen=True, slots=True)
class AcceptWebSocket:
    """Complete the WebSocket handshake, then serve ``session`` on the
    socket: frames go to ``engine.receive_frame``, the session's outbox goes
    out as frames (the asyncio runtime's ``WebSocketConnection`` does both).
    ``upgrade`` is True when the session moves here from polling (probe
    first). ``deflate``: the permessage-deflate the engine agreed on with
    the client, for a host that frames the socket itself (its 101 says so)."""

    session: Session
    upgrade: bool
    deflate: DeflateAgreement | None = None


@dataclass(frozen=True, slots=True)
class CloseWebSocket:
    """Complete the WebSocket handshake and close the socket at once: the
    answer to a second WebSocket for a session that has one, or is getting
    one (engine.io does the same). A client then sees a close rather than
    a failed handshake, which client libraries report as an error."""

    code: int = 1000


@dataclass(frozen=True, slots=True)
class Forward:
    """The session is another node's (no sticky sessions): hand the request,
    and the connection it came on, to ``host:port``, the node that owns it,
    unchanged but for the ``x-realtime-forwarded`` header that stops a
    second hop. Only the embedded front door forwards; other hosts answer
    as for an unknown session."""

    node: str
    host: str
    port: int

    def refused(self) -> HttpResponse:
        """What a host that cannot forward answers: the session is not here."""
        log_once(
            "forward-unsupported",
            "a request for node %r's session reached a host that does not forward "
            "(only the embedded server does): answered as an unknown session",
            self.node,
        )
        body = b'{"code":1,"message":"Session ID unknown"}'
        return HttpResponse(400, {"Content-Type": "application/json"}, body)


Decision = HttpResponse | LongPoll | AcceptWebSocket | CloseWebSocket | Forward


Data = str | bytes


class Flushable(Protocol):
    """Something with output to write when the runtime flushes."""

    def flush(self) -> None: ...


class MessageChannel(Protocol):
    """A WebSocket as a host whose server does the framing (ASGI, WSGI)
    hands it over: whole messages in and out."""

    def receive(self) -> Awaitable[Data | None]:
        """The next message; None once the client has gone or closed."""

    def send(self, messages: list[Data]) -> Awaitable[None]:
        """Send these messages, in order."""

    def close(self, code: int) -> Awaitable[None]:
        """Close with ``code``; does nothing (and raises nothing) once closed
        or once the client has gone."""


class HostRuntime(Protocol):
    """What a host calls on its runtime (the core calls the other half,
    :class:`realtime.types.Runtime`). A host translates its requests to
    :class:`HttpRequest` and carries out what these return; it never reads
    or writes a session's fields, and never decides protocol.

    A host that waits per request (aiohttp, ASGI) uses :meth:`respond` and,
    for a WebSocket whose server frames messages, :meth:`serve_websocket`.
    A host that owns the bytes of a connection (the front door) routes with
    ``engine.handle_request`` itself, parks polls with the session's
    ``park_poll``/``release_poll`` and a :class:`Flushable` of its own, and
    hands an accepted WebSocket's transport to :meth:`adopt_websocket`.
    """

    @property
    def closing(self) -> bool:
        """Shutting down: new requests get 503."""

    def now(self) -> float: ...

    def start(self) -> None:
        """Arm the timers; the server is bound to this runtime already."""

    def stop(self) -> Awaitable[None]:
        """Close every WebSocket and cancel every task."""

    def drain(self, timeout: float) -> Awaitable[bool]:
        """Wait until no handler runs and every goodbye is written, at most
        ``timeout`` seconds; True if everything finished in time."""

    def respond(
        self, req: HttpRequest, client_gone: Callable[[], Awaitable[object]] | None = None
    ) -> Awaitable[HttpResponse | AcceptWebSocket | CloseWebSocket]:
        """The engine's decision on ``req``, with a long-poll waited out
        (cut short, answered 499, when ``client_gone`` returns first)."""

    def serve_websocket(
        self, decision: AcceptWebSocket, channel: MessageChannel
    ) -> Awaitable[None]:
        """Serve an accepted WebSocket until it closes (the handshake's
        answer already sent)."""

    def adopt_websocket(
        self,
        transport: object,
        decision: AcceptWebSocket | CloseWebSocket,
        accept: str,
        early: bytes,
    ) -> object:
        """Answer a handshake with 101 and own its raw transport from then
        on; ``early`` holds what the client sent after the handshake."""

    def refuse_websocket(self, decision: AcceptWebSocket | CloseWebSocket) -> None:
        """A handshake the engine accepted cannot complete: undo it."""

    def want_flush(self, conn: Flushable) -> None:
        """Call ``conn.flush()`` before the loop next waits for I/O."""

    def cork(self) -> None:
        """Hold flushes while a burst of input is handled."""

    def uncork(self) -> None: ...


class GreenHostRuntime(Protocol):
    """What a WSGI host calls: :class:`HostRuntime`'s requests for a host
    whose every request has a thread (green or not) that may block."""

    @property
    def closing(self) -> bool: ...

    def now(self) -> float: ...

    def start(self) -> None: ...

    def respond(self, req: HttpRequest) -> HttpResponse | AcceptWebSocket | CloseWebSocket:
        """The engine's decision on ``req``, blocking while a poll is parked."""

    def serve_socket(
        self, sock: Any, decision: AcceptWebSocket | CloseWebSocket, accept: str
    ) -> None:
        """Answer the handshake on ``sock``, the server's socket object (a
        ``socket.socket``, or gevent's own class) (``accept``: its
        Sec-WebSocket-Accept) and serve the WebSocket until it closes; the
        host has let go of the socket and writes nothing more on it."""

    def refuse_websocket(self, decision: AcceptWebSocket | CloseWebSocket) -> None: ...
