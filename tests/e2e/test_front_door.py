"""The front door over loopback: the server's own HTTP/1.1 for the engine's
requests, and hand-overs to aiohttp for everything else, on raw sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

import realtime
from realtime.integrations.aiohttp import FrontDoorSite


def echo_engine(**options: Any) -> realtime.Engine:
    engine = realtime.Engine(path="/socket.io", **options)

    @engine.on("message")
    def echo(conn: Any, data: Any) -> None:
        conn.send(data)

    return engine


class Door:
    def __init__(self, engine: realtime.Engine, site: FrontDoorSite, runner: web.AppRunner):
        self.engine = engine
        self.site = site
        self.runner = runner
        self.port = site.port

    async def connect(self) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        return Client(reader, writer)


class Client:
    """A raw HTTP/1.1 client: writes bytes, reads whole responses."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def get(self, target: str, *fields: str) -> None:
        lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", *fields, "", ""]
        self.send("\r\n".join(lines).encode())

    def post(self, target: str, body: bytes, *fields: str) -> None:
        lines = [f"POST {target} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        self.send("\r\n".join([*lines, *fields, "", ""]).encode() + body)

    async def response(self, timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        fields = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            body = await asyncio.wait_for(
                self.reader.readexactly(int(fields["content-length"])), timeout
            )
        elif fields.get("transfer-encoding") == "chunked":
            body = await self._chunked(timeout)
        else:
            body = b""
        return status, fields, body

    async def _chunked(self, timeout: float) -> bytes:
        body = b""
        while True:
            size = int((await asyncio.wait_for(self.reader.readline(), timeout)).strip(), 16)
            chunk = await asyncio.wait_for(self.reader.readexactly(size + 2), timeout)
            if size == 0:
                return body
            body += chunk[:-2]

    async def closed(self, timeout: float = 5) -> bool:
        """True once the server closed the connection."""
        try:
            rest = await asyncio.wait_for(self.reader.read(), timeout)
        except (ConnectionResetError, TimeoutError):
            return False
        return rest == b""

    def close(self) -> None:
        self.writer.close()


StartDoor = Callable[..., Awaitable[Door]]


@pytest.fixture
async def door() -> AsyncIterator[StartDoor]:
    started: list[Door] = []

    async def start(engine: realtime.Engine | None = None, **site_options: Any) -> Door:
        engine = engine or echo_engine()
        app = web.Application()
        realtime.attach(engine, app)

        async def hello(request: web.Request) -> web.Response:
            return web.Response(text=f"hello from aiohttp {request.method} {request.path}")

        async def upload(request: web.Request) -> web.Response:
            return web.Response(text=f"got {len(await request.read())} bytes")

        app.router.add_get("/hello", hello)
        app.router.add_post("/upload", upload)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        site = FrontDoorSite(runner, "127.0.0.1", 0, **site_options)
        await site.start()
        started.append(Door(engine, site, runner))
        return started[-1]

    yield start
    for running in started:
        await running.runner.cleanup()
        running.site.close_all()


def poll(sid: str | None = None, eio: str = "4") -> str:
    target = f"/socket.io/?EIO={eio}&transport=polling"
    return target + (f"&sid={sid}" if sid else "")


async def handshake(client: Client) -> str:
    client.get(poll())
    status, fields, body = await client.response()
    assert status == 200 and "server" not in fields  # answered by the door, not aiohttp
    sid: str = json.loads(body[1:])["sid"]
    return sid


async def test_engine_requests_and_an_aiohttp_route_share_a_keep_alive_connection(
    door: StartDoor,
) -> None:
    running = await door()
    client = await running.connect()
    sid = await handshake(client)
    client.post(poll(sid), b"4first")
    assert (await client.response())[2] == b"ok"
    client.get(poll(sid))
    assert (await client.response())[2] == b"4first"
    # The first request for another path hands the connection to aiohttp ...
    client.get("/hello")
    status, fields, body = await client.response()
    assert (status, body) == (200, b"hello from aiohttp GET /hello")
    assert "aiohttp" in fields["server"]
    # ... which keeps it, and still serves the engine through its route.
    client.post(poll(sid), b"4second")
    status, fields, body = await client.response()
    assert (status, body) == (200, b"ok") and "aiohttp" in fields["server"]
    client.get(poll(sid))
    assert (await client.response())[2] == b"4second"
    assert running.site.keeper.connections == set()
    client.close()


async def test_pipelined_requests_are_answered_in_order(door: StartDoor) -> None:
    running = await door(echo_engine(cors_allowed_origins="*"))
    client = await running.connect()
    sid = await handshake(client)
    client.post(poll(sid), b"4a\x1e4b")
    client.send(b"OPTIONS /socket.io/ HTTP/1.1\r\nOrigin: http://x.test\r\n\r\n")
    client.get(poll(sid))
    assert (await client.response())[2] == b"ok"
    status, fields, _ = await client.response()
    assert (status, fields["access-control-allow-origin"]) == (204, "*")
    assert (await client.response())[2] == b"4a\x1e4b"
    client.close()


async def test_a_large_header_for_another_path_goes_to_aiohttp(door: StartDoor) -> None:
    running = await door(max_head=1024)
    client = await running.connect()
    client.get("/hello", "Cookie: " + "c" * 4000)
    assert (await client.response())[2] == b"hello from aiohttp GET /hello"
    client.close()


async def test_a_large_head_on_the_engine_path_is_431(door: StartDoor) -> None:
    running = await door(max_head=1024)
    client = await running.connect()
    client.get(poll(), "Cookie: " + "c" * 4000)
    status, fields, _ = await client.response()
    assert (status, fields["connection"]) == (431, "close")
    assert await client.closed()


async def test_malformed_requests_get_400_and_a_close(door: StartDoor) -> None:
    running = await door()
    for data in (
        b"GET /socket.io/ HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # TLS on a plain port
    ):
        client = await running.connect()
        client.send(data)
        status, fields, _ = await client.response()
        assert status == 400 and fields["connection"] == "close"
        assert await client.closed()


async def test_chunked_and_http10_requests_are_handed_over(door: StartDoor) -> None:
    running = await door()
    client = await running.connect()
    sid = await handshake(client)
    client.send(
        f"POST {poll(sid)} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "7\r\n4chunks\r\n0\r\n\r\n".encode()
    )
    status, fields, body = await client.response()
    assert (status, body) == (200, b"ok") and "aiohttp" in fields["server"]
    client.get(poll(sid))
    assert (await client.response())[2] == b"4chunks"
    client.close()
    old = await running.connect()
    old.send(f"GET {poll()} HTTP/1.0\r\n\r\n".encode())
    status, fields, body = await old.response()
    assert status == 200 and body.startswith(b"0{") and "aiohttp" in fields["server"]


async def test_a_body_over_max_payload_is_refused_unread(door: StartDoor) -> None:
    running = await door(echo_engine(max_payload=100))
    client = await running.connect()
    sid = await handshake(client)
    client.send(
        f"POST {poll(sid)} HTTP/1.1\r\nContent-Length: 5000000\r\n\r\n".encode() + b"4" * 1000
    )
    status, fields, _ = await client.response()
    assert status == 400 and fields["connection"] == "close"
    assert await client.closed()
    assert sid not in running.engine.sessions or running.engine.sessions[sid].state.name != "OPEN"


async def test_a_parked_poll_whose_client_left_does_not_block_the_next(door: StartDoor) -> None:
    running = await door()
    first = await running.connect()
    sid = await handshake(first)
    first.get(poll(sid))
    await asyncio.sleep(0.05)
    assert running.engine.sessions[sid].polling_parked
    first.close()  # an aborted XHR: the browser drops the connection
    for _ in range(100):
        if not running.engine.sessions[sid].polling_parked:
            break
        await asyncio.sleep(0.01)
    second = await running.connect()
    second.get(poll(sid))
    third = await running.connect()
    third.post(poll(sid), b"4still here")
    assert (await third.response())[2] == b"ok"
    assert (await second.response())[2] == b"4still here"
    second.close()
    third.close()


async def test_idle_and_slow_connections_are_closed(door: StartDoor) -> None:
    running = await door(keepalive_timeout=0.4)
    idle = await running.connect()
    await handshake(idle)
    slow = await running.connect()
    slow.send(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.")
    silent = await running.connect()
    slow_body = await running.connect()
    slow_body.send(
        b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\n"
        b"Content-Length: 100\r\n\r\n4 ten bytes"
    )
    assert await idle.closed(timeout=3)
    assert await slow.closed(timeout=3)
    assert await silent.closed(timeout=3)
    assert await slow_body.closed(timeout=3)
    assert running.site.keeper.connections == set()


async def test_a_parked_poll_is_not_idle(door: StartDoor) -> None:
    running = await door(echo_engine(ping_interval=5), keepalive_timeout=0.3)
    client = await running.connect()
    sid = await handshake(client)
    client.get(poll(sid))
    await asyncio.sleep(1.0)  # three idle periods
    running.engine.sessions[sid].send("late")
    assert (await client.response())[2] == b"4late"
    client.close()


async def reading_paused(running: Door) -> Any:
    """The one door connection, once it has paused reading."""
    (conn,) = running.site.keeper.connections
    for _ in range(100):
        if conn._read_paused:
            break
        await asyncio.sleep(0.01)
    assert conn._read_paused
    return conn


async def test_input_behind_a_parked_poll_is_bounded(door: StartDoor) -> None:
    running = await door(max_pipelined=4096)
    client = await running.connect()
    sid = await handshake(client)
    client.get(poll(sid))
    await asyncio.sleep(0.05)  # parked
    client.send(b"x" * 32 * 1024)  # under the default bound, over this one
    await client.writer.drain()
    conn = await reading_paused(running)
    # at most one read (asyncio reads up to 256 KiB) past the bound
    assert len(conn.reader.buffer) <= running.site.keeper.max_pipelined + 256 * 1024
    running.engine.sessions[sid].send("out")
    assert (await client.response())[2] == b"4out"
    status, _, _ = await client.response()  # then the garbage is refused
    assert status in (414, 431)
    assert await client.closed()


async def test_shutdown_answers_parked_polls_and_closes(door: StartDoor) -> None:
    running = await door()
    parked = await running.connect()
    sid = await handshake(parked)
    parked.get(poll(sid))
    idle = await running.connect()
    await handshake(idle)
    await asyncio.sleep(0.05)
    await running.runner.cleanup()
    status, fields, body = await parked.response()
    assert (status, body, fields["connection"]) == (200, b"1", "close")
    assert await parked.closed()
    assert await idle.closed()
    running.site.close_all()


async def test_websocket_handshake_through_the_door(door: StartDoor) -> None:
    running = await door()
    client = await running.connect()
    sid = await handshake(client)  # a keep-alive connection first serving a poll
    client.get(
        f"/socket.io/?EIO=4&transport=websocket&sid={sid}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    )
    # the probe, glued to the handshake: a masked "2probe" text frame
    payload = b"2probe"
    client.send(bytes((0x81, 0x80 | len(payload))) + b"\0\0\0\0" + payload)
    head = await asyncio.wait_for(client.reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    frame = await asyncio.wait_for(client.reader.readexactly(2 + 6), 5)
    assert frame == b"\x81\x063probe"
    assert running.site.keeper.connections == set()
    client.close()


async def test_the_bundled_client_is_served_by_the_door(door: StartDoor) -> None:
    running = await door()
    client = await running.connect()
    client.get("/socket.io/realtime.min.js", "Accept-Encoding: gzip")
    status, fields, body = await client.response()
    assert status == 200 and fields["content-encoding"] == "gzip" and "server" not in fields
    client.get("/socket.io/realtime.min.js", f"If-None-Match: {fields['etag']}")
    status, fields, body = await client.response()
    assert (status, body) == (304, b"") and "content-length" not in fields
    client.get("/socket.io/socket.io.js")  # where pages written for Node's server look
    status, fields, body = await client.response()
    assert status == 200 and b"root.io = client" in body
    client.close()


@pytest.fixture
def tls_context(tmp_path: Any) -> Any:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_tls_polling_and_websocket_through_the_door(
    door: StartDoor, tls_context: Any
) -> None:
    import aiohttp

    engine = echo_engine()
    seen: list[str] = []

    @engine.on("connect")
    def connected(conn: Any) -> None:
        seen.append(conn.headers.get("host", ""))

    running = await door(engine, ssl_context=tls_context)
    base = f"https://127.0.0.1:{running.port}"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as http:
        async with http.get(base + poll()) as resp:
            assert "server" not in resp.headers  # the door answered
            sid = json.loads((await resp.text())[1:])["sid"]
        async with http.post(base + poll(sid), data=b"4over tls") as resp:
            assert await resp.text() == "ok"
        async with http.get(base + poll(sid)) as resp:
            assert await resp.text() == "4over tls"
        async with http.get(base + "/hello") as resp:
            assert await resp.text() == "hello from aiohttp GET /hello"
        async with http.ws_connect(base + "/socket.io/?EIO=4&transport=websocket") as ws:
            assert (await ws.receive_str()).startswith("0{")
            await ws.send_str("4secure")
            assert await ws.receive_str() == "4secure"
        # TLS has no half-close: a closing answer closes at once.
        async with http.get(base + poll(), headers={"Connection": "close"}) as resp:
            assert resp.headers["connection"] == "close"
            assert (await resp.text()).startswith("0{")
    assert len(seen) == 3
    for _ in range(100):
        if not running.site.keeper.connections:
            break
        await asyncio.sleep(0.01)
    assert running.site.keeper.connections == set()


async def test_reading_resumes_for_a_body_that_was_paused_behind_a_poll(door: StartDoor) -> None:
    running = await door()
    client = await running.connect()
    sid = await handshake(client)
    client.get(poll(sid))
    body = b"4" + b"y" * 300_000
    client.send(
        f"POST {poll(sid)} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body[:100_000]
    )
    await client.writer.drain()
    await reading_paused(running)
    client.send(body[100_000:])
    running.engine.sessions[sid].send("first")
    assert (await client.response())[2] == b"4first"
    # the POST's body is incomplete in the buffer: reading must resume
    assert (await client.response())[2] == b"ok"
    client.get(poll(sid))
    assert (await client.response())[2] == body
    client.close()
