"""When the asyncio runtime writes: what a handler queues leaves in the loop
turn the handler finishes in, one write per socket."""

from __future__ import annotations

import asyncio
from typing import Any

import realtime
from realtime.http import AcceptWebSocket, HttpRequest
from realtime.runtime.asyncio import AsyncioRuntime, WebSocketConnection


class RecordingTransport(asyncio.Transport):
    """Keeps what the connection writes; the socket itself is not the subject."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return False

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass


def client_frame(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 126
    return bytes((0x81, 0x80 | len(data))) + b"\0\0\0\0" + data  # zero mask


async def connected(sio: realtime.Server) -> tuple[WebSocketConnection, RecordingTransport]:
    runtime = AsyncioRuntime(sio.engine)
    sio.bind(runtime)
    handshake = HttpRequest(
        "GET", "/socket.io/", {"EIO": "4", "transport": "websocket"}, {"upgrade": "websocket"}
    )
    decision = sio.engine.handle_request(handshake, runtime.now())
    assert isinstance(decision, AcceptWebSocket)
    conn, transport = runtime.websocket(decision), RecordingTransport()
    conn.connection_made(transport)
    conn.data_received(client_frame("40"))
    for _ in range(3):
        await asyncio.sleep(0)
    assert any(b'40{"sid"' in w for w in transport.writes)
    transport.writes.clear()
    return conn, transport


async def test_an_async_handlers_output_leaves_in_the_turn_it_finishes() -> None:
    sio = realtime.Server()

    @sio.on("echo")
    async def echo(socket: realtime.Socket, *args: Any) -> None:
        socket.emit("echo", *args)
        socket.emit("again", *args)

    conn, transport = await connected(sio)
    conn.data_received(client_frame('42["echo",1]'))
    # It never awaits, so it ran as a plain call: its output left with the
    # end of data_received, as a def handler's does.
    assert transport.writes == [b'\x81\x0c42["echo",1]\x81\x0d42["again",1]']


async def test_a_handler_that_awaits_writes_in_the_turn_its_task_finishes() -> None:
    sio = realtime.Server()

    @sio.on("echo")
    async def echo(socket: realtime.Socket, *args: Any) -> None:
        await asyncio.sleep(0)
        socket.emit("echo", *args)
        socket.emit("again", *args)

    conn, transport = await connected(sio)
    conn.data_received(client_frame('42["echo",1]'))
    assert transport.writes == []
    for _ in range(3):
        await asyncio.sleep(0)
    assert transport.writes == [b'\x81\x0c42["echo",1]\x81\x0d42["again",1]']


async def test_a_def_handlers_output_leaves_with_the_read() -> None:
    sio = realtime.Server()

    @sio.on("echo")
    def echo(socket: realtime.Socket, *args: Any) -> Any:
        socket.emit("echo", *args)
        return "ack"

    conn, transport = await connected(sio)
    conn.data_received(client_frame('42["echo",1]') + client_frame('427["echo",2]'))
    assert transport.writes == [b'\x81\x0c42["echo",1]\x81\x0c42["echo",2]\x81\x0a437["ack"]']


async def test_a_handler_that_suspends_writes_each_part_when_it_is_ready() -> None:
    sio = realtime.Server()
    gate = asyncio.Event()

    @sio.on("slow")
    async def slow(socket: realtime.Socket) -> None:
        socket.emit("before")
        await gate.wait()
        socket.emit("after")

    conn, transport = await connected(sio)
    conn.data_received(client_frame('42["slow"]'))
    for _ in range(3):
        await asyncio.sleep(0)
    assert transport.writes == [b'\x81\x0c42["before"]']
    gate.set()
    for _ in range(3):
        await asyncio.sleep(0)
    assert transport.writes == [b'\x81\x0c42["before"]', b'\x81\x0b42["after"]']
