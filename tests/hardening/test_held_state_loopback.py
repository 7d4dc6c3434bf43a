"""What one WebSocket client can make a running server hold, over loopback.

Each test floods one input from a raw socket and asserts on what the server
holds (its reassembly buffer, its transport's write buffer) or that it closed
the socket, with a well-behaved client alongside that must keep working.
Waits are bounded only so that a hang fails; no result depends on speed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from fuzz.test_abuse_loopback import (
    GoodClient,
    client_frame,
    make_app,
    raw_socketio,
    raw_ws,
    until_gone,
    until_true,
)
from loopback import http, serve

__all__ = ["http", "raw_ws", "serve"]


async def _flood_until_gone(raw: Any, app: Any, sid: str, chunk: bytes, rounds: int) -> int:
    """Send ``chunk`` up to ``rounds`` times, letting the server read between
    sends as a network would; the number of rounds sent before it closed."""
    sent = 0
    try:
        while sent < rounds and sid not in app.gone:
            await raw.send_raw(chunk)
            sent += 1
            await asyncio.sleep(0)
    except OSError:
        pass  # the server closed while we were still sending
    await until_gone(app, sid)
    return sent


async def test_fragment_floods_are_cut_off_at_the_fragment_bound(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any
) -> None:
    app = make_app()
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    floods = {
        # 990,000 one-byte fragments: under max_payload in bytes, far over the count.
        "one-byte": (client_frame(0x0, b"x", fin=False) * 1000, 990),
        # endless empty continuations: no bytes at all
        "empty": (client_frame(0x0, b"", fin=False) * 1000, 990),
    }
    for name, (chunk, rounds) in floods.items():
        raw, sid = await raw_socketio(raw_ws, srv)
        await raw.send_raw(client_frame(0x1, b"4", fin=False))
        assert await _flood_until_gone(raw, app, sid, chunk, rounds) < rounds, name
        assert app.gone[sid] == "transport close: transport close", name
        await good.check()


async def test_pings_from_a_socket_that_never_reads_queue_one_pong(
    serve: Any, http: aiohttp.ClientSession, raw_ws: Any
) -> None:
    app = make_app()
    srv = await serve(app.sio)
    good = await GoodClient.connect(http, srv)
    raw, _ = await raw_socketio(raw_ws, srv, rcvbuf=4096)
    (conn,) = [c for c in srv.target.engine.runtime.websockets if c.session.id != good.engine_sid]
    ping = client_frame(0x9, b"p" * 125) * 1000
    for _ in range(200):  # 26 MB of pings, none of their pongs read
        await raw.send_raw(ping)
    await raw.send_text('42["count",1]')
    await until_true(lambda: app.counted == [1])  # every ping before it has been read
    assert conn.transport is not None and conn.link.paused
    # The write buffer stopped at the high-water mark (plus one write); the
    # rest of the answers collapsed into the one pong kept for later.
    buffered = conn.transport.get_write_buffer_size()
    assert buffered <= conn.HIGH_WATER + 64 * 1024
    assert conn._pending_pong == b"p" * 125
    await good.check()
