"""What the server has done since it started, as plain integers.

The core counts as it works (an attribute increment, the whole cost on a hot
path); whoever wants numbers reads them when asked: ``realtime.metrics``
turns them into Prometheus metrics at scrape time, and nothing on the
message path knows that Prometheus exists.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

# Not Final: the compiled build left a Final tuple of floats unset at import.
HANDLER_BUCKETS: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
"""Upper bounds (seconds) of the handler duration histogram."""

ACK_BUCKETS: tuple[float, ...] = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
"""Upper bounds (seconds) of the ack latency histogram."""


class Counters:
    """Monotonic counts of one server (its engine, sessions and namespaces)."""

    __slots__ = (
        "acks",
        "broadcasts",
        "bytes_in",
        "bytes_out",
        "closes",
        "deliveries",
        "dropped_overflow",
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
        self.dropped_overflow = 0
        """Packets those sessions had queued, dropped with them."""
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


class Histogram:
    """Observations counted into fixed buckets, as Prometheus histograms are:
    ``counts[i]`` holds those at most ``bounds[i]`` (and above the bound
    before), the last one those above every bound."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)


class Timings:
    """Durations of event handlers and the latency of acks the server waits
    for. Only a server with metrics turned on has one (``Server.timings``):
    the clock reads it needs are paid only where a handler runs or an ack
    comes back anyway, and not at all without metrics. ``clock`` is the
    caller's (the core reads no clock of its own): seconds, monotonic."""

    __slots__ = ("acks", "clock", "handlers")

    def __init__(self, clock: Callable[[], float]) -> None:
        # The caller's clock: the sans-I/O core reads no time of its own.
        self.clock = clock
        self.handlers = Histogram(HANDLER_BUCKETS)
        """Seconds from calling an event handler to its return (or, for a
        coroutine, its end), errors included."""
        self.acks = Histogram(ACK_BUCKETS)
        """Seconds from sending an event that asks for an ack to the ack."""

    def handler_done(self, started: float) -> None:
        self.handlers.observe(self.clock() - started)

    def ack_done(self, sent: float) -> None:
        self.acks.observe(self.clock() - sent)
