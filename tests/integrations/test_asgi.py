"""realtime.ASGIApp under real uvicorn: what the host adds around the engine
(routing, the wrapped app, static files, lifespan, mounts, a client leaving a
parked poll). The protocol itself runs the whole interop suite on this host
(tests/interop)."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
import socketio
from fastapi import FastAPI
from integrations.blocking_app import (
    assert_count_refused,
    blocking_server,
    only_its_socket_waits,
)
from interop.harness import served_asgi
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

import realtime
from realtime.runtime.asyncio import AsyncioRuntime

BOUND = 10.0  # a hang guard only: every wait below ends on a condition


def echo_server() -> tuple[realtime.Server, dict[str, Any]]:
    sio = realtime.Server()
    seen: dict[str, Any] = {}

    @sio.on("echo")
    async def echo(socket: realtime.Socket, data: Any) -> Any:
        seen["loop"] = asyncio.get_running_loop()
        return data

    @sio.on("disconnect")
    def gone(socket: realtime.Socket, reason: str) -> None:
        seen["reason"] = reason

    return sio, seen


async def roundtrip(url: str, transports: list[str], path: str = "socket.io") -> Any:
    client = socketio.AsyncClient()
    await client.connect(url, transports=transports, socketio_path=path, wait_timeout=BOUND)
    try:
        return await client.call("echo", {"n": 1}, timeout=BOUND), client.transport()
    finally:
        await client.disconnect()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


@pytest.fixture
async def wrapped(tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    (tmp_path / "index.html").write_text("<h1>chat</h1>")
    (tmp_path / "app.js").write_text("let x = 1;")

    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hello from starlette")

    other = Starlette(routes=[Route("/hello", hello)])
    sio, seen = echo_server()
    app = realtime.ASGIApp(
        sio, other, static_files={"/": str(tmp_path / "index.html"), "/static": str(tmp_path)}
    )
    async with served_asgi(app) as url:
        yield url, seen


async def test_engine_paths_are_served_and_handlers_run_on_the_servers_loop(
    wrapped: tuple[str, dict[str, Any]],
) -> None:
    url, seen = wrapped
    for transports, expected in ((["polling"], "polling"), (["websocket"], "websocket")):
        answer, transport = await roundtrip(url, transports)
        assert answer == {"n": 1}
        assert transport == expected
    # uvicorn serves on the loop of this test (served in-process)
    assert seen["loop"] is asyncio.get_running_loop()


async def test_other_paths_go_to_the_wrapped_app_and_static_files(
    wrapped: tuple[str, dict[str, Any]],
) -> None:
    url, _ = wrapped
    assert await get(url + "/hello") == (200, "hello from starlette")
    assert await get(url + "/") == (200, "<h1>chat</h1>")
    assert await get(url + "/static/app.js") == (200, "let x = 1;")
    status, _ = await get(url + "/static/../../etc/passwd")
    assert status == 404
    status, body = await get(url + "/socket.io/realtime.min.js")
    assert status == 200 and "io" in body
    status, body = await get(url + "/socket.io/socket.io.js")  # as Node serves it
    assert status == 200 and "root.io = client" in body
    status, _ = await get(url + "/nowhere")
    assert status == 404  # Starlette's own answer


async def test_without_a_wrapped_app_other_paths_are_404() -> None:
    sio, _ = echo_server()
    async with served_asgi(realtime.ASGIApp(sio)) as url:
        assert (await get(url + "/hello"))[0] == 404
        status, body = await get(url + "/socket.io/?EIO=4&transport=carrier-pigeon")
        assert status == 400 and "Transport unknown" in body  # the engine's answer


async def test_lifespan_starts_and_stops_the_runtime() -> None:
    sio, seen = echo_server()
    app = realtime.ASGIApp(sio)
    async with served_asgi(app) as url:
        assert app.runtime is not None  # lifespan.startup, before any request
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(url, transports=["websocket"], wait_timeout=BOUND)
    # uvicorn closes its WebSockets first (1012), then sends lifespan.shutdown
    await asyncio.wait_for(client.wait(), BOUND)
    assert seen["reason"] == "transport close"
    assert app.runtime is None
    assert not sio.engine.sessions


async def test_handler_threads_run_a_blocking_def_handler_off_the_servers_loop() -> None:
    """With ``handler_threads`` a plain def handler that blocks holds only
    its socket: uvicorn's loop serves the other client meanwhile. The
    workers end with the runtime, at lifespan shutdown."""
    app = realtime.ASGIApp(blocking_server(), handler_threads=2)
    async with served_asgi(app) as url:
        await only_its_socket_waits(url)
        workers = cast(AsyncioRuntime, app.runtime).handler_threads
        assert workers is not None and workers.size == 2
        threads = list(workers._threads)
    assert app.runtime is None and threads
    for thread in threads:
        await asyncio.to_thread(thread.join, BOUND)
        assert not thread.is_alive()


async def test_def_handlers_run_on_the_servers_loop_by_default() -> None:
    app = realtime.ASGIApp(blocking_server())
    async with served_asgi(app) as url:
        assert cast(AsyncioRuntime, app.runtime).offload is None  # the inline path
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(url, transports=["websocket"], wait_timeout=BOUND)
        try:
            after = await client.call("after", timeout=BOUND)
        finally:
            await client.disconnect()
    # the middleware, the connect handler and the handler: on uvicorn's loop, this test's
    assert after["threads"] == [threading.current_thread().name] * 3


@pytest.mark.parametrize("count", [-1, 1.5, "4", True, None])
def test_handler_threads_is_checked(count: Any) -> None:
    assert_count_refused(
        lambda n: realtime.ASGIApp(realtime.Server(), handler_threads=n),
        count,
        compiled=realtime.COMPILED,  # ASGIApp is compiled with the core
    )


async def test_mounted_in_starlette_and_fastapi() -> None:
    for kind in ("starlette", "fastapi"):
        sio, _ = echo_server()
        inner = realtime.ASGIApp(sio)
        app: Any
        if kind == "starlette":
            app = Starlette(routes=[Mount("/rt", app=inner)])
        else:
            app = FastAPI()

            @app.get("/api")
            def api() -> dict[str, str]:
                return {"ok": "fastapi"}

            app.mount("/rt", inner)
        async with served_asgi(app) as url:
            # the mount prefix comes before the engine's path; no lifespan
            # reaches a mounted app, so the first request starts the runtime
            for transports in (["polling"], ["websocket"], ["polling", "websocket"]):
                answer, _ = await roundtrip(url, transports, path="rt/socket.io")
                assert answer == {"n": 1}, (kind, transports)
            if kind == "fastapi":
                assert await get(url + "/api") == (200, '{"ok":"fastapi"}')


async def test_a_client_leaving_a_parked_poll_releases_it() -> None:
    sio, _ = echo_server()
    engine = sio.engine
    async with served_asgi(realtime.ASGIApp(sio)) as url, aiohttp.ClientSession() as http:
        async with http.get(url + "/socket.io/?EIO=4&transport=polling") as resp:
            sid = (await resp.text()).split('"sid":"')[1].split('"')[0]
        base = f"{url}/socket.io/?EIO=4&transport=polling&sid={sid}"
        async with http.post(base, data="40") as resp:
            assert resp.status == 200
        async with http.get(base) as resp:
            assert (await resp.text()).startswith("40")  # the CONNECT answer
        session = engine.sessions[sid]
        parked = asyncio.ensure_future(http.get(base))
        await until(lambda: session.polling_parked)
        parked.cancel()  # the client closes its connection under the parked GET
        await until(lambda: not session.polling_parked)
        # nothing queued was lost to the vanished request: the next poll gets it
        session.send("hello")
        async with http.get(base) as resp:
            assert await resp.text() == "4hello"


async def until(condition: Any) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), BOUND)


async def test_a_server_mounted_as_an_app_says_what_to_mount() -> None:
    sio = realtime.Server()
    api = FastAPI()
    api.mount("/socket.io", sio)  # type: ignore[arg-type]  # the mistake under test
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/socket.io/",
        "raw_path": b"/socket.io/",
        "root_path": "",
        "query_string": b"EIO=4&transport=polling",
        "headers": [],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    # Starlette answers 500 and re-raises for the server to log: the log's line
    with pytest.raises(TypeError, match=r"realtime\.ASGIApp\(sio, other_asgi_app="):
        await api(scope, receive, send)
    assert sent[0]["status"] == 500


@pytest.mark.parametrize(
    "host",
    [realtime.run, realtime.ASGIApp, realtime.WSGIApp, lambda app: realtime.attach(app, None)],
)
def test_an_app_where_the_server_belongs_says_what_to_use(host: Any) -> None:
    with pytest.raises(TypeError, match=r"not fastapi\.applications\.FastAPI.*ASGIApp\(sio"):
        host(FastAPI())


async def test_a_websocket_write_that_waits_for_room_goes_on_when_the_client_reads() -> None:
    """A client that stops reading pauses uvicorn's transport, and the
    server's write then waits in uvicorn's send: once the client reads
    again, that write and every one after it arrive, whole and in order."""
    sio = realtime.Server()
    big = "x" * 60_000
    count = 200  # 12 MB: more than the kernel's buffers (4 MB at most) and uvicorn's hold

    @sio.on("flood")
    def flood(socket: realtime.Socket) -> None:
        for i in range(count):
            socket.emit("big", i, big)

    async with served_asgi(realtime.ASGIApp(sio)) as url:
        port = int(url.rsplit(":", 1)[1])
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write(
                (
                    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                    f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                ).encode()
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), BOUND)
            assert head.startswith(b"HTTP/1.1 101"), head
            assert (await read_text(reader)).startswith("0{")
            writer.write(masked_text("40"))
            assert (await read_text(reader)).startswith("40")
            (session,) = sio.engine.sessions.values()
            writing = session.ws_waker.__self__  # type: ignore[union-attr]
            writer.write(masked_text('42["flood"]'))
            # the client reads nothing now: the batch's write waits for room
            await until(lambda: writing._writer is not None)
            for i in range(count):
                assert await read_text(reader) == f'42["big",{i},"{big}"]'
        finally:
            writer.close()


def masked_text(text: str) -> bytes:
    payload = text.encode()
    assert len(payload) < 126
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + body


async def read_text(reader: asyncio.StreamReader) -> str:
    """One whole text frame from the server (never masked, never fragmented here)."""

    async def read() -> str:
        b0, b1 = await reader.readexactly(2)
        assert b0 == 0x81, hex(b0)
        size = b1 & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await reader.readexactly(8))
        return (await reader.readexactly(size)).decode()

    return await asyncio.wait_for(read(), BOUND)
