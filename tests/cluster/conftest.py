"""Cluster fixtures: a real redis-server per test, the Node peer, our nodes.

``redis_server`` is a redis-server started on a free loopback port for the
test and stopped by pid after it (tests/services.py); other suites that need
Redis can import the fixture from here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from services import RedisServer

import realtime

from .harness import NodePeer, PyNode


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def peer() -> AsyncIterator[NodePeer]:
    node_peer = await NodePeer.start()
    try:
        yield node_peer
    finally:
        await node_peer.close()


@pytest.fixture
async def py_node() -> AsyncIterator[Callable[..., Awaitable[PyNode]]]:
    """``await py_node(url, recovery=False, **adapter_options)``: a realtime
    node, serving (with connection state recovery if ``recovery``)."""
    nodes: list[PyNode] = []

    async def start(url: str, *, recovery: bool = False, **options: Any) -> PyNode:
        node = PyNode(realtime.RedisAdapter(url, **options), recovery=recovery)
        nodes.append(node)
        return await node.start()

    yield start
    for node in nodes:
        await node.close()
