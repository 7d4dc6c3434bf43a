"""``/metrics`` and ``/healthz``: what official-protocol clients do shows up
in the scrape, counted by the core and read by the collector."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

import realtime
from realtime import metrics
from realtime.integrations.aiohttp import FrontDoorSite

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(port: int) -> Samples:
    url = f"http://127.0.0.1:{port}/metrics"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.fixture
async def served() -> AsyncIterator[tuple[realtime.Server, int]]:
    sio = realtime.Server()

    @sio.on("join")
    def join(socket: realtime.Socket, room: str) -> str:
        socket.join(room)
        return "joined"

    @sio.on("boom")
    def boom(socket: realtime.Socket) -> None:
        raise RuntimeError("a handler bug, on purpose")

    @sio.on("stall")
    def stall(socket: realtime.Socket, seconds: float) -> str:
        time.sleep(seconds)  # blocks the event loop, as a careless handler would
        return "done"

    app = web.Application()
    sio.attach(app)
    metrics.install(app, lag_interval=0.05)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = FrontDoorSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield sio, site.port
    finally:
        await runner.cleanup()


async def test_traffic_of_real_clients_is_counted(served: tuple[realtime.Server, int]) -> None:
    sio, port = served
    url = f"http://127.0.0.1:{port}"
    over_ws = socketio.AsyncClient(reconnection=False)
    over_polling = socketio.AsyncClient(reconnection=False)
    received: list[Any] = []
    over_polling.on("news", lambda data: received.append(data))
    over_ws.on("news", lambda data: received.append(data))
    over_ws.on("question", lambda: "answer")
    await over_ws.connect(url, transports=["websocket"])
    await over_polling.connect(url, transports=["polling"])
    try:
        assert await over_ws.call("join", "room", timeout=5) == "joined"
        assert await over_polling.call("join", "room", timeout=5) == "joined"
        await over_ws.emit("boom")
        sio.to("room").emit("news", {"n": 1})
        replies = await sio.call("question", to=over_ws.get_sid())
        assert replies == ["answer"]
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.02)
        assert received == [{"n": 1}, {"n": 1}]

        samples = await scrape(port)

        def connections(transport: str, protocol: str) -> float:
            labels = (("protocol", protocol), ("transport", transport))
            return samples[("realtime_connections", labels)]

        assert connections("websocket", "4") == 1
        assert connections("polling", "4") == 1
        assert connections("jsonp", "3") == 0
        assert samples[("realtime_handshakes_total", ())] == 2
        assert samples[("realtime_socket_connects_total", ())] == 2
        assert samples[("realtime_sockets", (("namespace", "/"),))] == 2
        # one room broadcast reached both (the ack-collecting call counts by its acks)
        assert samples[("realtime_broadcasts_total", ())] == 1
        assert samples[("realtime_broadcast_deliveries_total", ())] == 2
        assert samples[("realtime_acks_received_total", ())] == 1
        assert samples[("realtime_handler_errors_total", ())] == 1
        # join twice and boom (its error included): three handler runs timed
        assert samples[("realtime_handler_duration_seconds_count", ())] == 3
        assert samples[("realtime_handler_duration_seconds_bucket", (("le", "+Inf"),))] == 3
        assert samples[("realtime_handler_duration_seconds_sum", ())] > 0
        # the one ack the server waited for (the call to over_ws)
        assert samples[("realtime_ack_latency_seconds_count", ())] == 1
        assert samples[("realtime_ack_latency_seconds_bucket", (("le", "60.0"),))] == 1
        assert samples[("realtime_output_dropped_total", (("reason", "overflow"),))] == 0
        # join x2, boom, and the ack: four messages each way at least
        assert samples[("realtime_messages_received_total", ())] >= 4
        assert samples[("realtime_message_payload_received_total", ())] > 0
        assert samples[("realtime_packets_sent_total", ())] >= 6
        assert ("process_resident_memory_bytes", ()) in samples
        build = "compiled" if realtime.COMPILED else "pure"
        version = (("build", build), ("version", realtime.__version__))
        assert samples[("realtime_build_info", version)] == 1

        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as resp:
            assert resp.status == 200
            health = json.loads(await resp.text())
        assert health["status"] == "ok"
        assert health["connections"] == 2
    finally:
        await over_ws.disconnect()
        await over_polling.disconnect()

    for _ in range(100):
        samples = await scrape(port)
        if samples[("realtime_sockets", (("namespace", "/"),))] == 0:
            break
        await asyncio.sleep(0.02)
    assert samples[("realtime_sockets", (("namespace", "/"),))] == 0
    closes = sum(v for (name, _), v in samples.items() if name == "realtime_closes_total")
    assert closes == 2


async def test_refusals_are_counted_by_status(served: tuple[realtime.Server, int]) -> None:
    _, port = served
    async with aiohttp.ClientSession() as http:
        for query in ("EIO=4&transport=carrier-pigeon", "EIO=4&transport=polling&sid=nobody"):
            async with http.get(f"http://127.0.0.1:{port}/socket.io/?{query}") as resp:
                assert resp.status == 400
    samples = await scrape(port)
    assert samples[("realtime_http_refusals_total", (("status", "400"),))] == 2


async def test_a_blocked_event_loop_shows_as_lag(served: tuple[realtime.Server, int]) -> None:
    _, port = served
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
    try:
        # The probe wakes every 0.05 s: a 0.5 s block delays one by at least 0.45 s.
        assert await client.call("stall", 0.5, timeout=5) == "done"
    finally:
        await client.disconnect()
    samples = await scrape(port)
    assert samples[("realtime_event_loop_lag_max_seconds", ())] >= 0.4
    # The handler slept 0.5 s: its duration is in no bucket below that.
    assert samples[("realtime_handler_duration_seconds_bucket", (("le", "0.25"),))] == 0
    assert samples[("realtime_handler_duration_seconds_bucket", (("le", "+Inf"),))] == 1
    assert samples[("realtime_handler_duration_seconds_sum", ())] >= 0.5


def test_dropped_output_is_counted_by_reason() -> None:
    sio = realtime.Server(max_buffer=10_000)
    sio.engine.counters.dropped_overflow = 7
    sio.of("/").volatile_dropped = 3
    collector = metrics.ServerCollector(lambda: [sio], metrics.LoopLag())
    families = {family.name: family for family in collector.collect()}
    dropped = {s.labels["reason"]: s.value for s in families["realtime_output_dropped"].samples}
    assert dropped == {"overflow": 7, "volatile": 3}
    # Without metrics turned on, nothing was timed: empty histograms.
    assert sio.timings is None
    handlers = families["realtime_handler_duration_seconds"].samples
    assert [s.value for s in handlers if s.name.endswith("_count")] == [0]


def test_without_prometheus_client_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ImportError, match=r"pip install 'realtime-socketio\[metrics\]'"):
        metrics.install(web.Application())
