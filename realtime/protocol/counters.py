"""What the server has done since it started, as plain integers.

The core counts as it works (an attribute increment, the whole cost on a hot
path); whoever wants numbers reads them when asked: ``realtime.metrics``
turns them into Prometheus metrics at scrape time, and nothing on the
message path knows that Prometheus exists.
"""

from __future__ import annotations


class Counters:
    """Monotonic counts of one server (its engine, sessions and namespaces)."""

    __slots__ = (
        "acks",
        "broadcasts",
        "bytes_in",
        "bytes_out",
        "closes",
        "deliveries",
        "events_dropped",
        "forwarded",
        "handler_errors",
        "handshakes",
        "messages_in",
        "messages_out",
        "overflows",
        "refusals",
        "socket_connects",
        "upgrades",
    )

    def __init__(self) -> None:
        self.handshakes = 0
        """Engine.IO sessions opened."""
        self.upgrades = 0
        """Polling sessions that moved to WebSocket."""
        self.messages_in = 0
        """Engine.IO MESSAGE packets received (heartbeats not counted)."""
        self.bytes_in = 0
        """Payload of those messages: characters of text, bytes of binary."""
        self.messages_out = 0
        """Engine.IO packets queued for clients (heartbeats included)."""
        self.bytes_out = 0
        """Payload of those packets, before transport framing."""
        self.overflows = 0
        """Sessions cut off because their output went over ``max_buffer``."""
        self.refusals: dict[int, int] = {}
        """Refused HTTP requests, by status code."""
        self.closes: dict[str, int] = {}
        """Sessions closed, by reason (``"ping timeout"``, ``"transport close"``...)."""
        self.socket_connects = 0
        """Socket.IO namespace connections accepted."""
        self.broadcasts = 0
        """Events sent to more than one socket at once (rooms, namespace)."""
        self.deliveries = 0
        """Copies of those broadcasts handed to local sockets (the fan-out)."""
        self.acks = 0
        """Acks received from clients for events the server sent."""
        self.handler_errors = 0
        """Event and connect handlers that raised."""
        self.forwarded = 0
        """Requests for another node's session handed to that node."""
        self.events_dropped = 0
        """Events dropped over ``events_per_second`` (the ``"drop"`` policy)."""
