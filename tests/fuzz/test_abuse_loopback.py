"""Abuse over loopback: a real aiohttp server, hostile clients, and each time a
well-behaved client connected alongside that must keep working.

Hostile clients speak through :class:`RawWebSocket` (every byte
chosen by the test, reading only when asked) or plain HTTP. Nothing here
asserts speed: waits are bounded by ``WAIT`` only so that a hang fails.

Tests named ``test_bug_*`` pin a bug found here; they fail until its fix lands.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

import realtime

SIO_WS = "/socket.io/?EIO=4&transport=websocket"
WAIT = 5.0
"""Seconds before a missing answer fails a test: a liveness bound, never a speed check."""


class RawWebSocket:
    """A client WebSocket over a bare socket: the test decides every byte.

    It reads only when asked, so it can also play a client that never reads
    (its receive buffer is kept small, so the server feels that quickly).
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.loop = asyncio.get_running_loop()
        self.buffer = b""
        self.status = 0  # of the HTTP handshake answer

    @classmethod
    async def connect(cls, port: int, target: str, *, rcvbuf: int | None = None) -> RawWebSocket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, ("127.0.0.1", port))
        raw = cls(sock)
        key = base64.b64encode(os.urandom(16)).decode()
        await raw.send_raw(
            (
                f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await raw._read_until(b"\r\n\r\n")
        raw.status = int(head.split(b" ", 2)[1])
        return raw

    async def send_raw(self, data: bytes) -> None:
        await asyncio.wait_for(self.loop.sock_sendall(self.sock, data), WAIT)

    async def send_text(self, text: str) -> None:
        await self.send_raw(client_frame(0x1, text.encode()))

    async def _fill(self) -> bool:
        chunk = await asyncio.wait_for(self.loop.sock_recv(self.sock, 65536), WAIT)
        self.buffer += chunk
        return bool(chunk)

    async def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            if not await self._fill():
                raise ConnectionError("closed during the handshake")
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    async def _read_exactly(self, size: int) -> bytes | None:
        while len(self.buffer) < size:
            if not await self._fill():
                return None
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    async def receive(self) -> tuple[int, bytes] | None:
        """The next frame as (opcode, payload); None when the server hung up."""
        head = await self._read_exactly(2)
        if head is None:
            return None
        size = head[1] & 0x7F
        if size >= 126:
            ext = await self._read_exactly(2 if size == 126 else 8)
            if ext is None:
                return None
            size = struct.unpack("!H" if len(ext) == 2 else "!Q", ext)[0]
        payload = await self._read_exactly(size)
        return None if payload is None else (head[0] & 0x0F, payload)

    async def receive_text(self) -> str:
        """The next text frame, skipping Engine.IO pings (answered)."""
        while True:
            frame = await self.receive()
            if frame is None or frame[0] == 0x8:
                raise ConnectionError("the server closed the connection")
            if frame[0] == 0x1:
                text = frame[1].decode()
                if text == "2":
                    await self.send_text("3")
                    continue
                return text

    async def closed_by_server(self) -> bool:
        """Read until the server sends a close frame or hangs up: True. False
        when the server stays silent for WAIT seconds with the socket open."""
        try:
            while True:
                frame = await self.receive()
                if frame is None or frame[0] == 0x8:
                    return True
        except asyncio.TimeoutError:  # before OSError: on 3.11+ it is TimeoutError
            return False
        except (ConnectionError, OSError):
            return True

    def close(self) -> None:
        self.sock.close()


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True) -> bytes:
    """One client frame; ``mask=False`` breaks RFC 6455 on purpose."""
    first = (0x80 if fin else 0) | opcode
    size = len(payload)
    if size < 126:
        head = bytes((first, (0x80 if mask else 0) | size))
    elif size < 65536:
        head = struct.pack("!BBH", first, (0x80 if mask else 0) | 126, size)
    else:
        head = struct.pack("!BBQ", first, (0x80 if mask else 0) | 127, size)
    if not mask:
        return head + payload
    key = os.urandom(4)
    stream = (key * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(size, "big")
    return head + key + masked


@pytest.fixture
async def raw_ws() -> AsyncIterator[Callable[..., Any]]:
    opened: list[RawWebSocket] = []

    async def connect(port: int, target: str, **options: Any) -> RawWebSocket:
        raw = await RawWebSocket.connect(port, target, **options)
        opened.append(raw)
        return raw

    yield connect
    for raw in opened:
        raw.close()


@dataclass
class App:
    """A Socket.IO server and what its handlers saw."""

    sio: realtime.Server
    gone: dict[str, str] = field(default_factory=dict)  # socket id -> disconnect reason
    counted: list[int] = field(default_factory=list)


def make_app(**options: Any) -> App:
    app = App(realtime.Server(**options))
    sio = app.sio

    @sio.on("echo")
    def echo(socket: realtime.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @sio.on("shout")
    def shout(socket: realtime.Socket, *args: Any) -> None:
        sio.emit("heard", *args)

    @sio.on("count")
    def count(socket: realtime.Socket, n: int) -> None:
        app.counted.append(n)

    @sio.on("disconnect")
    def disconnect(socket: realtime.Socket, reason: str) -> None:
        # Node's word for the handler, and the finer reason the engine gave.
        app.gone[socket.id] = f"{reason}: {socket.conn.close_reason}"

    return app


class GoodClient:
    """A well-behaved Socket.IO v5 client on a WebSocket: it answers pings
    and keeps every event it receives."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse[bool]) -> None:
        self.ws = ws
        self.events: list[Any] = []
        self.sid = ""  # of its socket in "/"
        self.engine_sid = ""
        self.rounds = 0

    @classmethod
    async def connect(cls, http: aiohttp.ClientSession, srv: Any) -> GoodClient:
        client = cls(await http.ws_connect(srv.url(EIO="4", transport="websocket")))
        opened = await client._frame()
        client.engine_sid = json.loads(opened[1:])["sid"]
        await client.ws.send_str("40")
        answer = await client._frame()
        client.sid = json.loads(answer[2:])["sid"]
        return client

    async def _frame(self) -> str:
        while True:
            msg = await self.ws.receive(timeout=WAIT)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"the well-behaved client lost its connection: {msg}")
            if msg.data == "2":
                await self.ws.send_str("3")
                continue
            return str(msg.data)

    async def until(self, done: Callable[[str], bool]) -> None:
        """Read (keeping events) until ``done(frame)``."""
        while True:
            frame = await self._frame()
            if frame.startswith("42"):
                self.events.append(json.loads(frame[2:]))
            if done(frame):
                return

    async def receive_events(self, count: int) -> None:
        """Read until ``count`` events have arrived in all."""
        if len(self.events) < count:
            await self.until(lambda _frame: len(self.events) >= count)

    async def check(self) -> None:
        """One round trip through a handler, acknowledged."""
        self.rounds += 1
        n = self.rounds
        await self.ws.send_str(f'42{n}["echo","still here",{n}]')
        await self.until(lambda frame: frame == f'43{n}["still here",{n}]')


async def raw_socketio(raw_ws: Any, srv: Any, **options: Any) -> tuple[Any, str]:
    """A raw WebSocket that has joined "/" (Socket.IO v5); returns it and its socket id."""
    raw = await raw_ws(srv.port, SIO_WS, **options)
    assert raw.status == 101
    assert (await raw.receive_text()).startswith("0{")
    await raw.send_text("40")
    answer = await raw.receive_text()
    return raw, json.loads(answer[2:])["sid"]


async def polling_open(http: aiohttp.ClientSession, srv: Any) -> tuple[str, str]:
    """A polling client that has joined "/" (Socket.IO v5): its engine and socket ids."""
    async with http.get(srv.url(EIO="4", transport="polling")) as resp:
        sid = str(json.loads((await resp.text())[1:])["sid"])
    async with http.post(srv.url(EIO="4", transport="polling", sid=sid), data=b"40") as resp:
        assert await resp.text() == "ok"
    async with http.get(srv.url(EIO="4", transport="polling", sid=sid)) as resp:
        answer = await resp.text()
    assert answer.startswith('40{"sid":"')
    return sid, json.loads(answer[2:])["sid"]


async def error_code(resp: aiohttp.ClientResponse) -> int:
    assert resp.status == 400
    return int(json.loads(await resp.text())["code"])


async def until_gone(app: App, sid: str) -> None:
    await until_true(lambda: sid in app.gone)


async def until_true(condition: Callable[[], bool]) -> None:
    """Wait (bounded by WAIT) for the server to reach a state."""
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server never got there")


# -- WebSocket ---------------------------------------------------------------------------

GARBAGE_FRAMES = {
    "unmasked client frame": client_frame(0x1, b"42[]", mask=False),
    "reserved opcode": client_frame(0x3, b"x"),
    "reserved bits": bytes((0xF1,)) + client_frame(0x1, b"4x")[1:],
    "invalid UTF-8 text": client_frame(0x1, b"4\xff\xfe"),
    "fragmented ping": client_frame(0x9, b"x", fin=False),
    "continuation first": client_frame(0x0, b"4x"),
    "long ping": client_frame(0x9, b"x" * 200),
    "claims 2**63 bytes": bytes((0x81, 0xFF)) + struct.pack("!Q", 2**63 - 1) + b"mask",
    "not a frame at all": b"GET / HTTP/1.1\r\n\r\n" + b"\x00" * 64,
    "unknown Engine.IO type": client_frame(0x1, b"9junk"),
    "base64 over WebSocket": client_frame(0x1, b"bAAAA"),
    "binary outside a packet": client_frame(0x2, b"\x01\x02"),
    "Socket.IO without payload": client_frame(0x1, b"42"),
    "100k open brackets": client_frame(0x1, b"42" + b"[" * 100_000),
    "100k nested objects": client_frame(
        0x1, b'42["e",' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"]"
    ),
}


async def test_garbage_websocket_frames_close_only_that_socket(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any
) -> None:
    app = make_app()
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    for name, garbage in GARBAGE_FRAMES.items():
        raw, sid = await raw_socketio(raw_ws, srv)
        await raw.send_raw(garbage)
        assert await raw.closed_by_server(), name
        await until_gone(app, sid)
        await good.check()
    assert good.sid not in app.gone
    sessions = srv.target.engine.sessions
    await until_true(lambda: set(sessions) == {good.engine_sid})


async def test_websocket_message_over_max_payload_is_cut_off(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any
) -> None:
    app = make_app(max_payload=10_000)
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    raw, sid = await raw_socketio(raw_ws, srv)
    await raw.send_text('42["echo","' + "x" * 20_000 + '"]')
    assert await raw.closed_by_server()
    await until_gone(app, sid)
    await good.check()
    # A frame header that announces more than max_payload, with no body sent.
    raw, sid = await raw_socketio(raw_ws, srv)
    await raw.send_raw(bytes((0x81, 0xFF)) + struct.pack("!Q", 50_000) + b"mask")
    assert await raw.closed_by_server()
    await good.check()


async def test_bug_lone_surrogate_broadcast_reaches_everyone(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any
) -> None:
    """A JSON-escaped lone surrogate, broadcast, made every recipient's
    frame encoding raise; the broadcast stopped at the first one."""
    app = make_app()
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    raw, _ = await raw_socketio(raw_ws, srv)
    await raw.send_text('42["shout","\\ud800 ok"]')
    await good.until(lambda frame: frame.startswith('42["heard"'))
    assert good.events[-1] == ["heard", "\ud800 ok"]
    await good.check()


# -- polling -----------------------------------------------------------------------------


async def test_post_over_max_payload_closes_only_that_session(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    app = make_app(max_payload=10_000)
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    for chunked in (False, True):
        sid, _ = await polling_open(http, srv)
        big = b'42["echo","' + b"x" * 20_000 + b'"]'

        async def body(data: bytes = big) -> Any:
            for i in range(0, len(data), 4096):
                yield data[i : i + 4096]

        url = srv.url(EIO="4", transport="polling", sid=sid)
        async with http.post(url, data=body() if chunked else big) as resp:
            assert await error_code(resp) == 3
        async with http.get(url) as resp:
            assert await error_code(resp) == 1
        await good.check()


async def test_ten_thousand_packets_in_one_post(serve: Any, http: aiohttp.ClientSession) -> None:
    app = make_app(events_per_second=None)  # every one delivered, in order, when unlimited
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    sid, _ = await polling_open(http, srv)
    body = "\x1e".join(f'42["count",{i}]' for i in range(10_000)).encode()
    assert len(body) < srv.target.engine.max_payload
    async with http.post(srv.url(EIO="4", transport="polling", sid=sid), data=body) as resp:
        assert await resp.text() == "ok"
    assert app.counted == list(range(10_000))
    await good.check()


async def test_overlapping_gets_end_that_session_only(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    app = make_app()
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    sid, _ = await polling_open(http, srv)
    url = srv.url(EIO="4", transport="polling", sid=sid)
    first = asyncio.ensure_future(http.get(url))
    session = srv.target.engine.sessions[sid]
    await until_true(lambda: session.polling_parked)
    async with http.get(url) as resp:
        assert await error_code(resp) == 3
    resp = await asyncio.wait_for(first, WAIT)
    assert resp.status == 200  # the parked GET is released, not left hanging
    resp.release()
    async with http.get(url) as resp:
        assert await error_code(resp) == 1
    await good.check()


# -- backpressure ------------------------------------------------------------------------


async def test_client_that_never_reads_is_cut_off_and_others_get_everything(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any
) -> None:
    app = make_app(max_buffer=1_000_000)
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    _, deaf = await raw_socketio(raw_ws, srv, rcvbuf=4096)  # joined, then never reads again
    _, deaf_polling = await polling_open(http, srv)  # joined, then never polls again
    blob = "x" * 16_384
    sent = 0
    for _ in range(400):  # 100 MB at most: a server that never cuts it off fails here
        for _ in range(16):
            app.sio.emit("blob", sent, blob)
            sent += 1
        await good.receive_events(sent)
        if deaf in app.gone and deaf_polling in app.gone:
            break
    assert app.gone.get(deaf) == "forced close: buffer overflow"
    assert app.gone.get(deaf_polling) == "forced close: buffer overflow"
    for _ in range(16):  # and the broadcast goes on for the others
        app.sio.emit("blob", sent, blob)
        sent += 1
    await good.until(lambda _frame: len(good.events) == sent)
    assert [event[1] for event in good.events] == list(range(sent))
    assert all(event == ["blob", i, blob] for i, event in enumerate(good.events))
    await good.check()


async def test_volatile_emits_skip_a_backpressured_websocket_and_count_it(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any
) -> None:
    app = make_app()
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    _, deaf = await raw_socketio(raw_ws, srv, rcvbuf=4096)  # joined, then never reads again
    deaf_socket = app.sio.get_socket(deaf)
    assert deaf_socket is not None and deaf_socket.conn.writable
    blob = "x" * 16_384
    sent = 0
    for _ in range(400):  # 6.5 MB at most: the transport pauses long before
        for _ in range(16):
            app.sio.emit("blob", sent, blob)
            sent += 1
        await good.receive_events(sent)
        if not deaf_socket.conn.writable:
            break
    assert not deaf_socket.conn.writable and deaf not in app.gone
    namespace = app.sio.of("/")
    dropped = namespace.volatile_dropped
    app.sio.volatile.emit("blob", sent, blob)  # the good client reads: it gets this one
    assert deaf_socket.volatile.emit("blob", -1, blob) is False
    assert namespace.volatile_dropped == dropped + 2
    await good.until(lambda _frame: len(good.events) == sent + 1)
    assert good.events[-1] == ["blob", sent, blob]
    await good.check()


# -- upgrades ----------------------------------------------------------------------------


async def test_upgrade_probed_but_never_finished_falls_back_to_polling(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any
) -> None:
    app = make_app(upgrade_timeout=0.3)
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    sid, _ = await polling_open(http, srv)
    raw = await raw_ws(srv.port, f"/socket.io/?EIO=4&transport=websocket&sid={sid}")
    assert raw.status == 101
    await raw.send_text("2probe")
    assert await raw.receive_text() == "3probe"
    assert await raw.closed_by_server()  # after the upgrade timeout
    url = srv.url(EIO="4", transport="polling", sid=sid)
    async with http.post(url, data=b'421["echo","by polling"]') as resp:
        assert await resp.text() == "ok"
    async with http.get(url) as resp:
        assert await resp.text() == '431["by polling"]'
    await good.check()


async def test_bug_half_finished_upgrade_without_probe_is_cut_off(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any
) -> None:
    """A WebSocket that joins a polling session and never probes was kept open
    for as long as the session lived; a second one was accepted as well."""
    app = make_app(upgrade_timeout=0.3)
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    sid, _ = await polling_open(http, srv)
    target = f"/socket.io/?EIO=4&transport=websocket&sid={sid}"
    silent = await raw_ws(srv.port, target)
    assert silent.status == 101
    second = await raw_ws(srv.port, target)
    # One upgrade at a time: the second is accepted and closed at once, as
    # engine.io does (a client library reports a failed handshake as an error).
    assert second.status == 101
    assert await second.closed_by_server()
    assert await silent.closed_by_server()
    url = srv.url(EIO="4", transport="polling", sid=sid)
    async with http.post(url, data=b'421["echo","by polling"]') as resp:
        assert await resp.text() == "ok"
    async with http.get(url) as resp:
        assert await resp.text() == '431["by polling"]'
    await good.check()


async def test_a_post_over_the_event_rate_closes_that_session_only(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    app = make_app(events_per_second=100.0, event_burst=500)
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    sid, _ = await polling_open(http, srv)
    body = "\x1e".join(f'42["count",{i}]' for i in range(10_000)).encode()
    url = srv.url(EIO="4", transport="polling", sid=sid)
    async with http.post(url, data=body) as resp:
        assert await resp.text() == "ok"
    # The burst went through in order, then the connection was closed.
    assert app.counted == list(range(len(app.counted)))
    assert 500 <= len(app.counted) < 10_000
    session = srv.target.engine.sessions.get(sid)
    assert session is None or session.closed
    assert srv.target.engine.counters.closes.get("event rate") == 1
    await good.check()
