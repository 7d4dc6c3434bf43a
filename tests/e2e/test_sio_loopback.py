"""The Socket.IO server over loopback: real HTTP and WebSockets, raw wire strings."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

import realtime
from realtime import ConnectionRefused

WAIT = 5  # seconds before a missing frame fails the test (never an assertion on speed)


def chat_server() -> realtime.Server:
    sio = realtime.Server()

    @sio.on("connect")
    async def on_connect(socket: realtime.Socket, auth: dict[str, Any]) -> None:
        if auth.get("token") == "bad":
            raise ConnectionRefused("bad token", {"hint": "renew"})
        socket.join("lobby")
        socket.emit("welcome", {"id": socket.id, "auth": auth})

    @sio.on("message")
    async def on_message(socket: realtime.Socket, *args: Any) -> str:
        sio.emit("message", *args, to="lobby", skip=socket)
        return "got it"

    @sio.on("ask")
    async def ask(socket: realtime.Socket, question: str) -> Any:
        return await socket.call("question", question, timeout=WAIT)

    @sio.on("echo")
    def echo(socket: realtime.Socket, *args: Any) -> tuple[Any, ...]:
        return args

    return sio


async def _ws_connect(
    http: aiohttp.ClientSession, srv: Any, auth: dict[str, Any] | None = None
) -> tuple[Any, str]:
    ws: Any = await http.ws_connect(srv.url("/socket.io/", EIO="4", transport="websocket"))
    opened: str = await ws.receive_str(timeout=WAIT)
    assert opened.startswith("0{")
    await ws.send_str("40" + (json.dumps(auth) if auth else ""))
    answer: str = await ws.receive_str(timeout=WAIT)
    assert answer.startswith('40{"sid":"')
    return ws, str(json.loads(answer[2:])["sid"])


async def _next_message(ws: Any) -> str:
    """The next Engine.IO message frame, skipping pings (answered)."""
    while True:
        frame: str = await ws.receive_str(timeout=WAIT)
        if frame == "2":
            await ws.send_str("3")
            continue
        assert frame.startswith("4"), frame
        return frame[1:]


async def test_v5_websocket_connect_event_ack_and_broadcast(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    srv = await serve(chat_server())
    alice, alice_id = await _ws_connect(http, srv, {"token": "a"})
    assert await _next_message(alice) == (
        f'2["welcome",{{"id":"{alice_id}","auth":{{"token":"a"}}}}]'
    )
    bob, bob_id = await _ws_connect(http, srv)
    assert await _next_message(bob) == f'2["welcome",{{"id":"{bob_id}","auth":{{}}}}]'

    await alice.send_str('421["message","hi bob"]')
    assert await _next_message(alice) == '31["got it"]'
    assert await _next_message(bob) == '2["message","hi bob"]'
    await alice.close()
    await bob.close()


async def test_v5_refusal_carries_message_and_data(serve: Any, http: aiohttp.ClientSession) -> None:
    srv = await serve(chat_server())
    async with http.ws_connect(srv.url("/socket.io/", EIO="4", transport="websocket")) as ws:
        await ws.receive_str(timeout=WAIT)
        await ws.send_str('40{"token":"bad"}')
        refusal = await ws.receive_str(timeout=WAIT)
        assert refusal == '44{"message":"bad token","data":{"hint":"renew"}}'


async def test_v5_call_inside_a_handler_and_binary_ack(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    srv = await serve(chat_server())
    ws, _ = await _ws_connect(http, srv)
    await _next_message(ws)  # welcome
    await ws.send_str('427["ask","ready?"]')
    assert await _next_message(ws) == '20["question","ready?"]'
    await ws.send_str('430["yes"]')
    assert await _next_message(ws) == '37["yes"]'

    await ws.send_str('451-8["echo",{"_placeholder":true,"num":0}]')
    await ws.send_bytes(b"\x00\x01\x02")
    assert await _next_message(ws) == '61-8[{"_placeholder":true,"num":0}]'
    assert await ws.receive_bytes(timeout=WAIT) == b"\x00\x01\x02"
    await ws.close()


async def test_v4_polling_auto_connect_and_event(serve: Any, http: aiohttp.ClientSession) -> None:
    srv = await serve(chat_server())
    base = {"EIO": "3", "transport": "polling", "b64": "1"}
    async with http.get(srv.url("/socket.io/", **base)) as resp:
        text = await resp.text()
    sid = json.loads(text[text.index("{") :])["sid"]
    query = {**base, "sid": sid}
    async with http.get(srv.url("/socket.io/", **query)) as resp:
        body = await resp.text()
    welcome = f'42["welcome",{{"id":"{sid}","auth":{{}}}}]'
    assert body == f"2:40{len(welcome)}:{welcome}"

    event = '423["message","v4 hi"]'
    async with http.post(srv.url("/socket.io/", **query), data=f"{len(event)}:{event}") as resp:
        assert await resp.text() == "ok"
    async with http.get(srv.url("/socket.io/", **query)) as resp:
        assert await resp.text() == '13:433["got it"]'


async def test_shutdown_disconnects_sockets_with_its_reason(
    serve: Any, http: aiohttp.ClientSession
) -> None:
    sio = chat_server()
    reasons: list[str] = []
    sio.on("disconnect", lambda socket, reason: reasons.append(reason))
    srv = await serve(sio)
    ws, _ = await _ws_connect(http, srv)
    await _next_message(ws)
    sio.shutdown()
    frames = []
    async for msg in ws:
        if msg.type is aiohttp.WSMsgType.TEXT:
            frames.append(msg.data)
    # On WebSocket the goodbye is the socket closing (no CLOSE packet, as
    # engine.io does), so clients reconnect once the server is back.
    assert ws.closed and "1" not in frames
    assert reasons == ["server shutting down"]
