"""No sticky sessions: two nodes behind a balancer that sends each new
connection to the next node in turn. A request for a session reaching the
node that does not own it is handed to the owner (the front door splices
the connection), so polling, acks and the WebSocket upgrade all work."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web
from services import Balancer, free_port

import realtime
from realtime.engine import Engine
from realtime.http import Forward, HttpRequest
from realtime.integrations.aiohttp import FrontDoorSite


def node(name: str, ports: dict[str, int]) -> realtime.Server:
    peers = {other: f"127.0.0.1:{port}" for other, port in ports.items()}
    sio = realtime.Server(node_id=name, peers=peers)

    @sio.on("echo")
    def echo(socket: realtime.Socket, value: Any) -> Any:
        return {"value": value, "node": name}

    return sio


@pytest.fixture
async def cluster() -> AsyncIterator[tuple[dict[str, realtime.Server], Balancer]]:
    ports = {"a": free_port(), "b": free_port()}
    servers = {name: node(name, ports) for name in ports}
    runners = []
    for name, sio in servers.items():
        app = web.Application()
        sio.attach(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await FrontDoorSite(runner, "127.0.0.1", ports[name]).start()
        runners.append(runner)
    balancer = Balancer([ports["a"], ports["b"]])
    await balancer.start()
    try:
        yield servers, balancer
    finally:
        await balancer.stop()
        for runner in runners:
            await runner.cleanup()


def forwarded(servers: dict[str, realtime.Server]) -> int:
    return sum(sio.engine.counters.forwarded for sio in servers.values())


async def test_polling_on_a_new_connection_per_request_reaches_the_owner(
    cluster: tuple[dict[str, realtime.Server], Balancer],
) -> None:
    servers, balancer = cluster
    base = f"http://127.0.0.1:{balancer.port}/socket.io/?EIO=4&transport=polling"
    # A new connection per request: the balancer alternates a, b, a, b...
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        async with http.get(base) as resp:
            opened = json.loads((await resp.text())[1:])
        sid = opened["sid"]
        owner = sid.rpartition(".")[2]
        url = f"{base}&sid={sid}"
        async with http.post(url, data=b"40") as resp:
            assert await resp.text() == "ok"
        async with http.get(url) as resp:
            assert (await resp.text()).startswith("40{")
        for i in range(6):
            async with http.post(url, data=f'42{i}["echo",{i}]'.encode()) as resp:
                assert await resp.text() == "ok"
            async with http.get(url) as resp:
                assert json.loads((await resp.text())[3:]) == [{"value": i, "node": owner}]
    assert forwarded(servers) >= 7  # every other request went to the other node first
    assert servers["b" if owner == "a" else "a"].engine.sessions == {}


async def test_the_websocket_upgrade_reaching_the_other_node_upgrades_the_owner_s_session(
    cluster: tuple[dict[str, realtime.Server], Balancer],
) -> None:
    servers, balancer = cluster
    base = f"http://127.0.0.1:{balancer.port}/socket.io/?EIO=4"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        async with http.get(f"{base}&transport=polling") as resp:  # connection 1: node a
            sid = json.loads((await resp.text())[1:])["sid"]
        assert sid.endswith(".a")
        async with http.post(f"{base}&transport=polling&sid={sid}", data=b"40") as resp:
            assert await resp.text() == "ok"  # connection 2: node b, forwarded
        # Connection 3 would be node a again: take b's turn with a throwaway.
        async with http.get(f"http://127.0.0.1:{balancer.port}/nothing") as resp:
            await resp.read()
        async with http.ws_connect(f"{base}&transport=websocket&sid={sid}") as ws:  # node b
            await ws.send_str("2probe")
            assert await ws.receive_str() == "3probe"
            await ws.send_str("5")
            await ws.send_str('421["echo","over ws"]')
            # The CONNECT answer waiting since the POST comes first, then the ack.
            frames = [await ws.receive_str(), await ws.receive_str()]
            assert frames[0].startswith("40{")
            assert json.loads(frames[1][3:]) == [{"value": "over ws", "node": "a"}]
    assert servers["b"].engine.counters.forwarded == 2  # the POST and the upgrade
    assert servers["b"].engine.sessions == {}


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"], ["websocket"]])
async def test_python_socketio_clients_work_through_the_balancer(
    cluster: tuple[dict[str, realtime.Server], Balancer], transports: list[str]
) -> None:
    servers, balancer = cluster
    clients = [socketio.AsyncClient(reconnection=False) for _ in range(4)]
    try:
        for client in clients:
            await client.connect(f"http://127.0.0.1:{balancer.port}", transports=transports)
        for round_ in range(5):
            for client in clients:
                reply = await client.call("echo", round_, timeout=10)
                assert reply["value"] == round_
                assert client.get_sid() in servers[reply["node"]].namespace_named("/").sockets
        if transports[-1] == "websocket":
            assert all(client.transport() == "websocket" for client in clients)
    finally:
        for client in clients:
            await client.disconnect()
    # Which node each request met depends on how the client pools its
    # connections; the tests above and below pin forwarding down exactly.


def test_a_sid_names_its_node_and_only_known_peers_are_forwarded_to() -> None:
    class Quiet:
        def on_open(self, conn: Any) -> None: ...

        def on_message(self, conn: Any, data: Any) -> None: ...

        def on_close(self, conn: Any, reason: str) -> None: ...

    engine = Engine(node_id="a", peers={"b": "10.0.0.2:8000"}, listener=Quiet())

    def get(sid: str, **headers: str) -> Any:
        query = {"EIO": "4", "transport": "polling", "sid": sid}
        return engine.handle_request(
            HttpRequest("GET", "/engine.io/", query, {"host": "h", **headers}), 0.0
        )

    assert get("xyz.b") == Forward("b", "10.0.0.2", 8000)
    assert get("xyz.evil").status == 400  # not a peer: never a connection to it
    assert get("xyz.b", **{"x-realtime-forwarded": "10.0.0.1"}).status == 400  # no second hop
    assert get("xyz").status == 400
    with pytest.raises(ValueError, match="node_id"):
        Engine(peers={"b": "10.0.0.2:8000"})
    with pytest.raises(ValueError, match="HOST:PORT"):
        Engine(node_id="a", peers={"b": "10.0.0.2"})
    with pytest.raises(ValueError, match="node names"):
        Engine(node_id="a.b")
