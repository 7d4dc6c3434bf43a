"""realtime: a Socket.IO server for Python.

Engine.IO 3 and 4 on one endpoint, over WebSocket, XHR long-polling and JSONP
polling, with the Socket.IO event bus on top. Runs embedded on aiohttp.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__ as __version__
from .bus.recovery import ConnectionStateRecovery
from .engine import Engine
from .errors import (
    AckTimeout,
    BadHandshakeMethod,
    BadRequest,
    BroadcastAckTimeout,
    ConnectionRefused,
    DecodeError,
    Disconnected,
    EventRefused,
    Forbidden,
    HandlerSignatureError,
    InvalidArgument,
    InvalidArgumentType,
    InvalidState,
    MissingDependency,
    Overloaded,
    PayloadTooLarge,
    PresenceError,
    ProtocolError,
    RealtimeError,
    UnknownSession,
    UnknownSocket,
    UnknownTransport,
    Unsendable,
    UnsupportedProtocolVersion,
)
from .protocol import COMPILED
from .server import BroadcastOperator, Namespace, RemoteSocket, Server, Socket

__all__ = [
    "COMPILED",
    "ASGIApp",
    "AckTimeout",
    "BadHandshakeMethod",
    "BadRequest",
    "BroadcastAckTimeout",
    "BroadcastOperator",
    "ConnectionRefused",
    "ConnectionStateRecovery",
    "DecodeError",
    "Disconnected",
    "Emitter",
    "Engine",
    "EventRefused",
    "Forbidden",
    "HandlerSignatureError",
    "InvalidArgument",
    "InvalidArgumentType",
    "InvalidState",
    "MissingDependency",
    "Namespace",
    "Overloaded",
    "PayloadTooLarge",
    "PresenceError",
    "ProtocolError",
    "RealtimeError",
    "RedisAdapter",
    "RemoteSocket",
    "Server",
    "Socket",
    "UnknownSession",
    "UnknownSocket",
    "UnknownTransport",
    "Unsendable",
    "UnsupportedProtocolVersion",
    "WSGIApp",
    "attach",
    "run",
]


# Set by ``python -m realtime`` while it imports the app module: a module that
# calls ``run`` at import time would otherwise serve on its own host and port,
# ignore the command line's, and serve again after Ctrl-C.
_loading_app: str | None = None


def __getattr__(name: str) -> Any:
    # The cluster classes need the optional ``redis`` extra (redis-py and
    # msgpack): imported on first use, so that ``import realtime`` does not.
    if name == "RedisAdapter":
        from .redis import RedisAdapter

        return RedisAdapter
    if name == "ASGIApp":
        # imported on first use, as the other hosts' modules are
        from .integrations.asgi import ASGIApp

        return ASGIApp
    if name == "WSGIApp":
        from .integrations.wsgi import WSGIApp

        return WSGIApp
    if name == "Emitter":
        from .emitter import Emitter

        return Emitter
    raise AttributeError(f"module 'realtime' has no attribute {name!r}")


def run(target: Any, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
    """Serve a Server, an Engine or an aiohttp Application on the embedded
    aiohttp server until Ctrl-C or SIGTERM.

    ``handler_threads=N`` runs plain ``def`` handlers on up to N worker
    threads, where they may block (a socket's handlers still run one after
    another); by default they run on the loop, and must not block.

    A port in use or a host that does not resolve ends the program with one
    line saying so (``SystemExit``), not a traceback."""
    if _loading_app is not None:
        import logging

        logging.getLogger("realtime").warning(
            "%s calls realtime.run() when imported; the command line serves it instead "
            '(put the call under `if __name__ == "__main__":`)',
            _loading_app.partition(":")[0],
        )
        return
    from .integrations.aiohttp import run as run_aiohttp

    run_aiohttp(target, host=host, port=port, **options)


def attach(target: Any, app: Any, *, body_timeout: float = 75.0, handler_threads: int = 0) -> None:
    """Mount a Server or an Engine on an aiohttp Application; a POST body
    slower than ``body_timeout`` seconds is answered with 408.
    ``handler_threads``: N runs plain ``def`` handlers on up to N worker
    threads, where they may block; 0, on the loop."""
    from .integrations.aiohttp import attach as attach_aiohttp

    attach_aiohttp(target, app, body_timeout=body_timeout, handler_threads=handler_threads)
