"""realtime.WSGIApp: Flask with plain ``def`` handlers on eventlet's WSGI
server, on gevent's and on werkzeug's threaded one (the WebSocket framed by
the core on the server's socket, on the loop's thread on the last),
with python-socketio's client on each transport. The server runs in its own
process (eventlet and asyncio do not share one); the protocol itself runs
the whole interop suite on both hosts (tests/interop)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import socket
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import socketio
from integrations.blocking_app import blocking_server, only_its_socket_waits
from werkzeug.serving import make_server

import realtime

APP = Path(__file__).with_name("wsgi_app.py")
BOUND = 10.0  # a hang guard only: every wait below ends on an event
HOSTS = ["eventlet", "gevent", "gevent-libuv", "threads"]
"""gevent-libuv: gevent on its libuv loop (GEVENT_LOOP=libuv) instead of libev,
whose io watchers the WebSockets' HubTransport and the doorbell also run on."""


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=HOSTS)
async def served(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, str]]:
    host, _, loop = request.param.partition("-")
    env = dict(os.environ, GEVENT_LOOP=loop) if loop else None
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(APP),
        host,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), BOUND)
    if not line.strip().isdigit():
        proc.kill()
        _, err = await proc.communicate()
        pytest.fail(f"the {request.param} app did not start: {err.decode(errors='replace')}")
    url = f"http://127.0.0.1:{int(line)}"
    try:
        if host == "gevent":  # the loop asked for is the loop that runs
            _, module = await get(url + "/gevent-loop")
            assert module.startswith("gevent.libuv" if loop == "libuv" else "gevent.libev"), module
        yield host, url
    finally:
        proc.kill()
        await proc.wait()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("transports", "expected"),
    [
        (["polling"], "polling"),
        (["websocket"], "websocket"),
        (["polling", "websocket"], "websocket"),
    ],
)
async def test_def_handlers_on_wsgi(
    served: tuple[str, str], transports: list[str], expected: str
) -> None:
    host, url = served
    client = socketio.AsyncClient(reconnection=False)
    news: asyncio.Queue[Any] = asyncio.Queue()
    slow_done: asyncio.Queue[Any] = asyncio.Queue()
    thread_done: asyncio.Queue[Any] = asyncio.Queue()
    client.on("news", news.put_nowait)
    client.on("slow_done", slow_done.put_nowait)
    client.on("thread_done", thread_done.put_nowait)
    client.on("question", lambda n: n * 2)
    await client.connect(url, transports=transports, wait_timeout=BOUND)
    try:
        await asyncio.wait_for(upgraded(client, expected), BOUND)
        echo = await client.call("echo", {"n": 1}, timeout=BOUND)
        assert echo == {"echo": {"n": 1}, "transport": expected}
        # a handler that blocks its thread (green, or a worker), then emits and answers
        assert await client.call("slow", 3, timeout=BOUND) == 3
        assert await asyncio.wait_for(slow_done.get(), BOUND) == 3
        # a background task of the handler's own waits for an ack with result()
        await client.emit("greenlet", 5)
        assert await asyncio.wait_for(thread_done.get(), BOUND) == 10
        # the server asks the client and waits for its ack in a handler
        assert await client.call("ask_me", timeout=BOUND) == {"reply": 42}
        # ... and awaits it in an async def
        assert await client.call("ask_me_async", timeout=BOUND) == {"reply": 42}
        # ... and in a thread of the handler's own
        await client.emit("in_a_thread", 4)
        assert await asyncio.wait_for(thread_done.get(), BOUND) == 8
        # an emit from a Flask view reaches the client; other paths are Flask's
        assert await get(url + "/broadcast/hi") == (200, "sent")
        assert await asyncio.wait_for(news.get(), BOUND) == "hi"
        assert await get(url + "/hello") == (200, "hello from flask")
        assert await get(url + "/runtime") == (200, host)
        # and so do the emits of a plain OS thread, and its background task
        assert await get(url + "/from-thread/yo") == (200, "started")
        assert await asyncio.wait_for(news.get(), BOUND) == "yo"
        assert await asyncio.wait_for(news.get(), BOUND) == "yo again"
    finally:
        await client.disconnect()


@contextlib.contextmanager
def on_werkzeug(app: realtime.WSGIApp) -> Iterator[str]:
    """``app`` served by werkzeug's threaded server; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        yield f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    finally:
        app.close()
        server.shutdown()
        serving.join(BOUND)


async def upgraded(client: socketio.AsyncClient, transport: str) -> None:
    while client.transport() != transport:
        await asyncio.sleep(0.01)


@pytest.mark.asyncio(loop_scope="module")
async def test_engine_answers_its_own_errors(served: tuple[str, str]) -> None:
    _, url = served
    status, body = await get(url + "/socket.io/?EIO=4&transport=carrier-pigeon")
    assert status == 400 and "Transport unknown" in body
    status, body = await get(url + "/socket.io/realtime.min.js")
    assert status == 200 and "io" in body
    status, body = await get(url + "/socket.io/socket.io.js")  # as Node serves it
    assert status == 200 and "root.io = client" in body


@pytest.mark.asyncio(loop_scope="module")
async def test_the_runtime_timer_ends_an_unanswered_call(served: tuple[str, str]) -> None:
    """A raw client that never acks: the handler's wait for its answer ends
    when the runtime's one timer fires at the ack's deadline."""
    _, url = served
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url + "/socket.io/?EIO=4&transport=websocket") as ws,
    ):
        assert (await asyncio.wait_for(ws.receive_str(), BOUND)).startswith("0{")
        await ws.send_str("40")
        assert (await asyncio.wait_for(ws.receive_str(), BOUND)).startswith("40{")
        await ws.send_str('42["ask_unanswered"]')
        seen: list[str] = []
        while not seen or not seen[-1].startswith('42["outcome"'):
            seen.append(await asyncio.wait_for(ws.receive_str(), BOUND))
        assert re.fullmatch(r'42\d+\["unanswered"\]', seen[0])  # asked, with an ack id
        assert seen[-1] == '42["outcome","timed out"]'


@pytest.mark.asyncio(loop_scope="module")
async def test_a_message_over_max_payload_closes_the_websocket(served: tuple[str, str]) -> None:
    _, url = served
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url + "/socket.io/?EIO=4&transport=websocket") as ws,
    ):
        opened = await asyncio.wait_for(ws.receive(), BOUND)
        assert opened.data.startswith("0{")
        await ws.send_str("4" + "x" * 1_000_001)  # max_payload is 1,000,000
        while True:
            message = await asyncio.wait_for(ws.receive(), BOUND)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        assert ws.close_code == 1009


def test_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="auto, eventlet, gevent, threads"):
        realtime.WSGIApp(realtime.Server(), mode="tornado")


async def test_a_blocking_def_handler_on_threads_holds_only_its_socket() -> None:
    """On threads a plain def handler runs on a worker thread: while one
    blocks, another socket's handlers run (and release it), and the blocked
    socket's next event waits its turn."""
    with on_werkzeug(realtime.WSGIApp(blocking_server(), mode="threads", handler_threads=2)) as url:
        await only_its_socket_waits(url)


def test_handler_threads_is_checked() -> None:
    with pytest.raises(ValueError, match="handler_threads is a count of 1 or more"):
        realtime.WSGIApp(realtime.Server(), handler_threads=0)


async def test_a_burst_on_a_threads_websocket_arrives_whole_and_in_order() -> None:
    """The loop reads the handed-over socket: a burst sent without waiting
    arrives whole and in order, and the request thread ends with it."""
    sio = realtime.Server()
    seen: list[int] = []

    @sio.on("count")
    def count(socket: realtime.Socket, n: int) -> None:
        seen.append(n)

    @sio.on("total")
    def total(socket: realtime.Socket) -> list[int]:
        return seen

    client = socketio.AsyncClient(reconnection=False)
    with on_werkzeug(realtime.WSGIApp(sio, mode="threads")) as url:
        try:
            await client.connect(url, transports=["websocket"])
            for n in range(300):
                await client.emit("count", n)
            assert await client.call("total", timeout=BOUND) == list(range(300))
        finally:
            await client.disconnect()


async def test_a_def_handler_reads_the_rooms_it_just_joined() -> None:
    """A def handler runs on a worker thread, and its joins are carried out
    on the loop's: reading the rooms right after the joins, by the socket
    or by the server, still shows every one of them."""
    sio = realtime.Server()
    names = [f"room-{n}" for n in range(50)]

    @sio.on("join_all")
    def join_all(socket: realtime.Socket) -> list[list[str]]:
        for name in names:  # one hand-over each: the loop has 50 to carry out
            socket.join(name)
        by_socket = sorted(socket.rooms)
        socket.leave(names[0])
        by_server = sorted(sio.rooms(socket.id))
        return [by_socket, by_server]

    client = socketio.AsyncClient(reconnection=False)
    with on_werkzeug(realtime.WSGIApp(sio, mode="threads")) as url:
        try:
            await client.connect(url, transports=["websocket"])
            by_socket, by_server = await client.call("join_all", timeout=BOUND)
            own = client.get_sid()
            assert by_socket == sorted([own, *names])
            assert by_server == sorted([own, *names[1:]])
        finally:
            await client.disconnect()


async def test_def_callbacks_and_outgoing_listeners_run_on_worker_threads() -> None:
    """What the application hands the server to call later (an ack callback,
    a broadcast's callback, an outgoing listener) runs where its handlers do:
    a plain def on a worker thread, where it may block, never on the loop's."""
    sio = realtime.Server()
    seen: dict[str, str] = {}
    done = threading.Event()

    def mark(what: str) -> None:
        seen[what] = threading.current_thread().name
        if len(seen) == 3:
            done.set()

    @sio.on_any_outgoing
    def outgoing(socket: realtime.Socket, event: str, *args: Any) -> None:
        if event == "question":
            mark("outgoing listener")

    @sio.on("ask")
    async def ask(socket: realtime.Socket) -> None:  # on the loop: the callbacks go from there
        socket.emit("question", 1, callback=lambda answer: mark("ack callback"))
        sio.timeout(BOUND).emit("question", 2, callback=lambda err, replies: mark("broadcast"))

    client = socketio.AsyncClient(reconnection=False)
    client.on("question", lambda n: n * 2)
    with on_werkzeug(realtime.WSGIApp(sio, mode="threads")) as url:
        try:
            await client.connect(url, transports=["websocket"])
            await client.emit("ask")
            assert await asyncio.to_thread(done.wait, BOUND)
        finally:
            await client.disconnect()
    assert set(seen) == {"outgoing listener", "ack callback", "broadcast"}
    assert all(name.startswith("realtime-handler") for name in seen.values()), seen


def test_the_engine_s_requests_go_out_without_waiting_for_acks() -> None:
    """WSGIApp sets TCP_NODELAY on the connection of each engine request
    (gevent's WSGIServer does not, and its long-polls waited 40 ms for the
    client's delayed ACK each); other paths' connections are the server's."""
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    served, _ = listener.accept()
    other_client = socket.create_connection(listener.getsockname())
    other, _ = listener.accept()
    app = realtime.WSGIApp(realtime.Server(), mode="threads")
    try:
        for sock, path in ((served, "/socket.io/"), (other, "/elsewhere")):
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            environ = {
                "REQUEST_METHOD": "GET",
                "PATH_INFO": path,
                "QUERY_STRING": "EIO=4&transport=polling",
                "wsgi.input": io.BytesIO(b""),
                "werkzeug.socket": sock,
            }
            statuses: list[str] = []
            answer = app(environ, lambda status, headers, seen=statuses: seen.append(status))
            body = b"".join(answer)
            assert statuses, path
            if path == "/socket.io/":
                assert statuses == ["200 OK"] and body.startswith(b"0{"), body
        assert served.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert other.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        app.close()
        for sock in (listener, client, served, other_client, other):
            sock.close()
