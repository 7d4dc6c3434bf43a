"""The Engine over loopback: real HTTP, real WebSockets, raw wire strings."""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

import aiohttp

import realtime


def echo_engine(**options: Any) -> realtime.Engine:
    engine = realtime.Engine(**options)

    @engine.on("message")
    async def echo(conn: Any, data: Any) -> None:
        conn.send(data)

    return engine


async def test_polling_round_trip_both_revisions(serve: Any, http: aiohttp.ClientSession) -> None:
    srv = await serve(echo_engine())
    for eio, sep in (("4", "\x1e"), ("3", "")):
        async with http.get(srv.url(EIO=eio, transport="polling")) as resp:
            text = await resp.text()
        sid = json.loads(text[text.index("{") :])["sid"]
        body = "4héllo" if eio == "4" else "6:4héllo"
        async with http.post(
            srv.url(EIO=eio, transport="polling", sid=sid), data=body.encode()
        ) as r:
            assert await r.text() == "ok"
        async with http.get(srv.url(EIO=eio, transport="polling", sid=sid)) as resp:
            assert await resp.text() == body
        assert sep in ("\x1e", "")


async def test_websocket_direct_with_binary(serve: Any, http: aiohttp.ClientSession) -> None:
    srv = await serve(echo_engine())
    async with http.ws_connect(srv.url(EIO="4", transport="websocket")) as ws:
        opened = await ws.receive_str()
        assert opened.startswith("0{") and json.loads(opened[1:])["upgrades"] == []
        await ws.send_str("4text")
        assert await ws.receive_str() == "4text"
        await ws.send_bytes(b"\x00\xff")
        assert await ws.receive_bytes() == b"\x00\xff"
    async with http.ws_connect(srv.url(EIO="3", transport="websocket")) as ws:
        assert (await ws.receive_str()).startswith("0{")
        await ws.send_bytes(b"\x04\x00\xff")
        assert await ws.receive_bytes() == b"\x04\x00\xff"
        await ws.send_str("2probe")
        assert await ws.receive_str() == "3probe"


async def test_upgrade_over_loopback(serve: Any, http: aiohttp.ClientSession) -> None:
    engine = echo_engine()
    srv = await serve(engine)
    async with http.get(srv.url(EIO="4", transport="polling")) as resp:
        sid = json.loads((await resp.text())[1:])["sid"]
    poll = asyncio.ensure_future(http.get(srv.url(EIO="4", transport="polling", sid=sid)))
    await asyncio.sleep(0.05)
    async with http.ws_connect(srv.url(EIO="4", transport="websocket", sid=sid)) as ws:
        await ws.send_str("2probe")
        assert await ws.receive_str() == "3probe"
        resp = await poll
        assert await resp.text() == "6"
        resp.release()
        conn = engine.sessions[sid]
        conn.send("queued before 5")
        await ws.send_str("5")
        assert await ws.receive_str() == "4queued before 5"
        await ws.send_str("4after")
        assert await ws.receive_str() == "4after"
        assert conn.transport == "websocket"


async def test_websocket_message_over_max_payload_is_closed(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    engine = echo_engine(max_payload=100)
    srv = await serve(engine)
    async with http.ws_connect(srv.url(EIO="4", transport="websocket")) as bystander:
        await bystander.receive_str()
        async with http.ws_connect(srv.url(EIO="4", transport="websocket")) as ws:
            await ws.receive_str()
            await ws.send_str("4" + "x" * 200)
            msg = await ws.receive()
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await bystander.send_str("4still fine")
        assert await bystander.receive_str() == "4still fine"


async def test_ping_timeout_closes_silent_websocket(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    engine = echo_engine(ping_interval=0.05, ping_timeout=0.05)
    closed: list[str] = []
    engine.on("disconnect", lambda conn, reason: closed.append(reason))
    srv = await serve(engine)
    async with http.ws_connect(srv.url(EIO="4", transport="websocket")) as ws:
        await ws.receive_str()
        assert await ws.receive_str() == "2"
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert closed == ["ping timeout"]


JSONP_PAYLOADS = [
    "quote \" and ' apostrophe",
    "back\\slash \\n not newline",
    "new\nline\r\n",
    "sep \u2028 \u2029",
    "astral 😀 𝄞",
    "</script>",
]


async def test_jsonp_round_trip_evaluated_by_javascript(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    """Each GET body is run by a real JavaScript engine, as a browser would."""
    srv = await serve(echo_engine())
    for eio in ("3", "4"):
        async with http.get(srv.url(EIO=eio, transport="polling", j="0")) as resp:
            script = await resp.text()
        handshake = run_jsonp(script)
        sid = json.loads(handshake[handshake.index("{") :])["sid"]
        for text in JSONP_PAYLOADS:
            packet = "4" + text
            payload = packet if eio == "4" else f"{len(packet.encode('utf-16-le')) // 2}:{packet}"
            # what the JSONP client puts in its form field
            escaped = payload.replace("\\n", "\\\n").replace("\n", "\\n")
            async with http.post(
                srv.url(EIO=eio, transport="polling", sid=sid, j="0"), data={"d": escaped}
            ) as r:
                assert await r.text() == "ok"
            async with http.get(srv.url(EIO=eio, transport="polling", sid=sid, j="0")) as r:
                assert run_jsonp(await r.text()) == payload


def run_jsonp(script: str) -> str:
    program = (
        "let got; const ___eio = [s => { got = s; }];\n"
        + script
        + "\nprocess.stdout.write(JSON.stringify(got));"
    )
    out = subprocess.run(["node", "-e", program], capture_output=True, text=True, check=True)
    return str(json.loads(out.stdout))
