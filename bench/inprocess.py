"""Our own Python per WebSocket echo round trip, without the kernel or a peer.

Feeds masked ``42["echo",{..}]`` frames (the load generator's messages) to 50
``WebSocketConnection``s whose transports only count writes, and prints the
best of 5 runs in µs per round trip. ``ASYNC=0`` uses a ``def`` echo handler
(default: the bench app's ``async def`` one); ``MODE=ack`` sends
``42<id>["echo_ack",{..}]`` and counts the ack; ``PROF=1`` prints a cProfile
of one run; ``LOOP=asyncio`` runs on asyncio's loop instead of the one
``realtime.run`` picks (uvloop where installed). ``MODE=polling`` measures a
long-polling round trip instead: behind the front door, each client has a
parked GET and POSTs ``42["echo",{..}]``; the round trip ends when the GET's
answer is written (and the client's next GET parks). ``MODE=broadcast``
measures one ``sio.emit`` to a room of 1,000 WebSocket clients (the bench
app's ``bcast`` handler), in µs per broadcast. ``MODE=asgi-polling``: the
same long-polling round trip through ``realtime.ASGIApp``, called as uvicorn
calls it (a task per request, scopes and messages as it builds them), so the
time is ours on that host without uvicorn's own. ``TIMINGS=1`` turns on what
``realtime.metrics`` turns on (handler durations and ack latency), to price it.

    python bench/inprocess.py
    MODE=polling python bench/inprocess.py
    python bench/instructions.py    # the same under callgrind, in instructions
    PYTHONPATH=build/compiled python bench/inprocess.py    # the compiled build
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# bench/profile.py would shadow the standard library's profile (cProfile needs it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE / "servers"))

import realtime_app  # noqa: E402

import realtime  # noqa: E402
from realtime.http import AcceptWebSocket, HttpRequest  # noqa: E402
from realtime.integrations.aiohttp import new_event_loop  # noqa: E402
from realtime.runtime.asyncio import AsyncioRuntime, WebSocketConnection  # noqa: E402
from realtime.runtime.front_door import DoorKeeper, FrontDoor  # noqa: E402

CLIENTS = 50
BROADCAST_CLIENTS = 1000
ROUND_TRIPS = int(os.environ.get("ROUND_TRIPS", "4000"))
MASK = b"\x01\x02\x03\x04"


class CountingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: Any) -> None:
        self.writes += 1

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass


def client_frame(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 126
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(data))
    return bytes((0x81, 0x80 | len(data))) + MASK + masked


def build() -> tuple[realtime.Server, AsyncioRuntime]:
    sio = realtime_app.build_server()
    if os.environ.get("ASYNC", "1") == "0":

        @sio.on("echo")
        def echo(socket: realtime.Socket, *args: Any) -> None:
            socket.emit("echo", *args)

    if os.environ.get("TIMINGS") == "1":
        sio.enable_timings()
    runtime = AsyncioRuntime(sio.engine)
    sio.bind(runtime)
    return sio, runtime


def no_heartbeat(sio: realtime.Server) -> None:
    """No ping during the run: under callgrind a run lasts long enough for
    pings, which would count in one run and not in another."""
    config = sio.engine.session_config
    sio.engine.session_config = dataclasses.replace(config, ping_interval=1e6, ping_timeout=1e6)


class Endpoint:
    def __init__(self, sio: realtime.Server, runtime: AsyncioRuntime) -> None:
        self.engine = sio.engine
        self.runtime = runtime


def http_get(target: str) -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n".encode()


def http_post(target: str, body: bytes) -> bytes:
    head = (
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def polling() -> None:
    sio, runtime = build()
    keeper = DoorKeeper([Endpoint(sio, runtime)], fallback=asyncio.Protocol)
    clients: list[tuple[FrontDoor, FrontDoor, bytes, bytes]] = []
    for _ in range(CLIENTS):
        getter, poster = keeper(), keeper()
        get_transport, post_transport = CountingTransport(), CountingTransport()
        getter.connection_made(get_transport)
        poster.connection_made(post_transport)
        decision = sio.engine.handle_request(
            HttpRequest("GET", "/socket.io/", {"EIO": "4", "transport": "polling"}, {}),
            runtime.now(),
        )
        assert not isinstance(decision, AcceptWebSocket)
        sid = json.loads(getattr(decision, "body", b"")[1:])["sid"]
        target = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
        poster.data_received(http_post(target, b"40"))
        getter.data_received(http_get(target))  # the CONNECT answer
        await asyncio.sleep(0)
        getter.data_received(http_get(target))  # parks
        message = b'42["echo",{"seq":1,"ts":1732190000000,"p":"abcdefghij"}]'
        clients.append((getter, poster, http_get(target), http_post(target, message)))
    await asyncio.sleep(0.01)

    async def run() -> float:
        start = time.perf_counter()
        for _ in range(ROUND_TRIPS // CLIENTS):
            for _getter, poster, _get, post in clients:
                poster.data_received(post)
            await asyncio.sleep(0)  # the handlers' tasks run, the GETs are answered
            for getter, _poster, get, _post in clients:
                getter.data_received(get)  # the next GET parks
        await asyncio.sleep(0)
        return time.perf_counter() - start

    await measure(run, "polling")


def asgi_scope(method: str, query: str, body: bytes = b"") -> dict[str, Any]:
    """A request of the load generator's as uvicorn hands it to the app."""
    headers = [(b"host", b"127.0.0.1:8000")]
    if method == "POST":
        headers += [
            (b"content-type", b"text/plain;charset=UTF-8"),
            (b"content-length", str(len(body)).encode()),
        ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": "/socket.io/",
        "raw_path": b"/socket.io/",
        "query_string": query.encode(),
        "headers": headers,
        "state": {},
    }


async def asgi_polling() -> None:
    sio = realtime_app.build_server()
    no_heartbeat(sio)  # a ping would answer a parked GET the harness does not count
    app = realtime.ASGIApp(sio)
    loop = asyncio.get_running_loop()
    answers: list[int] = []
    running: set[asyncio.Task[None]] = set()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            answers.append(len(message["body"]))

    def request(method: str, query: str, body: bytes = b"") -> None:
        scope = asgi_scope(method, query, body)
        message = {"type": "http.request", "body": body, "more_body": False}

        async def receive() -> dict[str, Any]:
            nonlocal message
            given, message = message, {"type": "http.disconnect"}
            if given["type"] == "http.disconnect":
                await asyncio.Event().wait()  # the client stays: a parked poll waits
            return given

        task = loop.create_task(app(scope, receive, send))
        running.add(task)  # held, as uvicorn holds its request tasks
        task.add_done_callback(running.discard)

    request("GET", "EIO=4&transport=polling")  # starts the runtime on this loop
    await asyncio.sleep(0)
    queries: list[str] = []
    for _ in range(CLIENTS):
        decision = sio.engine.handle_request(
            HttpRequest("GET", "/socket.io/", {"EIO": "4", "transport": "polling"}, {}),
            loop.time(),
        )
        sid = json.loads(getattr(decision, "body", b"")[1:])["sid"]
        query = f"EIO=4&transport=polling&sid={sid}"
        request("POST", query, b"40")
        request("GET", query)  # the CONNECT answer
        await asyncio.sleep(0)
        request("GET", query)  # parks
        queries.append(query)
    await asyncio.sleep(0.01)
    message = b'42["echo",{"seq":1,"ts":1732190000000,"p":"abcdefghij"}]'

    async def run() -> float:
        start = time.perf_counter()
        for _ in range(ROUND_TRIPS // CLIENTS):
            for query in queries:
                request("POST", query, message)
            for _ in range(4):  # the POSTs' tasks, the handlers, the parked GETs' answers
                await asyncio.sleep(0)
            for query in queries:
                request("GET", query)  # the next GET parks
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        return time.perf_counter() - start

    answered = len(answers)
    runs = await measure(run, "ASGI polling")
    # every round trip answered its POST and its GET: a harness that stalled would say so
    expected = 2 * (ROUND_TRIPS // CLIENTS) * CLIENTS * runs
    assert len(answers) - answered == expected, (len(answers) - answered, expected)
    for task in running:
        task.cancel()  # the parked GETs


def open_websockets(
    sio: realtime.Server, runtime: AsyncioRuntime, count: int
) -> list[tuple[WebSocketConnection, CountingTransport]]:
    conns: list[tuple[WebSocketConnection, CountingTransport]] = []
    for i in range(count):
        # Each client from an address of its own, as the server's per-address limits expect.
        handshake = HttpRequest(
            "GET",
            "/socket.io/",
            {"EIO": "4", "transport": "websocket"},
            {"upgrade": "websocket", "connection": "Upgrade"},
            remote_addr=f"10.0.{i // 250}.{i % 250}",
        )
        decision = sio.engine.handle_request(handshake, runtime.now())
        assert isinstance(decision, AcceptWebSocket)
        conn, transport = runtime.websocket(decision), CountingTransport()
        conn.connection_made(transport)
        conn.data_received(client_frame("40"))
        conns.append((conn, transport))
    return conns


async def broadcast() -> None:
    sio, runtime = build()
    no_heartbeat(sio)
    conns = open_websockets(sio, runtime, BROADCAST_CLIENTS)
    await asyncio.sleep(0.01)
    for conn, _transport in conns:
        conn.data_received(client_frame('421["join","room"]'))
    await asyncio.sleep(0.01)
    sender = conns[0][0]
    message = client_frame('42["bcast",{"room":"room","n":1}]')
    rounds = max(1, ROUND_TRIPS // CLIENTS)

    async def run() -> float:
        start = time.perf_counter()
        for _ in range(rounds):
            sender.data_received(message)
            await asyncio.sleep(0)  # every recipient's flush
        await asyncio.sleep(0)
        return (time.perf_counter() - start) * ROUND_TRIPS / rounds

    await measure(run, f"broadcast to {BROADCAST_CLIENTS}")


async def main() -> None:
    if os.environ.get("MODE") == "polling":
        await polling()
        return
    if os.environ.get("MODE") == "asgi-polling":
        await asgi_polling()
        return
    if os.environ.get("MODE") == "broadcast":
        await broadcast()
        return
    sio, runtime = build()
    conns = open_websockets(sio, runtime, CLIENTS)
    await asyncio.sleep(0.01)
    # What the load generator sends (bench/loadgen/scenarios/echo.mjs), a few
    # thousand messages in: the ack id is the client's sequence number.
    body = '{"n":12345,"s":"the quick brown fox jumps over the lazy dog"}'
    if os.environ.get("MODE") == "ack":
        message = client_frame(f'4212345["echo_ack",{body}]')
    else:
        message = client_frame(f'42["echo",{body}]')

    async def run() -> float:
        start = time.perf_counter()
        for _ in range(ROUND_TRIPS // CLIENTS):
            for conn, _transport in conns:
                conn.data_received(message)
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        return time.perf_counter() - start

    await measure(run, "WebSocket ack" if os.environ.get("MODE") == "ack" else "WebSocket")


async def measure(run: Any, what: str) -> int:
    """Time ``run``; returns how many times it ran."""
    await run()  # warm-up
    if os.environ.get("PROF"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        await run()
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    best = min([await run() for _ in range(5)])
    kind = "async def" if os.environ.get("ASYNC", "1") != "0" else "def"
    build = "compiled" if realtime.COMPILED else "pure Python"
    unit = "broadcast" if what.startswith("broadcast") else "round trip"
    print(f"{what}, {kind} handler, {build}: {best / ROUND_TRIPS * 1e6:.2f} µs per {unit}")
    return 7 if os.environ.get("PROF") else 6


if __name__ == "__main__":
    # The loop realtime.run picks (uvloop where installed); LOOP=asyncio for asyncio's own.
    loop = new_event_loop(os.environ.get("LOOP", "auto"))
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
