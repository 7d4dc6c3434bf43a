"""Limits per client address, per connection and server-wide: each refusal
says why, and how long to wait (``Retry-After``); the tables that hold the
limits' state are bounded too."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
import socketio
from services import front_door

import realtime
from realtime.engine import Engine
from realtime.http import HttpRequest, HttpResponse
from realtime.protocol.limits import AddressTable, TokenBucket, client_address


class Quiet:
    """An engine listener that wants nothing: these tests look at the engine."""

    def on_open(self, conn: Any) -> None: ...

    def on_message(self, conn: Any, data: Any) -> None: ...

    def on_close(self, conn: Any, reason: str) -> None: ...


def engine_with(**options: Any) -> Engine:
    return Engine(listener=Quiet(), **options)


def open_from(engine: Engine, now: float, peer: str, **headers: str) -> HttpResponse:
    req = HttpRequest(
        "GET",
        "/engine.io/",
        {"EIO": "4", "transport": "polling"},
        {"host": "h", **headers},
        b"",
        peer,
    )
    decision = engine.handle_request(req, now)
    assert isinstance(decision, HttpResponse)
    return decision


def sid_of(resp: HttpResponse) -> str:
    assert resp.status == 200, resp.body
    text = resp.body.decode()
    return str(json.loads(text[text.index("{") : text.rindex("}") + 1])["sid"])


def refusal(resp: HttpResponse) -> tuple[int, str, int]:
    body = json.loads(resp.body)
    return resp.status, body["message"], int(resp.headers["Retry-After"])


def test_connections_per_address_are_capped_and_freed_on_close() -> None:
    engine = engine_with(max_connections_per_address=2, handshakes_per_second=None)
    first = sid_of(open_from(engine, 0.0, "10.0.0.1"))
    sid_of(open_from(engine, 0.0, "10.0.0.1"))
    status, message, retry = refusal(open_from(engine, 0.0, "10.0.0.1"))
    assert (status, message) == (429, "too many connections from this address")
    assert retry >= 1
    sid_of(open_from(engine, 0.0, "10.0.0.2"))  # another address is not affected
    engine.sessions[first].close()
    engine.sessions[first].finish()
    assert engine.addresses.connections("10.0.0.1") == 1
    sid_of(open_from(engine, 0.0, "10.0.0.1"))


def test_handshakes_per_address_follow_a_token_bucket() -> None:
    engine = engine_with(handshakes_per_second=2.0, handshake_burst=3)
    for _ in range(3):
        sid_of(open_from(engine, 0.0, "10.0.0.1"))
    status, message, retry = refusal(open_from(engine, 0.0, "10.0.0.1"))
    assert (status, message, retry) == (429, "too many handshakes from this address", 1)
    sid_of(open_from(engine, 0.0, "10.0.0.9"))
    sid_of(open_from(engine, 0.5, "10.0.0.1"))  # one token back after half a second
    assert open_from(engine, 0.5, "10.0.0.1").status == 429


def test_a_full_server_answers_503_with_retry_after() -> None:
    engine = engine_with(max_connections=2)
    sid_of(open_from(engine, 0.0, "10.0.0.1"))
    sid_of(open_from(engine, 0.0, "10.0.0.2"))
    status, message, retry = refusal(open_from(engine, 0.0, "10.0.0.3"))
    assert (status, message, retry) == (503, "server full", 10)
    assert engine.counters.refusals == {503: 1}


def test_forwarded_addresses_count_only_behind_a_trusted_proxy() -> None:
    engine = engine_with(max_connections_per_address=1, trusted_proxies=["127.0.0.1"])
    # Behind the proxy, two clients are two addresses...
    a = sid_of(open_from(engine, 0.0, "127.0.0.1", **{"x-forwarded-for": "203.0.113.5"}))
    sid_of(open_from(engine, 0.0, "127.0.0.1", **{"x-forwarded-for": "203.0.113.6"}))
    assert engine.sessions[a].remote_addr == "203.0.113.5"
    # ...and a client cannot choose its address by sending the header itself.
    sid_of(open_from(engine, 0.0, "198.51.100.7", **{"x-forwarded-for": "1.2.3.4"}))
    resp = open_from(engine, 0.0, "198.51.100.7", **{"x-forwarded-for": "5.6.7.8"})
    assert resp.status == 429


def test_client_address_takes_the_nearest_untrusted_hop() -> None:
    trusted = frozenset({"10.0.0.1", "10.0.0.2"})
    headers = {"x-forwarded-for": "1.1.1.1, 2.2.2.2, 10.0.0.2"}
    assert client_address("10.0.0.1", headers, trusted) == "2.2.2.2"
    assert client_address("9.9.9.9", headers, trusted) == "9.9.9.9"
    assert client_address("10.0.0.1", {}, trusted) == "10.0.0.1"
    assert client_address(None, {}, trusted) == ""


def test_the_address_table_is_bounded() -> None:
    table = AddressTable(
        max_connections=5, handshake_rate=1.0, handshake_burst=1, max_addresses=100
    )
    table.opened("busy")
    for i in range(10_000):
        assert table.refusal(f"2001:db8::{i:x}", float(i)) is None
    assert len(table) == 100
    assert table.connections("busy") == 1  # an address with connections is kept


def test_token_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = TokenBucket(rate=10.0, burst=2, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [True, True, False]
    assert bucket.retry_after() == pytest.approx(0.1)
    assert bucket.take(0.1)
    assert [bucket.take(100.0) for _ in range(3)] == [True, True, False]


def test_event_rate_options_are_checked() -> None:
    with pytest.raises(ValueError, match="event_rate_policy"):
        realtime.Server(event_rate_policy="ignore")
    with pytest.raises(ValueError, match="events_per_second"):
        realtime.Server(events_per_second=0)


async def test_drop_policy_drops_events_over_the_rate_and_keeps_the_connection() -> None:
    sio = realtime.Server(events_per_second=1.0, event_burst=5, event_rate_policy="drop")
    got: list[Any] = []

    @sio.on("n")
    def n(socket: realtime.Socket, i: int) -> None:
        got.append(i)

    @sio.on("ping")
    def ping(socket: realtime.Socket) -> str:
        return "pong"

    runner, port = await front_door(sio)
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
        for i in range(50):
            await client.emit("n", i)
        # Dropped events send nothing back: wait until the server has seen all 50.
        for _ in range(500):
            if len(got) + sio.engine.counters.events_dropped == 50:
                break
            await asyncio.sleep(0.01)
        assert got == list(range(len(got)))
        assert 5 <= len(got) < 50
        assert sio.engine.counters.events_dropped == 50 - len(got)
        assert client.connected
    finally:
        await client.disconnect()
        await runner.cleanup()


async def test_a_real_client_refused_by_a_full_server_hears_why() -> None:
    sio = realtime.Server(max_connections=1)
    runner, port = await front_door(sio)
    first = socketio.AsyncClient(reconnection=False)
    try:
        await first.connect(f"http://127.0.0.1:{port}", transports=["polling"])
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
            async with http.get(url) as resp:
                assert resp.status == 503
                assert resp.headers["Retry-After"] == "10"
                assert await resp.json() == {"code": 3, "message": "server full"}
    finally:
        await first.disconnect()
        await runner.cleanup()
