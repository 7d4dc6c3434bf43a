"""Payloads and answers of the interop app; the client scripts carry their
own copies of the expected values."""

from __future__ import annotations

from typing import Any

SERVER_BLOB = bytes([0, 255, 1, 254])
SERVER_PUSH = bytes([222, 173, 190, 239])
REFUSAL_MESSAGE = "not authorized"
REFUSAL_DATA = {"reason": "bad token"}
REFUSED_TOKEN = "bad"


def describe(value: Any) -> Any:
    """The shape of a decoded payload with each leaf replaced by its type name,
    so the client can see that binary arrived as bytes at depth."""
    if isinstance(value, dict):
        return {key: describe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [describe(item) for item in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytes"
    return type(value).__name__


def binary_reply(data: Any) -> dict[str, Any]:
    """The ack to the ``binary`` event: the payload echoed, its shape, and
    binary of the server's own nested in an object."""
    return {
        "echo": data,
        "types": describe(data),
        "server": {"deep": [{"blob": SERVER_BLOB}], "n": 7},
    }


BINARY_PUSH_ARGS: tuple[Any, ...] = ({"nested": {"list": [1, SERVER_PUSH]}}, SERVER_BLOB)
