"""What a Python load generator would cost: ws-echo from aiohttp's client.

The same closed loop as the Node generator's ws-echo (50 clients, one message
in flight each, frames written by hand), so the two can be compared by CPU
time per round trip. Run it against any server on its own core:

    taskset -c 1 python bench/loadgen/py_echo_probe.py PORT [SECONDS]

It prints one JSON line; bench/run.py does not use it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import TYPE_CHECKING

import aiohttp

TEXT = "the quick brown fox jumps over the lazy dog"
URL = "ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"

if TYPE_CHECKING:
    # Generic over text decoding from aiohttp 3.13 on; annotations only.
    WebSocket = aiohttp.ClientWebSocketResponse[bool]


async def receive_text(ws: WebSocket) -> str:
    msg = await ws.receive()
    if msg.type != aiohttp.WSMsgType.TEXT:
        raise RuntimeError(f"expected a text message, got {msg.type!r}")
    return str(msg.data)


async def connect(session: aiohttp.ClientSession, port: int) -> WebSocket:
    ws = await session.ws_connect(URL.format(port=port), compress=0)
    opened = await receive_text(ws)
    if not opened.startswith("0"):
        raise RuntimeError(f"unexpected open packet {opened[:80]!r}")
    await ws.send_str("40")
    while not (await receive_text(ws)).startswith("40"):
        pass
    return ws


async def client(ws: WebSocket, stop_at: float, counts: list[int]) -> None:
    seq = 0
    while time.monotonic() < stop_at:
        seq += 1
        await ws.send_str(f'42["echo",{{"n":{seq},"s":"{TEXT}"}}]')
        while True:
            reply = await receive_text(ws)
            if reply == "2":
                await ws.send_str("3")
            elif reply.startswith('42["echo",'):
                break
        counts[0] += 1
    await ws.close()


async def main(port: int, seconds: float) -> None:
    async with aiohttp.ClientSession() as session:
        sockets = [await connect(session, port) for _ in range(50)]
        counts = [0]
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.gather(*(client(ws, wall0 + seconds, counts) for ws in sockets))
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    print(
        json.dumps(
            {
                "generator": "python-aiohttp",
                "round_trips": counts[0],
                "throughput": counts[0] / wall,
                "gen_cpu_pct": 100 * cpu / wall,
                "gen_cpu_us_per_round_trip": 1e6 * cpu / max(counts[0], 1),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 5.0))
