"""The Server on the real Engine, in memory: HTTP requests as values, a
hand-moved clock, no sockets. Checks the seams between the two layers."""

from __future__ import annotations

import json
from typing import Any

from helpers_sio import TestRuntime, make_server

from realtime.http import HttpRequest, HttpResponse
from realtime.protocol.engineio import Message
from realtime.server import Server, Socket


def _request(method: str, body: bytes = b"", **query: str) -> HttpRequest:
    return HttpRequest(method, "/socket.io/", query, {"host": "test"}, body, "127.0.0.1")


class PollingClient:
    """An EIO 4 polling client speaking to the engine directly."""

    def __init__(self, sio: Server, runtime: TestRuntime) -> None:
        self.sio = sio
        self.runtime = runtime
        handshake = _request("GET", EIO="4", transport="polling")
        answer = sio.engine.handle_request(handshake, runtime.now())
        assert isinstance(answer, HttpResponse)
        self.sid = json.loads(answer.body[1:])["sid"]

    @property
    def session(self) -> Any:
        return self.sio.engine.sessions[self.sid]

    def post(self, *packets: str) -> None:
        body = "\x1e".join("4" + p for p in packets).encode()
        query = {"EIO": "4", "transport": "polling", "sid": self.sid}
        answer = self.sio.engine.handle_request(_request("POST", body, **query), self.runtime.now())
        assert isinstance(answer, HttpResponse) and answer.body == b"ok"

    def poll(self) -> list[str]:
        query = {"EIO": "4", "transport": "polling", "sid": self.sid}
        answer = self.sio.engine.handle_request(_request("GET", **query), self.runtime.now())
        assert isinstance(answer, HttpResponse), "nothing queued: the GET would park"
        return answer.body.decode().split("\x1e")


async def test_connect_and_event_through_the_engine() -> None:
    sio, runtime = make_server()
    sio.on("hello", lambda socket, name: f"hello {name}")
    client = PollingClient(sio, runtime)
    client.post("0", '21["hello","ada"]')
    answer, ack = client.poll()
    assert answer.startswith('40{"sid":"') and ack == '431["hello ada"]'


async def test_broadcast_puts_one_message_object_in_every_session() -> None:
    sio, runtime = make_server()
    clients = [PollingClient(sio, runtime) for _ in range(3)]
    for client in clients:
        client.post("0")
        client.poll()
    sio.emit("news", b"\x01")
    outboxes = [list(client.session.take()) for client in clients]
    assert all(len(outbox) == 2 for outbox in outboxes)
    header, attachment = outboxes[0]
    assert isinstance(header, Message) and isinstance(attachment, Message)
    assert all(o[0] is header and o[1] is attachment for o in outboxes)


async def test_ping_timeout_reaches_the_disconnect_handler() -> None:
    sio, runtime = make_server(ping_interval=10, ping_timeout=5)
    reasons: list[str] = []
    sio.on("disconnect", lambda socket, reason: reasons.append(reason))
    client = PollingClient(sio, runtime)
    client.post("0")
    runtime.advance(10, sio.engine.deadlines)
    assert client.poll()[-1] == "2"  # the server pinged
    runtime.advance(4.9, sio.engine.deadlines)
    assert reasons == []
    runtime.advance(0.2, sio.engine.deadlines)  # no pong in time
    assert reasons == ["ping timeout"]


async def test_connect_timeout_closes_the_session() -> None:
    sio, runtime = make_server(connect_timeout=3)
    client = PollingClient(sio, runtime)
    runtime.advance(2.9, sio.engine.deadlines)
    assert not client.session.closed
    runtime.advance(0.1, sio.engine.deadlines)
    assert client.session.closed


async def test_parse_error_closes_the_session() -> None:
    sio, runtime = make_server()
    seen: list[Socket] = []
    sio.on("connect", lambda socket, auth: seen.append(socket))
    client = PollingClient(sio, runtime)
    client.post("0", '2["connect"]')
    assert len(seen) == 1 and client.session.closed
    assert client.session.close_reason == "parse error"
