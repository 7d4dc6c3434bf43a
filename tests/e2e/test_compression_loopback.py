"""permessage-deflate and HTTP compression over loopback, behind the front
door and on an aiohttp site: the handshake's answer, compressed frames both
ways (the client side is zlib, used here directly), a deflate bomb that
closes its own socket with 1009 while another keeps working, and gzip on
polling answers."""

from __future__ import annotations

import base64
import gzip
import json
import os
import zlib
from typing import Any

import aiohttp
from test_ws_connection import (
    TEXT,
    Connect,
    RawClient,
    client_frame,
    echo_server,
    handshake,
    text_frame,
    until,
)

OFFER = {"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"}


async def deflate_socketio(connect: Connect, srv: Any) -> tuple[RawClient, str]:
    """A Socket.IO client on a WebSocket that offered permessage-deflate;
    returns it and the 101's Sec-WebSocket-Extensions ("" if none)."""
    client = await connect(srv.port)
    await client.send(handshake(srv.port, extra=OFFER))
    status, headers = await client.head()
    assert status == 101
    agreed = headers.get("sec-websocket-extensions", "")
    if agreed:
        client.inflater = zlib.decompressobj(-15)
    assert (await client.text()).startswith("0{")
    await client.send(text_frame("40"))
    assert (await client.text()).startswith('40{"sid":"')
    return client, agreed


def compressed_text(text: str, packer: Any = None) -> bytes:
    packer = packer or zlib.compressobj(6, zlib.DEFLATED, -15)
    data = packer.compress(text.encode()) + packer.flush(zlib.Z_SYNC_FLUSH)
    return client_frame(TEXT | 0x40, data[:-4])  # RSV1 rides on the first byte


async def test_off_by_default_the_offer_is_declined(serve: Any, connect: Connect) -> None:
    srv = await serve(echo_server())
    client, agreed = await deflate_socketio(connect, srv)
    assert agreed == ""
    await client.echo("y" * 5000, 1)


async def test_compressed_both_ways_from_the_threshold_on(serve: Any, connect: Connect) -> None:
    srv = await serve(echo_server(per_message_deflate={"threshold": 1000}))
    client, agreed = await deflate_socketio(connect, srv)
    assert agreed == "permessage-deflate"
    big = json.dumps([str(i * 7919 % 10007) for i in range(2000)], separators=(",", ":"))
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    for ack in (1, 2):  # the second message uses the first's context, both ways
        await client.send(compressed_text(f'42{ack}["echo",{big}]', packer))
        assert await client.message() == f"43{ack}[{big}]"
    seen: list[bool] = []
    original = client.inflater.decompress

    def watch(data: bytes) -> bytes:
        seen.append(True)
        return original(data)  # type: ignore[no-any-return]

    client.inflater = type("Watched", (), {"decompress": staticmethod(watch)})()
    await client.echo("small", 3)
    assert seen == []  # under the threshold: a plain frame
    await client.echo("x" * 2000, 4)
    assert seen == [True]


async def test_a_deflate_bomb_closes_its_socket_with_1009_only(
    serve: Any, connect: Connect
) -> None:
    srv = await serve(echo_server(per_message_deflate=True))  # max_payload 1,000,000
    good, _ = await deflate_socketio(connect, srv)
    await good.echo("before", 1)
    bad, agreed = await deflate_socketio(connect, srv)
    assert agreed == "permessage-deflate"
    # 200 MB of zeros in about 200 KB: over max_payload once inflated, and
    # refused as soon as the bound is passed.
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = b""
    for _ in range(20):
        bomb += packer.compress(b"0" * 10_000_000)
    bomb += packer.flush(zlib.Z_SYNC_FLUSH)
    bomb = bomb[:-4]
    assert len(bomb) < 250_000
    await bad.send(client_frame(TEXT | 0x40, bomb))
    code, _ = await bad.closed_with()
    assert code == 1009
    await until(lambda: len(srv.target.engine.sessions) == 1)
    assert len(srv.target.runtime.websockets) == 1
    await good.echo("after", 2)
    await good.send(compressed_text('425["echo","still compressed"]'))
    assert await good.text() == '435["still compressed"]'


async def test_an_upgrade_from_polling_agrees_too(
    serve: Any, connect: Connect, http: aiohttp.ClientSession
) -> None:
    srv = await serve(echo_server(per_message_deflate=True))
    async with http.get(srv.url(EIO="4", transport="polling")) as resp:
        sid = json.loads((await resp.read())[1:])["sid"]
    polling = srv.url(EIO="4", transport="polling", sid=sid)
    async with http.post(polling, data=b"40") as resp:
        assert await resp.read() == b"ok"
    async with http.get(polling) as resp:
        assert (await resp.read()).startswith(b'40{"sid":"')
    client = await connect(srv.port)
    path = f"/socket.io/?EIO=4&transport=websocket&sid={sid}"
    key = base64.b64encode(os.urandom(16)).decode()
    request = handshake(srv.port, key=key, extra=OFFER).replace(
        b"/socket.io/?EIO=4&transport=websocket", path.encode(), 1
    )
    await client.send(request)
    status, headers = await client.head()
    assert status == 101
    assert headers["sec-websocket-extensions"] == "permessage-deflate"
    client.inflater = zlib.decompressobj(-15)
    await client.send(text_frame("2probe"))
    assert await client.text() == "3probe"
    await client.send(text_frame("5"))
    await until(lambda: srv.target.engine.sessions[sid].transport == "websocket")
    big = "q" * 5000
    await client.send(compressed_text(f'427["echo","{big}"]'))
    assert await client.message() == f'437["{big}"]'


async def test_polling_answers_are_gzipped(serve: Any, http: aiohttp.ClientSession) -> None:
    srv = await serve(echo_server())
    async with http.get(srv.url(EIO="4", transport="polling")) as resp:
        sid = json.loads((await resp.read())[1:])["sid"]
    srv.target.engine.sessions[sid].send("z" * 5000)
    url = srv.url(EIO="4", transport="polling", sid=sid)
    async with http.get(url, headers={"Accept-Encoding": "gzip"}, auto_decompress=False) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in resp.headers["Vary"]
        assert gzip.decompress(await resp.read()) == b"4" + b"z" * 5000
