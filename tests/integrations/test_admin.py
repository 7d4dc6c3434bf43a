"""The Admin UI's protocol (@socket.io/admin-ui 0.5), driven by a Socket.IO
client speaking it as the UI does: python-socketio's AsyncClient."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import socketio
from services import front_door

import realtime

AUTH = {"username": "admin", "password": "s3cret"}


class Watcher:
    """An admin client: every event the admin namespace sends it, in order."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self.client.on("*", self._record, namespace="/admin")

    async def _record(self, event: str, *args: Any) -> None:
        self.events.append((event, args))

    async def connect(self, url: str, auth: dict[str, Any]) -> None:
        await self.client.connect(url, namespaces=["/admin"], auth=auth, transports=["websocket"])

    def named(self, event: str) -> list[tuple[Any, ...]]:
        return [args for name, args in self.events if name == event]

    async def until(self, test: Callable[[], bool], what: str) -> None:
        for _ in range(500):
            if test():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{what}; got {[name for name, _ in self.events]}")


def build(**options: Any) -> realtime.Server:
    sio = realtime.Server()

    @sio.on("join")
    def join(socket: realtime.Socket, room: str) -> str:
        socket.join(room)
        return "ok"

    @sio.on("echo")
    def echo(socket: realtime.Socket, value: Any) -> None:
        socket.emit("echoed", value)

    @sio.on("name")
    def name(socket: realtime.Socket, value: str) -> str:
        socket.data["name"] = value
        socket.data |= {"named": True}
        return "ok"

    sio.instrument(**options)
    return sio


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Any]]:
    runners: list[Any] = []

    async def start(**options: Any) -> tuple[realtime.Server, str]:
        sio = build(**options)
        runner, port = await front_door(sio)
        runners.append(runner)
        return sio, f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_production_mode_authenticates_and_sends_config_and_stats(
    serve: Callable[..., Any],
) -> None:
    _sio, url = await serve(auth=AUTH, server_id="node-a")
    user = socketio.AsyncClient(reconnection=False)
    await user.connect(url, transports=["polling"])

    refused = Watcher()
    why: list[Any] = []
    refused.client.on("connect_error", lambda data: why.append(data), namespace="/admin")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await refused.connect(url, {"username": "admin", "password": "wrong"})
    assert why == [{"message": "invalid credentials"}]

    admin = Watcher()
    await admin.connect(url, AUTH)
    await admin.until(lambda: bool(admin.named("server_stats")), "no server_stats")
    ((session,),) = admin.named("session")
    ((config,),) = admin.named("config")
    assert config["supportedFeatures"] == [
        "EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS"
    ]  # fmt: skip
    assert admin.named("all_sockets") == []  # development mode only
    (stats,) = admin.named("server_stats")[0]
    assert stats["serverId"] == "node-a"
    assert stats["clientsCount"] == 2  # the user on polling and the admin on WebSocket
    assert stats["pollingClientsCount"] == 1
    assert {"name": "/", "socketsCount": 1} in stats["namespaces"]
    assert {"name": "/admin", "socketsCount": 1} in stats["namespaces"]
    kinds = {event["type"] for event in stats["aggregatedEvents"]}
    assert {"rawConnection", "packetsIn", "packetsOut", "bytesIn", "bytesOut"} <= kinds
    connections = [e for e in stats["aggregatedEvents"] if e["type"] == "rawConnection"]
    assert sum(e["count"] for e in connections) == 3  # user, refused admin, admin

    # A reload reuses the session instead of the password.
    again = Watcher()
    await again.connect(url, {"sessionId": session})
    await again.until(lambda: bool(again.named("config")), "no config for the session")
    for client in (admin.client, again.client, user):
        await client.disconnect()


async def test_development_mode_reports_sockets_rooms_and_events(
    serve: Callable[..., Any],
) -> None:
    _sio, url = await serve(auth=None, mode="development")
    early = socketio.AsyncClient(reconnection=False)
    await early.connect(url, transports=["websocket"])
    admin = Watcher()
    await admin.connect(url, {})
    await admin.until(lambda: bool(admin.named("all_sockets")), "no all_sockets")
    ((everyone,),) = admin.named("all_sockets")
    assert [(s["id"], s["nsp"], s["rooms"]) for s in everyone if s["nsp"] == "/"] == [
        (early.get_sid(), "/", [early.get_sid()])
    ]
    assert "ALL_EVENTS" in admin.named("config")[0][0]["supportedFeatures"]

    user = socketio.AsyncClient(reconnection=False)
    await user.connect(url, transports=["polling"])
    sid = user.get_sid()
    assert await user.call("join", "lobby", timeout=5) == "ok"
    await user.emit("echo", {"n": 1})
    await admin.until(lambda: bool(admin.named("event_sent")), "no event_sent")
    await user.disconnect()
    await admin.until(
        lambda: any(args[1] == "lobby" for args in admin.named("room_left")), "no room_left"
    )

    ((connected, _),) = admin.named("socket_connected")
    assert connected["id"] == sid and connected["nsp"] == "/"
    assert connected["transport"] == "polling"
    assert connected["handshake"]["address"] == "127.0.0.1"
    assert ("/", "lobby", sid) in [args[:3] for args in admin.named("room_joined")]
    received = [args[:3] for args in admin.named("event_received")]
    assert ("/", sid, ["join", "lobby"]) in received
    assert ("/", sid, ["echo", {"n": 1}]) in received
    assert ("/", sid, ["echoed", {"n": 1}]) in [args[:3] for args in admin.named("event_sent")]
    (gone,) = admin.named("socket_disconnected")
    assert gone[:2] == ("/", sid) and isinstance(gone[2], str)
    assert ("/", "lobby", sid) in [args[:3] for args in admin.named("room_left")]
    await early.disconnect()
    await admin.client.disconnect()


async def test_development_mode_reports_upgrades_and_data_changes(
    serve: Callable[..., Any],
) -> None:
    sio, url = await serve(auth=None, mode="development")
    admin = Watcher()
    await admin.connect(url, {})
    await admin.until(lambda: bool(admin.named("all_sockets")), "no all_sockets")
    async with aiohttp.ClientSession() as http:
        # A client that connects its socket over polling and upgrades later
        # (official clients probe at once, usually before their CONNECT lands).
        base = f"{url}/socket.io/?EIO=4&transport=polling"
        async with http.get(base) as resp:
            eio_sid = json.loads((await resp.text())[1:])["sid"]
        async with http.post(f"{base}&sid={eio_sid}", data="40") as resp:
            assert resp.status == 200
        async with http.get(f"{base}&sid={eio_sid}") as resp:
            sid = json.loads((await resp.text())[2:])["sid"]
        await admin.until(lambda: bool(admin.named("socket_connected")), "no socket_connected")
        ws_url = f"{url}/socket.io/?EIO=4&transport=websocket&sid={eio_sid}"
        async with http.ws_connect(ws_url) as ws:
            await ws.send_str("2probe")
            assert (await ws.receive_str()) == "3probe"
            await ws.send_str("5")
            await admin.until(
                lambda: (
                    ({"id": sid, "nsp": "/", "transport": "websocket"},)
                    in admin.named("socket_updated")
                ),
                "no socket_updated for the upgrade",
            )
            await ws.send_str('420["name","ada"]')
            await admin.until(
                lambda: (
                    ({"id": sid, "nsp": "/", "data": {"name": "ada", "named": True}},)
                    in admin.named("socket_updated")
                ),
                "no socket_updated for the data",
            )
            ((connected, _),) = admin.named("socket_connected")
            assert connected["transport"] == "polling" and connected["data"] == {}
            # The application sees its own data; the client id and transport
            # ride along under _admin for other nodes' UIs, as in the Node package.
            socket = sio.get_socket(sid)
            assert socket is not None and socket.data["name"] == "ada"
            assert socket.data["_admin"] == {"clientId": eio_sid[:12], "transport": "websocket"}
    await admin.client.disconnect()


async def test_commands_act_through_the_broadcast_operator(serve: Callable[..., Any]) -> None:
    sio, url = await serve(auth=AUTH)
    user = socketio.AsyncClient(reconnection=False)
    heard: list[Any] = []
    user.on("news", lambda *args: heard.append(args))
    await user.connect(url, transports=["websocket"])
    assert await user.call("join", "room1", timeout=5) == "ok"
    admin = Watcher()
    await admin.connect(url, AUTH)
    sid = user.get_sid()
    assert sid is not None

    await admin.client.emit("emit", ("/", "room1", "news", 1, "two"), namespace="/admin")
    await admin.until(lambda: heard == [(1, "two")], "the UI's emit did not arrive")
    await admin.client.emit("join", ("/", "room2", "room1"), namespace="/admin")
    await admin.until(lambda: "room2" in sio.rooms(sid), "the UI's join did not happen")
    await admin.client.emit("leave", ("/", "room1"), namespace="/admin")
    await admin.until(lambda: "room1" not in sio.rooms(sid), "the UI's leave did not happen")
    await admin.client.emit("_disconnect", ("/", False), namespace="/admin")
    await admin.until(lambda: not user.connected, "the UI's disconnect did not happen")
    await admin.client.disconnect()


async def test_read_only_offers_and_obeys_no_command(serve: Callable[..., Any]) -> None:
    sio, url = await serve(auth=AUTH, read_only=True)
    sio.of("/admin").on("sync", lambda socket: "synced")  # the test's own barrier
    user = socketio.AsyncClient(reconnection=False)
    await user.connect(url, transports=["websocket"])
    sid = user.get_sid()
    admin = Watcher()
    await admin.connect(url, AUTH)
    await admin.until(lambda: bool(admin.named("config")), "no config")
    assert admin.named("config")[0][0]["supportedFeatures"] == ["AGGREGATED_EVENTS"]
    await admin.client.emit("_disconnect", ("/", True), namespace="/admin")
    await admin.client.emit("join", ("/", "taken"), namespace="/admin")
    # One connection's events are handled in order: once "sync" is answered,
    # the commands before it have been seen, and refused.
    assert await admin.client.call("sync", namespace="/admin", timeout=5) == "synced"
    assert sid is not None and sio.get_socket(sid) is not None
    assert "taken" not in sio.rooms(sid)
    for client in (admin.client, user):
        await client.disconnect()


def test_bad_options_are_refused() -> None:
    sio = realtime.Server()
    with pytest.raises(ValueError, match="mode"):
        sio.instrument(auth=None, mode="staging")
    with pytest.raises(ValueError, match="username and a password"):
        sio.instrument(auth={"username": "admin"})
