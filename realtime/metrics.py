"""Prometheus metrics and a health check on the embedded host.

``realtime.run(sio, metrics=True)`` (``--metrics`` on the command line) serves
``/metrics`` in Prometheus' text format and ``/healthz`` on the server's own
port. Nothing here runs on the message path: the core keeps plain counters
(:class:`realtime.protocol.counters.Counters`) and the state it needs anyway
(sessions, namespaces, rooms), and this module reads them when Prometheus
scrapes. Needs the ``prometheus-client`` package (the ``metrics`` extra).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from ._version import __version__
from .errors import MissingDependency
from .protocol import COMPILED
from .protocol.counters import Histogram

if TYPE_CHECKING:
    from .engine import Engine
    from .server import Server

LAG_INTERVAL: Final = 0.5
"""Seconds between two event-loop lag samples."""

_TRANSPORT_NAMES: Final = ("websocket", "polling", "jsonp")


class LoopLag:
    """How late the event loop runs a timer: sampled every ``interval``
    seconds by one sleeping task, the last and the largest lateness kept."""

    def __init__(self, interval: float = LAG_INTERVAL) -> None:
        self.interval = interval
        self.last = 0.0
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._sample())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.record(max(0.0, loop.time() - due))

    def record(self, lateness: float) -> None:
        self.last = lateness
        self.worst = max(self.worst, lateness)


def _engines(targets: Sequence[Any]) -> list[Engine]:
    return [target.engine for target in targets]


def _servers(targets: list[Any]) -> list[Server]:
    from .server import Server

    return [target for target in targets if isinstance(target, Server)]


def _transport_of(session: Any) -> str:
    if session.transport == "websocket":
        return "websocket"
    return "jsonp" if session.jsonp else "polling"


class ServerCollector:
    """A Prometheus collector over every realtime endpoint of one app."""

    def __init__(self, targets: Callable[[], list[Any]], lag: LoopLag) -> None:
        self._targets = targets
        self._lag = lag

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        targets = self._targets()
        engines = _engines(targets)
        servers = _servers(targets)

        info = GaugeMetricFamily(
            "realtime_build_info", "The realtime build serving.", labels=["version", "build"]
        )
        info.add_metric([__version__, "compiled" if COMPILED else "pure"], 1)
        yield info

        connections = GaugeMetricFamily(
            "realtime_connections",
            "Open Engine.IO sessions, by transport and protocol revision.",
            labels=["transport", "protocol"],
        )
        by_kind: dict[tuple[str, str], int] = {
            (t, p): 0 for t in _TRANSPORT_NAMES for p in ("3", "4")
        }
        for engine in engines:
            for session in list(engine.sessions.values()):
                key = (_transport_of(session), str(session.protocol))
                by_kind[key] = by_kind.get(key, 0) + 1
        for (transport, protocol), count in sorted(by_kind.items()):
            connections.add_metric([transport, protocol], count)
        yield connections

        def total(name: str, doc: str, attr: str) -> CounterMetricFamily:
            return CounterMetricFamily(
                name, doc, value=sum(getattr(e.counters, attr) for e in engines)
            )

        yield total("realtime_handshakes", "Engine.IO sessions opened.", "handshakes")
        yield total("realtime_upgrades", "Polling sessions upgraded to WebSocket.", "upgrades")
        yield total(
            "realtime_messages_received",
            "Engine.IO messages received from clients (heartbeats not counted).",
            "messages_in",
        )
        yield total(
            "realtime_message_payload_received",
            "Payload of the messages received: characters of text, bytes of binary.",
            "bytes_in",
        )
        yield total(
            "realtime_packets_sent",
            "Engine.IO packets queued for clients, heartbeats included.",
            "messages_out",
        )
        yield total(
            "realtime_packet_payload_sent",
            "Payload of the packets queued for clients, before transport framing.",
            "bytes_out",
        )
        yield total(
            "realtime_buffer_overflows",
            "Sessions cut off because their queued output went over max_buffer.",
            "overflows",
        )
        yield total(
            "realtime_socket_connects",
            "Socket.IO namespace connections accepted.",
            "socket_connects",
        )
        yield total(
            "realtime_broadcasts", "Events sent to a room or a namespace at once.", "broadcasts"
        )
        yield total(
            "realtime_broadcast_deliveries",
            "Copies of broadcasts handed to this process's sockets (the fan-out).",
            "deliveries",
        )
        yield total("realtime_acks_received", "Acks received for events the server sent.", "acks")
        yield total(
            "realtime_handler_errors", "Connect and event handlers that raised.", "handler_errors"
        )
        yield total(
            "realtime_events_dropped",
            "Events dropped over events_per_second (event_rate_policy 'drop').",
            "events_dropped",
        )

        refusals = CounterMetricFamily(
            "realtime_http_refusals", "Refused HTTP requests, by status.", labels=["status"]
        )
        closes = CounterMetricFamily(
            "realtime_closes", "Engine.IO sessions closed, by reason.", labels=["reason"]
        )
        refusal_counts: dict[int, int] = {}
        close_counts: dict[str, int] = {}
        for engine in engines:
            for status, count in engine.counters.refusals.items():
                refusal_counts[status] = refusal_counts.get(status, 0) + count
            for reason, count in engine.counters.closes.items():
                close_counts[reason] = close_counts.get(reason, 0) + count
        for status, count in sorted(refusal_counts.items()):
            refusals.add_metric([str(status)], count)
        for reason, count in sorted(close_counts.items()):
            closes.add_metric([reason], count)
        yield refusals
        yield closes

        sockets = GaugeMetricFamily(
            "realtime_sockets", "Connected Socket.IO sockets, by namespace.", labels=["namespace"]
        )
        rooms = GaugeMetricFamily(
            "realtime_rooms",
            "Rooms with a member on this process, by namespace (each socket's own room included).",
            labels=["namespace"],
        )
        volatile = CounterMetricFamily(
            "realtime_volatile_dropped",
            "Volatile events dropped because the recipient could not take them then.",
        )
        waiting = GaugeMetricFamily(
            "realtime_recovery_sessions",
            "Sessions of lost connections waiting for their client (connection state recovery).",
            labels=["namespace"],
        )
        log_bytes = GaugeMetricFamily(
            "realtime_recovery_log_bytes",
            "Bytes of stored broadcasts in the namespace's recovery log.",
            labels=["namespace"],
        )
        given_up = CounterMetricFamily(
            "realtime_recovery_sessions_dropped",
            "Recovery sessions dropped at a cap (max_packets, max_bytes, max_sessions).",
        )
        dropped = lost = 0
        for server in servers:
            for namespace in server.namespaces():
                sockets.add_metric([namespace.name], len(namespace.sockets))
                rooms.add_metric([namespace.name], len(namespace.adapter.rooms()))
                dropped += namespace.volatile_dropped
                store = getattr(namespace.adapter, "sessions", None)
                if namespace.recovery is not None and store is not None:
                    waiting.add_metric([namespace.name], store.sessions)
                    log_bytes.add_metric([namespace.name], store.log_held[1])
                    lost += store.dropped
        volatile.add_metric([], dropped)
        given_up.add_metric([], lost)
        yield sockets
        yield rooms
        yield volatile
        output_dropped = CounterMetricFamily(
            "realtime_output_dropped",
            "Packets for clients dropped: queued for a client cut off over max_buffer"
            " (overflow), or volatile events it could not take then (volatile).",
            labels=["reason"],
        )
        output_dropped.add_metric(["overflow"], sum(e.counters.dropped_overflow for e in engines))
        output_dropped.add_metric(["volatile"], dropped)
        yield output_dropped
        timings = [s.timings for s in servers if s.timings is not None]
        yield _histogram(
            HistogramMetricFamily,
            "realtime_handler_duration_seconds",
            "Seconds an event handler ran (to its end, for a coroutine), errors included.",
            [t.handlers for t in timings],
        )
        yield _histogram(
            HistogramMetricFamily,
            "realtime_ack_latency_seconds",
            "Seconds from an event that asks for an ack to the client's ack.",
            [t.acks for t in timings],
        )
        yield waiting
        yield log_bytes
        yield given_up

        yield GaugeMetricFamily(
            "realtime_event_loop_lag_seconds",
            "How late the event loop ran the last lag probe's timer.",
            value=self._lag.last,
        )
        yield GaugeMetricFamily(
            "realtime_event_loop_lag_max_seconds",
            "The largest event-loop lag seen since the server started.",
            value=self._lag.worst,
        )

        # The Redis adapter's health, duck-typed: this module must not
        # import the redis extra for a server that does not use it.
        adapters: list[Any] = [
            s.adapter_factory for s in servers if hasattr(s.adapter_factory, "connected")
        ]
        if adapters:
            connected = GaugeMetricFamily(
                "realtime_redis_connected",
                "1 while the Redis adapter is subscribed on a live connection.",
            )
            publishing = GaugeMetricFamily(
                "realtime_redis_publishing",
                "1 while broadcasts reach Redis (0: they stay local during an outage).",
            )
            connected.add_metric([], sum(1 for a in adapters if a.connected))
            publishing.add_metric([], sum(1 for a in adapters if a.publishing))
            yield connected
            yield publishing
            for family, name, doc, attr in (
                (
                    CounterMetricFamily,
                    "realtime_redis_subscriptions",
                    "Times the Redis listener completed its subscriptions (1 + reconnects).",
                    "generation",
                ),
                (
                    GaugeMetricFamily,
                    "realtime_redis_pending_publishes",
                    "Messages queued for Redis and not written yet.",
                    "pending_publishes",
                ),
                (
                    CounterMetricFamily,
                    "realtime_redis_unpublished",
                    "Messages that never reached Redis (an outage, or over max_pending_publishes).",
                    "unpublished",
                ),
                (
                    CounterMetricFamily,
                    "realtime_redis_malformed_messages",
                    "Messages from Redis dropped as malformed.",
                    "malformed",
                ),
            ):
                yield family(name, doc, value=sum(getattr(a, attr) for a in adapters))


def _histogram(family: Any, name: str, doc: str, parts: list[Histogram]) -> Any:
    """One Prometheus histogram of several servers' (same buckets)."""
    bounds = parts[0].bounds if parts else ()
    counts = [sum(h.counts[i] for h in parts) for i in range(len(bounds) + 1)]
    buckets: list[tuple[str, float]] = []
    running = 0
    for bound, count in zip((*map(str, bounds), "+Inf"), counts, strict=True):
        running += count
        buckets.append((bound, running))
    return family(name, doc, buckets=buckets, sum_value=sum(h.sum for h in parts))


_STATE_KEY: Final = web.AppKey("realtime_metrics", dict)


def install(
    app: web.Application,
    *,
    path: str = "/metrics",
    health: str = "/healthz",
    lag_interval: float = LAG_INTERVAL,
) -> None:
    """Serve ``path`` (Prometheus) and ``health`` in ``app``, over every
    realtime endpoint attached to it (call after ``Server.attach``; endpoints
    attached later are counted too)."""
    try:
        from prometheus_client import (
            CONTENT_TYPE_LATEST,
            CollectorRegistry,
            GCCollector,
            PlatformCollector,
            ProcessCollector,
            generate_latest,
        )
    except ImportError:
        raise MissingDependency(
            "metrics need the prometheus-client package: pip install 'realtime-socketio[metrics]'"
        ) from None
    from .integrations.aiohttp import attached_targets

    lag = LoopLag(lag_interval)
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(ServerCollector(lambda: attached_targets(app), lag))
    app[_STATE_KEY] = {"lag": lag, "started": time.time()}

    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(request: web.Request) -> web.Response:
        targets = attached_targets(app)
        status = {
            "status": "ok",
            "connections": sum(len(engine.sessions) for engine in _engines(targets)),
            "uptime": round(time.time() - app[_STATE_KEY]["started"], 3),
        }
        return web.Response(text=json.dumps(status), content_type="application/json")

    async def start_lag(app: web.Application) -> None:
        for server in _servers(attached_targets(app)):
            server.enable_timings()
        lag.start()

    async def stop_lag(app: web.Application) -> None:
        await lag.stop()

    app.router.add_get(path, metrics)
    app.router.add_get(health, healthz)
    app.on_startup.append(start_lag)
    app.on_cleanup.append(stop_lag)
