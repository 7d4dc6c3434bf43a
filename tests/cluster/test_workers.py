"""``--workers 2``: two processes on one port, sharing a Redis cluster, with
no sticky sessions: a request for one worker's session that the kernel
hands to the other is forwarded, and broadcasts cross workers."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from services import RedisServer, free_port, wait_until_serving

from .harness import start_workers, stop_workers

HERE = Path(__file__).parent


async def test_two_workers_share_a_port_sessions_and_broadcasts(
    redis_server: RedisServer,
) -> None:
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_server.url, "PYTHONPATH": str(HERE)}
    proc, private = await start_workers("workers_app:sio", port, 2, cwd=HERE, env=env)
    clients: list[socketio.AsyncClient] = []
    try:
        await wait_until_serving(port, proc)
        for worker_port in private.values():
            await wait_until_serving(worker_port, proc)
        # One polling session made on each worker, then every request on a
        # new connection to the shared port: the kernel picks the worker.
        public = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            sids = {}
            for name, worker_port in private.items():
                url = f"http://127.0.0.1:{worker_port}/socket.io/?EIO=4&transport=polling"
                async with http.get(url) as resp:
                    sid = json.loads((await resp.text())[1:])["sid"]
                assert sid.endswith("." + name)
                sids[name] = sid
                async with http.post(f"{public}&sid={sid}", data=b"40") as resp:
                    assert await resp.text() == "ok"
                async with http.get(f"{public}&sid={sid}") as resp:
                    assert (await resp.text()).startswith("40{")
            for _ in range(10):
                for name, sid in sids.items():
                    async with http.post(f"{public}&sid={sid}", data=b'421["where"]') as resp:
                        assert await resp.text() == "ok"
                    async with http.get(f"{public}&sid={sid}") as resp:
                        assert await resp.text() == f'431["{name}"]'
            # A shout from w0's client reaches w1's, through Redis.
            async with http.post(f"{public}&sid={sids['w0']}", data=b'42["shout","hi"]') as resp:
                assert await resp.text() == "ok"
            heard: list[str] = []
            for _ in range(50):
                async with http.get(f"{public}&sid={sids['w1']}") as resp:
                    heard += (await resp.text()).split("\x1e")
                if '42["heard","hi"]' in heard:
                    break
            assert '42["heard","hi"]' in heard

        # Official-protocol clients on the shared port, both transports.
        for transports in (["polling"], ["polling", "websocket"], ["websocket"]):
            client = socketio.AsyncClient(reconnection=False)
            await client.connect(f"http://127.0.0.1:{port}", transports=transports)
            clients.append(client)
        answers = {await client.call("where", timeout=10) for client in clients for _ in range(3)}
        assert answers <= {"w0", "w1"}
        got: list[Any] = []
        for client in clients:
            client.on("heard", lambda text: got.append(text))
        await clients[0].emit("shout", "all")
        for _ in range(500):
            if len(got) == len(clients):
                break
            await asyncio.sleep(0.01)
        assert got == ["all"] * len(clients)
    finally:
        for client in clients:
            await client.disconnect()
        await stop_workers(proc)
    assert proc.returncode == 0
