"""Why a socket disconnected, in the words Node's socket.io uses.

The engine and the server close connections for reasons of their own, some
finer than Node's (``"buffer overflow"``, ``"event backlog"``); the
``disconnecting`` and ``disconnect`` handlers get one of Node's nine reasons
instead, so code ported from Node (or matching on the reasons Node's
connection state recovery treats as recoverable) works unchanged. The finer
reason stays readable as ``socket.conn.close_reason``.

=============================  ================================================
reason                         when
=============================  ================================================
``transport close``            the client went away (closed tab, lost network)
``transport error``            the transport failed (an error, too large a message)
``ping timeout``               the client stopped answering heartbeats
``parse error``                the client sent something that does not parse
``forced close``               the server closed the Engine.IO connection
                               (``socket.conn.close()``, output over ``max_buffer``)
``forced server close``        the server closed the client's connection from the
                               Socket.IO layer (``disconnect(close=True)`` for the
                               client's other namespaces, an event backlog)
``server namespace disconnect``  ``socket.disconnect()``
``client namespace disconnect``  the client disconnected the socket
``server shutting down``       ``Server.shutdown()``
=============================  ================================================
"""

from __future__ import annotations

from typing import Final

TRANSPORT_CLOSE: Final = "transport close"
TRANSPORT_ERROR: Final = "transport error"
PING_TIMEOUT: Final = "ping timeout"
PARSE_ERROR: Final = "parse error"
FORCED_CLOSE: Final = "forced close"
FORCED_SERVER_CLOSE: Final = "forced server close"
SERVER_NAMESPACE_DISCONNECT: Final = "server namespace disconnect"
CLIENT_NAMESPACE_DISCONNECT: Final = "client namespace disconnect"
SERVER_SHUTTING_DOWN: Final = "server shutting down"

REASONS: Final = frozenset(
    {
        TRANSPORT_CLOSE,
        TRANSPORT_ERROR,
        PING_TIMEOUT,
        PARSE_ERROR,
        FORCED_CLOSE,
        FORCED_SERVER_CLOSE,
        SERVER_NAMESPACE_DISCONNECT,
        CLIENT_NAMESPACE_DISCONNECT,
        SERVER_SHUTTING_DOWN,
    }
)
"""Every reason a disconnect handler can see."""

RECOVERABLE: Final = frozenset(
    {
        TRANSPORT_CLOSE,
        TRANSPORT_ERROR,
        PING_TIMEOUT,
        FORCED_CLOSE,
        FORCED_SERVER_CLOSE,
        SERVER_SHUTTING_DOWN,
    }
)
"""The reasons after which connection state recovery keeps a socket's
session (Node's ``RECOVERABLE_DISCONNECT_REASONS``): the connection was
lost, not the socket left on purpose."""

# Reasons of our own, and Node's name for each.
_FINER: Final = {
    "server disconnect": FORCED_CLOSE,  # Connection.close() without a reason
    "buffer overflow": FORCED_CLOSE,
    "event backlog": FORCED_SERVER_CLOSE,
    "ack backlog": FORCED_SERVER_CLOSE,
    "connect timeout": FORCED_SERVER_CLOSE,
}


def node_reason(reason: str) -> str:
    """Node's name for a close reason; a reason Node has no word for is the
    server's own doing, which Node calls ``forced close``."""
    if reason in REASONS:
        return reason
    return _FINER.get(reason, FORCED_CLOSE)
