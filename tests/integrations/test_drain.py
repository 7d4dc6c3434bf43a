"""A graceful drain: on SIGTERM a node stops accepting, tells its clients to
go (so they reconnect, here to the second node behind a balancer), lets a
running handler finish, and exits cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest
from services import Balancer, free_port, realtime_cli, wait_until_serving

HERE = Path(__file__).parent


async def node(name: str, port: int) -> asyncio.subprocess.Process:
    env = {**os.environ, "NODE": name}
    proc = await realtime_cli("drain_app:sio", "--port", str(port), cwd=HERE, env=env)
    await wait_until_serving(port, proc)
    return proc


async def next_line(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 20)
    assert line, "the client ended early"
    result: dict[str, Any] = json.loads(line)
    return result


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_sigterm_moves_clients_to_the_next_node_after_handlers_finish(
    transport: str,
) -> None:
    node_js = shutil.which("node")
    assert node_js is not None, "the drain test needs Node and socket.io-client 4.x"
    port_a, port_b = free_port(), free_port()
    a = await node("A", port_a)
    b = await node("B", port_b)
    balancer = Balancer([port_a, port_b], first_up=True)
    await balancer.start()
    client = await asyncio.create_subprocess_exec(
        node_js,
        str(HERE / "drain_client.js"),
        "--url",
        f"http://127.0.0.1:{balancer.port}",
        "--transport",
        transport,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert await next_line(client) == {"node": "A", "connects": 1}
        assert a.stdout is not None
        while (line := await asyncio.wait_for(a.stdout.readline(), 20)) != b"":
            if line == b"slow handler started\n":
                break
        assert line == b"slow handler started\n"
        a.send_signal(signal.SIGTERM)  # while the slow handler runs
        gone = await next_line(client)
        # Told to go the way that makes a client reconnect, never "io server disconnect".
        assert gone == {"disconnect": "transport close"}
        assert await next_line(client) == {"node": "B", "connects": 2}
        out, _ = await asyncio.wait_for(a.communicate(), 20)
        assert a.returncode == 0
        assert b"slow handler finished" in out
        assert await asyncio.wait_for(client.wait(), 20) == 0
    finally:
        for proc in (client, a, b):
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await balancer.stop()
