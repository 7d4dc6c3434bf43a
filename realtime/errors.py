"""Every exception realtime raises, in one tree.

::

    RealtimeError
    ├── ProtocolError                 a peer broke the protocol; carries the answer
    │   ├── UnknownTransport          Engine.IO code 0
    │   ├── UnknownSession            Engine.IO code 1
    │   ├── BadHandshakeMethod        Engine.IO code 2
    │   ├── BadRequest                Engine.IO code 3
    │   │   ├── DecodeError           a packet or payload that does not parse
    │   │   └── PayloadTooLarge       over ``max_payload``
    │   ├── Overloaded                a limit refused it for now: 503 or 429, Retry-After
    │   ├── Forbidden                 Engine.IO code 4 (Origin, ``allow_request``)
    │   └── UnsupportedProtocolVersion  Engine.IO code 5
    ├── ConnectionRefused             raised by application code to refuse a socket
    ├── EventRefused                  raised by a ``socket.use`` middleware to drop a packet
    ├── InvalidArgument (also ValueError)  an option or argument realtime cannot use
    │   ├── PresenceError             a bad argument to ``sio.presence``
    │   └── Unsendable                a value an emit cannot send (also InvalidArgumentType)
    ├── InvalidArgumentType (also TypeError)  an argument of a type realtime cannot use
    │   └── HandlerSignatureError     a handler cannot take what realtime passes
    ├── InvalidState (also RuntimeError)  not possible now: not bound, not started
    ├── MissingDependency (also ImportError)  an optional package is not installed
    ├── UnknownSocket (also KeyError)  no connected socket has that id (sessions)
    ├── AckTimeout (also TimeoutError)  ``call()`` got no answer in time
    │   └── BroadcastAckTimeout       not every recipient of a broadcast answered
    ├── Disconnected                  the socket closed before an answer came
    └── (internal, caught before they reach the application: MalformedPacket
        under DecodeError, MalformedClusterMessage, and the transports'
        HeadError, HandshakeError and FrameError, which become an HTTP answer
        or a WebSocket close)

A :class:`ProtocolError` knows the Engine.IO error code and the HTTP status to
answer with, so the engine turns any of them into the right response without a
lookup table of its own.

Misuse (a bad option, an argument of the wrong type, a call too early) raises
a class that is also the builtin exception Python code would raise there, so
``except ValueError`` keeps working while ``except RealtimeError`` catches
everything realtime raises.
"""

from __future__ import annotations

from typing import Any


class RealtimeError(Exception):
    """Base class of every error raised by realtime."""


class ProtocolError(RealtimeError):
    """A client broke the protocol. ``code`` is the Engine.IO error code."""

    code: int = 3
    """The Engine.IO error code of the answer's JSON body."""
    http_status: int = 400
    """The HTTP status of the answer."""
    default_message: str = "Bad request"
    """The message when none is given; each subclass has its own."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        """Why, for the server's log (``default_message`` when none was given)."""
        super().__init__(self.message)

    def to_json(self) -> dict[str, Any]:
        """The JSON body of the HTTP answer: Engine.IO's ``{code, message}``."""
        return {"code": self.code, "message": self.message}


class UnknownTransport(ProtocolError):
    """A ``transport`` the server does not serve (Engine.IO code 0)."""

    code = 0
    default_message = "Transport unknown"


class UnknownSession(ProtocolError):
    """A ``sid`` no session has, or one closed already (Engine.IO code 1)."""

    code = 1
    default_message = "Session ID unknown"


class BadHandshakeMethod(ProtocolError):
    """A handshake by another method than GET (Engine.IO code 2)."""

    code = 2
    default_message = "Bad handshake method"


class BadRequest(ProtocolError):
    """A request the server cannot use (Engine.IO code 3)."""

    code = 3
    default_message = "Bad request"


class DecodeError(BadRequest):
    """A packet or payload that does not parse."""

    default_message = "Invalid packet"


class PayloadTooLarge(BadRequest):
    """A payload over ``max_payload``."""

    default_message = "Payload too large"


class Forbidden(ProtocolError):
    """A refused Origin, or a handshake ``allow_request`` refused: 403.
    ``message`` says why, for the server's log; the client is told only
    ``Forbidden``, as engine.io tells it, unless the reason is the
    client's to know: an ``allow_request`` hook that raises
    ``Forbidden("tenant suspended")`` refuses with that message in the body,
    as Node's ``allowRequest`` callback ``cb("tenant suspended", false)``."""

    code = 4
    http_status = 403
    default_message = "Forbidden"

    def __init__(self, message: str | None = None, *, told: bool = False) -> None:
        super().__init__(message)
        self.told = told
        """Whether the client is told ``message`` (else only ``Forbidden``)."""

    def to_json(self) -> dict[str, Any]:
        """The JSON body of the 403: ``message`` when told, ``Forbidden`` otherwise."""
        return {"code": self.code, "message": self.message if self.told else self.default_message}


class Overloaded(ProtocolError):
    """A limit refused the request for now: the answer says when to retry
    (``Retry-After``). 503 when the server is full, 429 when one address
    asks too much."""

    code = 3
    default_message = "Server full"

    def __init__(
        self, message: str | None = None, *, retry_after: float = 10.0, http_status: int = 503
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.http_status = http_status


class UnsupportedProtocolVersion(ProtocolError):
    """An ``EIO`` version the server does not speak (Engine.IO code 5)."""

    code = 5
    default_message = "Unsupported protocol version"


class ConnectionRefused(RealtimeError):
    """Raise in a ``connect`` handler or middleware to refuse the socket.

    ``message`` and ``data`` reach the client in its CONNECT_ERROR packet.
    """

    def __init__(self, message: str = "Connection refused", data: Any = None) -> None:
        self.message = message
        self.data = data
        super().__init__(message)


class EventRefused(RealtimeError):
    """Raise in a :meth:`Socket.use <realtime.Socket.use>` middleware to drop
    an incoming event before its handler runs (Node: ``next(err)``).

    The packet is not handled and its ack is not answered; the namespace's
    ``error`` handler, if any, gets ``(socket, exc)``. ``data`` is free for
    the application, say for that handler to pass on to the client.
    """

    def __init__(self, message: str = "Event refused", data: Any = None) -> None:
        self.message = message
        self.data = data
        super().__init__(message)


class InvalidArgument(RealtimeError, ValueError):
    """An option or argument realtime cannot use: a limit out of range, an
    unknown mode, a reserved event name."""


class InvalidArgumentType(RealtimeError, TypeError):
    """An argument of a type realtime cannot use (an event name that is not
    a string, two spellings of one option)."""


class Unsendable(InvalidArgument, InvalidArgumentType):
    """An emitted value JSON cannot carry: an object of another type, NaN or
    an infinity, a cycle, nesting too deep. Both a ValueError and a TypeError,
    as ``json.dumps`` raises one or the other for these."""


class PresenceError(InvalidArgument):
    """A presence call with a bad argument (an empty user id, an unknown event)."""


class InvalidState(RealtimeError, RuntimeError):
    """The object cannot do this now: a server not yet bound to a runtime,
    an adapter not started, an engine that belongs to a Server."""


class MissingDependency(RealtimeError, ImportError):
    """A feature needs an optional package that is not installed; the message
    says which extra to install."""


class HandlerSignatureError(InvalidArgumentType):
    """A handler's parameters cannot take what realtime passes it: raised at
    registration, so that a handler written for another library (such as
    python-socketio's ``connect(sid, environ, auth)``) never runs with the
    wrong values."""


class UnknownSocket(RealtimeError, KeyError):
    """No connected socket has this id in this namespace (python-socketio's
    session calls raise ``KeyError`` here too)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown socket"


class AckTimeout(RealtimeError, TimeoutError):
    """The peer did not acknowledge in time."""


class BroadcastAckTimeout(AckTimeout):
    """Not every recipient of a broadcast acknowledged in time; ``replies``
    holds the replies that came (Node's ``err.responses``)."""

    def __init__(self, message: str, replies: list[Any]) -> None:
        super().__init__(message)
        self.replies = replies


class Disconnected(RealtimeError):
    """The socket closed while an answer was awaited."""
