"""The published advisories of our peers, replayed against a running server.

One test per advisory of Engine.IO and Socket.IO (npm ``engine.io``,
``socket.io``, ``socket.io-parser``), ``ws``, and python-engineio /
python-socketio, named after it. Each sends the advisory's input (or the
shape of it, where the advisory names a class of input) and asserts three
things: the attacker gets a clean close or an error answer, the server is
alive, and a well-behaved client connected alongside is unaffected.

Waits are bounded only so that a hang fails; no result depends on speed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import pickle
import socket
import struct
from typing import Any

import aiohttp
import pytest
from fuzz.test_abuse_loopback import (
    SIO_WS,
    WAIT,
    GoodClient,
    RawWebSocket,
    client_frame,
    make_app,
    polling_open,
    raw_socketio,
    raw_ws,
    until_gone,
    until_true,
)
from loopback import http, serve

import realtime

__all__ = ["http", "raw_ws", "serve"]


# -- helpers ---------------------------------------------------------------------


async def raw_http(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` on a fresh connection; the first answer: status, fields, body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
        size = int(fields.get("content-length", "0"))
        body = await asyncio.wait_for(reader.readexactly(size), WAIT) if size else b""
        return int(status_line.split(" ")[1]), fields, body
    finally:
        writer.close()


def upgrade_request(port: int, target: str, *fields: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *fields,
        "",
        "",
    ]
    return "\r\n".join(lines).encode("latin-1")


async def raw_upgrade(port: int, request: bytes) -> RawWebSocket:
    """A WebSocket opened with a handshake of the test's own making; its
    ``status`` tells whether the server switched protocols."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    raw = RawWebSocket(sock)
    await raw.send_raw(request)
    head = await raw._read_until(b"\r\n\r\n")
    raw.status = int(head.split(b" ", 2)[1])
    if raw.status != 101:
        body_size = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                body_size = int(line.split(b":")[1])
        await raw._read_exactly(body_size)
    return raw


async def error_answer(resp: aiohttp.ClientResponse) -> int:
    """The Engine.IO error code of a refused request: 403 for Forbidden
    (code 4), as engine.io answers, 400 for the others."""
    code = int(json.loads(await resp.text())["code"])
    assert resp.status == (403 if code == 4 else 400)
    return code


async def alive(good: GoodClient, app: Any) -> None:
    """The server answers, and the well-behaved client never lost its socket."""
    await good.check()
    assert good.sid not in app.gone


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a client that vanishes does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


async def started(
    serve: Any, http: aiohttp.ClientSession, **options: Any
) -> tuple[Any, Any, GoodClient]:
    app = make_app(**options)
    srv = await serve(app.sio)
    return app, srv, await GoodClient.connect(http, srv)


# -- Engine.IO (npm engine.io) ---------------------------------------------------


async def test_cve_2020_36048_engineio_oversized_payload(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any
) -> None:
    """engine.io < 4.0.0 accepted 100 MB bodies (and python-engineio parsed
    them slowly): one request could exhaust the server. Over ``max_payload``
    a POST is refused without being read and a WebSocket message closes."""
    app, srv, good = await started(serve, http, max_payload=10_000)
    sid, socket_id = await polling_open(http, srv)
    body = b"1:2" * 100_000  # EIO 3 style pings, or anything: only the size matters
    async with http.post(srv.url(EIO="4", transport="polling", sid=sid), data=body) as resp:
        assert await error_answer(resp) in (1, 3)
    await until_gone(app, socket_id)
    raw, ws_sid = await raw_socketio(raw_ws, srv)
    await raw.send_text('42["echo","' + "x" * 20_000 + '"]')
    assert await raw.closed_by_server()
    await until_gone(app, ws_sid)
    await alive(good, app)


async def test_cve_2022_21676_engineio_reserved_bits_right_after_the_handshake(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    """engine.io 4.0-6.1.0 crashed on a frame with RSV2/RSV3 set that came in
    the same packet as the upgrade request ("Invalid WebSocket frame: RSV2 and
    RSV3 must be clear", uncaught). Here: close 1002 on that socket only."""
    app, srv, good = await started(serve, http)
    for first in (0xB1, 0xC1, 0xF1):  # RSV2, RSV1+RSV2 (no extension), all three
        frame = bytes((first,)) + client_frame(0x1, b"40")[1:]
        raw = await raw_upgrade(srv.port, upgrade_request(srv.port, SIO_WS) + frame)
        assert raw.status == 101
        assert await raw.closed_by_server()
        raw.close()
    await alive(good, app)
    sessions = srv.target.engine.sessions
    await until_true(lambda: set(sessions) == {good.engine_sid})


async def test_cve_2022_41940_engineio_reset_while_upgrading(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    """engine.io < 3.6.1 / 6.2.1 died of an unhandled ECONNRESET when a client
    reset its connection during an upgrade. Here: the probe socket goes, the
    polling session it tried to upgrade carries on."""
    app, srv, good = await started(serve, http)
    sid, socket_id = await polling_open(http, srv)
    target = f"/socket.io/?EIO=4&transport=websocket&sid={sid}"
    for extra in (b"", client_frame(0x1, b"2probe"), client_frame(0x1, b"2probe")[:3]):
        sock = socket.create_connection(("127.0.0.1", srv.port))
        sock.sendall(upgrade_request(srv.port, target) + extra)
        await asyncio.sleep(0.01)
        reset(sock)
    # and a reset in the middle of a POST body and of a request head
    for cut in (
        b"POST /socket.io/?EIO=4&transport=polling&sid="
        + sid.encode()
        + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n42[",
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost:",
    ):
        sock = socket.create_connection(("127.0.0.1", srv.port))
        sock.sendall(cut)
        reset(sock)
    await alive(good, app)
    await until_true(lambda: srv.target.engine.sessions[sid].upgrade.value == "none")
    async with http.post(
        srv.url(EIO="4", transport="polling", sid=sid), data=b'42["count",7]'
    ) as resp:
        assert await resp.text() == "ok"
    await until_true(lambda: app.counted == [7])
    assert socket_id not in app.gone


async def test_cve_2023_31125_engineio_malformed_upgrade_requests(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    """engine.io 5.1.0-6.4.1 threw (uncaught TypeError) on a specially crafted
    upgrade request. Each odd upgrade here gets an answer or a clean close."""
    app, srv, good = await started(serve, http)
    sid, socket_id = await polling_open(http, srv)
    port = srv.port
    targets = {
        "/socket.io/?EIO=4&transport=polling": 200,  # upgrade headers on a polling handshake
        "/socket.io/?EIO=4&transport=constructor": 400,
        "/socket.io/?EIO=4&transport=__proto__": 400,
        "/socket.io/?EIO=4&transport=websocket&sid=__proto__": 400,
        "/socket.io/?EIO=4&transport=websocket&sid=constructor": 400,
        f"/socket.io/?EIO=3&transport=websocket&sid={sid}": 400,  # another revision
        f"/socket.io/?EIO=4&transport=websocket&sid={sid}&j=0": 101,  # a probe, timed
        "/socket.io/?EIO=4&transport=polling&transport=websocket": 200,  # the first wins
        "/socket.io/?EIO=9&transport=websocket": 400,
        "/socket.io/?transport=websocket": 400,
    }
    for target, expected in targets.items():
        raw = await raw_upgrade(port, upgrade_request(port, target))
        assert raw.status == expected, target
        raw.close()
    # and a WebSocket URL without any upgrade headers
    status, _, body = await raw_http(
        port, b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert status == 400 and json.loads(body)["code"] == 3
    await alive(good, app)
    assert socket_id not in app.gone or app.gone[socket_id].startswith("transport")


@pytest.mark.parametrize(
    "body",
    [
        b"\x00",  # a marker and nothing else
        b"\x01\xff",  # a binary packet of length zero
        b"\x00" + b"\x09" * 400 + b"\xff4",  # a length of 400 digits
        b"\x00\x05\xff4a",  # a length longer than the data
        b"\x01" + b"\x01" * 100_000,  # no 0xFF terminator at all
        b"\x02\x01\xff4",  # an unknown marker
        b"\x00\x01\xff",  # a text packet of length one, and no type
    ],
)
async def test_cve_2026_59725_engineio_invalid_binary_post(
    serve: Any, http: aiohttp.ClientSession, body: bytes
) -> None:
    """engine.io < 6.6.7: denial of service via invalid binary POST requests.
    An EIO 3 binary payload (and an EIO 4 octet-stream body) that breaks its
    framing is refused with 400; only that session closes."""
    app, srv, good = await started(serve, http)
    async with http.get(srv.url(EIO="3", transport="polling")) as resp:
        text = await resp.text()
    sid = json.loads(text[text.index("{") :])["sid"]
    url = srv.url(EIO="3", transport="polling", sid=sid)
    headers = {"Content-Type": "application/octet-stream"}
    async with http.post(url, data=body, headers=headers) as resp:
        assert await error_answer(resp) in (1, 3)
    async with http.post(
        srv.url(EIO="4", transport="polling", sid=sid), data=body, headers=headers
    ) as resp:
        assert resp.status == 400
    sid4, _ = await polling_open(http, srv)
    async with http.post(
        srv.url(EIO="4", transport="polling", sid=sid4), data=body, headers=headers
    ) as resp:
        assert await error_answer(resp) in (1, 3)
    await alive(good, app)


# -- Socket.IO (npm socket.io, socket.io-parser) ---------------------------------


@pytest.mark.parametrize(
    "event", ["error", "disconnect", "connect", "disconnecting", "newListener"]
)
async def test_cve_2024_38355_socketio_reserved_event_names(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any, event: str
) -> None:
    """socket.io < 2.5.1 / 4.6.2 crashed on an event named "error" (emitted on
    the socket's EventEmitter with no listener). An event a client names
    after the server's own never reaches a lifecycle handler: it is dropped
    or closes that connection, and no disconnect handler runs early."""
    app, srv, good = await started(serve, http)
    raw, socket_id = await raw_socketio(raw_ws, srv)
    await raw.send_text(f'42["{event}","spoofed reason"]')
    await raw.send_text('42["count",1]')  # still there? it is counted in order
    await until_true(lambda: app.counted == [1] or socket_id in app.gone)
    if socket_id in app.gone:
        assert "spoofed" not in app.gone[socket_id]
        assert await raw.closed_by_server()
    await alive(good, app)


@pytest.mark.parametrize(
    "packet",
    ['42[{"toString":"x"}]', "42[1]", "42[null]", "42[]", "42{}", '42"e"', "42[[]]", "42[{}, 1]"],
)
async def test_cve_2023_32695_socketio_parser_event_name_not_a_string(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any, packet: str
) -> None:
    """socket.io-parser < 4.2.3 threw on an event whose name was not a string
    (``[{"toString": ...}]``). Such a packet closes that connection only."""
    app, srv, good = await started(serve, http)
    raw, socket_id = await raw_socketio(raw_ws, srv)
    await raw.send_text(packet)
    assert await raw.closed_by_server()
    await until_gone(app, socket_id)
    await alive(good, app)


@pytest.mark.parametrize(
    "num", ['"toString"', '"__proto__"', "-1", "1.5", "5", "1e400", "null", "true", '{"a":1}']
)
async def test_cve_2022_2421_socketio_parser_placeholder_injection(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any, num: str
) -> None:
    """socket.io-parser < 3.3.3 / 3.4.2 / 4.0.5 / 4.2.1 took any ``num`` of an
    attachment placeholder, so a client could slip a function (``toString``)
    or an out-of-range object into the arguments. Refused: the connection
    closes and no handler sees the packet."""
    app, srv, good = await started(serve, http)
    raw, socket_id = await raw_socketio(raw_ws, srv)
    await raw.send_text(f'451-["count",{{"_placeholder":true,"num":{num}}}]')
    await raw.send_raw(client_frame(0x2, b"\x01"))
    assert await raw.closed_by_server()
    await until_gone(app, socket_id)
    assert app.counted == []
    await alive(good, app)


@pytest.mark.parametrize("declared", ["11", "999999999", "9" * 40, "-1", "0"])
async def test_cve_2020_36049_socketio_parser_attachment_count(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any, declared: str
) -> None:
    """socket.io-parser < 3.4.1 buffered any number of attachments a packet
    declared (resource exhaustion). Over ``max_attachments`` (10), or zero,
    or not a count: refused at the packet's header."""
    app, srv, good = await started(serve, http)
    raw, socket_id = await raw_socketio(raw_ws, srv)
    await raw.send_text(f'45{declared}-["count",{{"_placeholder":true,"num":0}}]')
    try:
        for _ in range(20):
            await raw.send_raw(client_frame(0x2, b"\x01"))
    except OSError:
        pass  # closed at the header already
    assert await raw.closed_by_server()
    await until_gone(app, socket_id)
    assert app.counted == []
    await alive(good, app)


async def test_cve_2020_28481_socketio_permissive_cors(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    """socket.io < 2.4.0 allowed every origin by default, reflecting it with
    credentials. Here the default admits the page's own origin only (polling
    and WebSocket), and ``"*"`` answers ``*`` without credentials."""
    app, srv, good = await started(serve, http)
    evil = {"Origin": "http://evil.example"}
    async with http.get(srv.url(EIO="4", transport="polling"), headers=evil) as resp:
        assert await error_answer(resp) == 4
        assert "Access-Control-Allow-Origin" not in resp.headers
    port = srv.port
    raw = await raw_upgrade(port, upgrade_request(port, SIO_WS, "Origin: http://evil.example"))
    assert raw.status == 403
    raw.close()
    await alive(good, app)

    star = realtime.Server(cors_allowed_origins="*")
    srv_star = await serve(star)
    for origin in ("http://evil.example", "null"):
        async with http.get(
            srv_star.url(EIO="4", transport="polling"), headers={"Origin": origin}
        ) as resp:
            assert resp.status == 200
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert "Access-Control-Allow-Credentials" not in resp.headers


# -- ws (npm) --------------------------------------------------------------------


@pytest.mark.parametrize("count", [2_001, 5_000])
async def test_cve_2024_37890_ws_handshake_with_many_headers(
    serve: Any, http: aiohttp.ClientSession, count: int
) -> None:
    """ws < 5.2.4 / 6.2.3 / 7.5.10 / 8.17.1 crashed on an upgrade request with
    more header fields than Node's ``maxHeadersCount`` (a missing
    ``Sec-WebSocket-Key`` read as undefined). Here: a 101 or a 4xx answer."""
    app, srv, good = await started(serve, http)
    port = srv.port
    fields = [f"x{i}: y" for i in range(count)]
    raw = await raw_upgrade(port, upgrade_request(port, SIO_WS, *fields))
    assert raw.status == 101 or 400 <= raw.status < 500
    raw.close()
    # the same with the WebSocket fields after the flood
    flood = "\r\n".join(fields)
    request = (
        f"GET {SIO_WS} HTTP/1.1\r\nHost: x\r\n{flood}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    raw = await raw_upgrade(port, request)  # and no Sec-WebSocket-Key at all
    assert 400 <= raw.status < 500
    raw.close()
    await alive(good, app)


@pytest.mark.parametrize("header", ["Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"])
async def test_cve_2021_32640_ws_protocol_header_redos(
    serve: Any, http: aiohttp.ClientSession, header: str
) -> None:
    """ws < 5.2.3 / 6.2.2 / 7.4.6: a ``Sec-WebSocket-Protocol`` of many blanks
    took a regular expression quadratic time. Here such a value (just under
    ``max_head``) is answered like any other: no subprotocol is chosen."""
    app, srv, good = await started(serve, http)
    port = srv.port
    for value in ("b" + " " * 7_000 + "x", " " * 7_000, "," * 7_000, "a," + " ," * 3_000):
        raw = await raw_upgrade(port, upgrade_request(port, SIO_WS, f"{header}: {value}"))
        assert raw.status == 101 or 400 <= raw.status < 500
        raw.close()
    await alive(good, app)


@pytest.mark.parametrize("size", [2**63 - 1, 2**31, 1_000_001, 0x10000])
async def test_cve_2016_10542_ws_huge_frame(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any, size: int
) -> None:
    """ws < 1.1.1 accepted frames of any size (up to 2**63 declared): one
    client could make it allocate without bound. A frame declaring more than
    ``max_payload`` closes the socket before any of it is buffered."""
    app, srv, good = await started(serve, http, max_payload=50_000)
    raw, socket_id = await raw_socketio(raw_ws, srv)
    await raw.send_raw(bytes((0x81, 0xFF)) + struct.pack("!Q", size) + b"mask" + b"x" * 1000)
    assert await raw.closed_by_server()
    await until_gone(app, socket_id)
    await alive(good, app)


@pytest.mark.parametrize("payload", [b"", b"abc", b"\x00" * 125, bytes(range(125))])
async def test_cve_2016_10518_ws_ping_answers_with_exactly_its_payload(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any, payload: bytes
) -> None:
    """ws < 1.0.1 answered a ping made from a number with uninitialised
    memory. Our pong carries the ping's payload, byte for byte, nothing more."""
    app, srv, good = await started(serve, http)
    raw, socket_id = await raw_socketio(raw_ws, srv)
    await raw.send_raw(client_frame(0x9, payload))
    frame = await raw.receive()
    while frame is not None and frame[0] != 0xA:  # past any Engine.IO traffic
        frame = await raw.receive()
    assert frame == (0xA, payload)
    await alive(good, app)
    assert socket_id not in app.gone


@pytest.mark.parametrize(
    "value",
    [
        "constructor",
        "__proto__",
        "permessage-deflate; client_max_window_bits=__proto__",
        "permessage-deflate; server_max_window_bits=0",
        "permessage-deflate;;;",
        'x; y="',
    ],
)
async def test_ws_extensions_header_crash(
    serve: Any, http: aiohttp.ClientSession, value: str
) -> None:
    """ws < 1.1.5 / 3.3.1 (npm advisory 550, GHSA-5v72-xg48-5rpm): a crafted
    ``Sec-WebSocket-Extensions`` crashed the handshake. No extension is ever
    accepted here, and a compressed (RSV1) frame afterwards closes with 1002."""
    app, srv, good = await started(serve, http)
    port = srv.port
    request = upgrade_request(port, SIO_WS, f"Sec-WebSocket-Extensions: {value}")
    raw = await raw_upgrade(port, request)
    assert raw.status == 101
    assert (await raw.receive_text()).startswith("0{")
    await raw.send_raw(bytes((0xC1,)) + client_frame(0x1, b"40")[1:])
    assert await raw.closed_by_server()
    raw.close()
    await alive(good, app)


# -- python-engineio / python-socketio -------------------------------------------


async def test_ghsa_cgwc_pv48_fhj5_python_engineio_pongs_start_nothing(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any
) -> None:
    """python-engineio <= 4.13.1 (CVE-2026-48802) started a heartbeat thread
    or task per connection and per PONG. Here nothing is started per PONG:
    20,000 unsolicited ones leave the timer heap and the task count as they
    were."""
    app, srv, good = await started(serve, http)
    raw, socket_id = await raw_socketio(raw_ws, srv)
    sid, polling_socket = await polling_open(http, srv)
    await good.check()
    deadlines = srv.target.engine.deadlines
    heap_before = len(deadlines)
    tasks_before = len(asyncio.all_tasks())
    await raw.send_raw(client_frame(0x1, b"3") * 10_000)
    async with http.post(
        srv.url(EIO="4", transport="polling", sid=sid), data="\x1e".join(["3"] * 10_000).encode()
    ) as resp:
        assert await resp.text() == "ok"
    await raw.send_text('42["count",1]')  # every PONG before it has been read
    await until_true(lambda: app.counted == [1])
    assert len(deadlines) <= heap_before
    assert len(asyncio.all_tasks()) <= tasks_before
    assert socket_id not in app.gone and polling_socket not in app.gone
    await alive(good, app)


async def test_one_post_of_a_third_of_a_million_pongs_is_refused_beyond_max_post_packets(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    """The class of the PONG floods above in one request: a 666 KB POST of
    333,000 one-byte packets (64 MB and a loop blocked for 1.2 s before).
    Each packet is handled as it is decoded, and past ``max_post_packets``
    (10,000) the POST gets 400 and its session closes."""
    app, srv, good = await started(serve, http)
    sid, socket_id = await polling_open(http, srv)
    body = "\x1e".join(["3"] * 333_000).encode()
    async with http.post(srv.url(EIO="4", transport="polling", sid=sid), data=body) as resp:
        assert await error_answer(resp) == 3
    await until_gone(app, socket_id)
    assert sid not in srv.target.engine.sessions
    await alive(good, app)


async def test_cve_2019_13611_python_engineio_cross_site_websocket_hijacking(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    """python-engineio < 3.8.0 did not check the ``Origin`` of WebSocket
    handshakes, so any page could open a socket with its visitor's cookies.
    Under the default setting a foreign origin is refused, ``null`` too."""
    app, srv, good = await started(serve, http)
    port = srv.port
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{port}.evil.example"):
        raw = await raw_upgrade(port, upgrade_request(port, SIO_WS, f"Origin: {origin}"))
        assert raw.status == 403, origin
        raw.close()
    own = await raw_upgrade(port, upgrade_request(port, SIO_WS, f"Origin: http://127.0.0.1:{port}"))
    assert own.status == 101
    own.close()
    await alive(good, app)


UNPICKLED: list[str] = []


def _unpickled() -> None:
    UNPICKLED.append("ran")


class _Payload:
    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (_unpickled, ())


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_cve_2025_61765_python_socketio_pickle_on_the_queue(protocol: int) -> None:
    """python-socketio < 5.14.0 unpickled what arrived on its message queue,
    so whoever could publish there ran code on every server. Our cluster
    channels carry msgpack or JSON only: a pickle is refused unread."""
    from realtime.bus.cluster import MalformedClusterMessage
    from realtime.redis import unpack

    data = pickle.dumps(_Payload(), protocol=protocol)
    with pytest.raises(MalformedClusterMessage):
        unpack(data, 1_000_000)
    assert UNPICKLED == []
