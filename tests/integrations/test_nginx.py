"""docs/deploy/nginx.conf, as docs/deployment.md gives it, in front of two
realtime nodes: round-robin, no sticky sessions, WebSocket through the proxy.
Official clients (socket.io-client 4.x) on polling, on polling upgrading to
WebSocket, and on WebSocket only."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from services import Nginx, free_port

import realtime
from realtime.integrations.aiohttp import FrontDoorSite

HERE = Path(__file__).parent


@pytest.fixture
async def nginx(tmp_path: Path) -> AsyncIterator[tuple[Nginx, dict[str, realtime.Server]]]:
    ports = {"a": free_port(), "b": free_port()}
    servers: dict[str, realtime.Server] = {}
    runners = []
    for name, port in ports.items():
        peers = {other: f"127.0.0.1:{p}" for other, p in ports.items()}
        sio = realtime.Server(node_id=name, peers=peers, trusted_proxies=["127.0.0.1"])

        @sio.on("echo")
        def echo(socket: realtime.Socket, value: Any, name: str = name) -> Any:
            return {"value": value, "node": name}

        app = web.Application()
        sio.attach(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await FrontDoorSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        servers[name] = sio
    proxy = Nginx(tmp_path, list(ports.values()))
    await proxy.start()
    try:
        yield proxy, servers
    finally:
        await proxy.stop()
        for runner in runners:
            await runner.cleanup()


@pytest.mark.parametrize("transports", ["polling", "polling,websocket", "websocket"])
async def test_official_clients_through_nginx_round_robin(
    nginx: tuple[Nginx, dict[str, realtime.Server]], transports: str
) -> None:
    proxy, servers = nginx
    node = shutil.which("node")
    assert node is not None, "the nginx test needs Node and socket.io-client 4.x"
    runs = [
        await asyncio.create_subprocess_exec(
            node,
            str(HERE / "balanced_client.js"),
            "--url",
            f"http://127.0.0.1:{proxy.port}",
            "--transports",
            transports,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    results = []
    for run in runs:
        out, _ = await asyncio.wait_for(run.communicate(), 60)
        assert run.returncode == 0, out
        results.append(json.loads(out))
    for result in results:
        # Every answer came from the session's owner, whichever node nginx chose.
        assert len(set(result["nodes"])) == 1
        assert result["transport"] == transports.rpartition(",")[2]
    forwarded = sum(sio.engine.counters.forwarded for sio in servers.values())
    if transports != "websocket":
        # nginx opens a new upstream connection per request, in turn: half
        # of each client's polling requests met the other node first.
        assert forwarded > 0
