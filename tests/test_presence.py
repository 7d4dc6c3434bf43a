"""sio.presence with real clients: users counted once however many tabs,
offline when the last socket goes, per room, with online/offline handlers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import socketio
from services import front_door

import realtime
from realtime.presence import PresenceError


async def until(test: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if test():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(what)


async def test_a_user_with_three_tabs_is_one_person_until_the_last_tab_closes() -> None:
    sio = realtime.Server()
    changes: list[tuple[str, str, str]] = []

    @sio.on("connect")
    def connect(socket: realtime.Socket, auth: Any) -> None:
        sio.presence.track(socket, auth["user"])
        socket.join(auth.get("room", "lobby"))

    @sio.presence.on("online")
    def online(user: str, namespace: str) -> None:
        changes.append(("online", user, namespace))

    @sio.presence.on("offline")
    async def offline(user: str, namespace: str) -> None:
        changes.append(("offline", user, namespace))

    runner, port = await front_door(sio)
    url = f"http://127.0.0.1:{port}"
    tabs: list[socketio.AsyncClient] = []
    try:
        for user, room in (("sam", "lobby"), ("sam", "lobby"), ("sam", "desk"), ("ana", "desk")):
            tab = socketio.AsyncClient(reconnection=False)
            await tab.connect(url, auth={"user": user, "room": room}, transports=["websocket"])
            tabs.append(tab)
        await until(lambda: sio.presence.count() == 2, "two people online")
        presence = sio.presence
        assert presence.online() == ["ana", "sam"]
        assert presence.online(room="lobby") == ["sam"]
        assert presence.online(room="desk") == ["ana", "sam"]
        assert presence.count(room="desk") == 2
        assert len(presence.socket_ids("sam")) == 3
        assert presence.last_seen("sam") is None
        await tabs[0].disconnect()
        await tabs[1].disconnect()
        await until(lambda: len(presence.socket_ids("sam")) == 1, "two of sam's tabs gone")
        assert presence.is_online("sam") and presence.online(room="lobby") == []
        await tabs[2].disconnect()
        await until(lambda: not presence.is_online("sam"), "sam offline")
        seen = presence.last_seen("sam")
        assert seen is not None and seen > 0
        await until(lambda: len(changes) == 3, "three changes")
        assert changes == [("online", "sam", "/"), ("online", "ana", "/"), ("offline", "sam", "/")]
        assert presence.online() == ["ana"]
    finally:
        for tab in tabs:
            await tab.disconnect()
        await runner.cleanup()


async def test_untrack_and_retrack_and_bad_input() -> None:
    sio = realtime.Server()
    sockets: list[realtime.Socket] = []
    sio.on("connect", lambda socket, auth: sockets.append(socket))
    runner, port = await front_door(sio)
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
        await until(lambda: bool(sockets), "a socket")
        (socket,) = sockets
        presence = sio.presence
        assert presence.track(socket, "a") is True
        assert presence.track(socket, "a") is False
        assert presence.track(socket, "b") is True  # the socket moves to another user
        assert presence.online() == ["b"] and presence.last_seen("a") is not None
        assert presence.user_of(socket) == "b"
        assert presence.untrack(socket) is True and presence.online() == []
        with pytest.raises(PresenceError):
            presence.track(socket, "")
        with pytest.raises(PresenceError):
            presence.on("away")
    finally:
        await client.disconnect()
        await runner.cleanup()


def test_last_seen_is_bounded() -> None:
    from realtime.presence import Presence

    presence = Presence(realtime.Server(), max_last_seen=3)

    class FakeNamespace:
        name = "/"

    class FakeSocket:
        namespace = FakeNamespace()

        def __init__(self, sid: str) -> None:
            self.id = sid

    class QuietRuntime:
        def spawn(self, fn: Any, *args: Any) -> None: ...

    presence.server._runtime = QuietRuntime()  # type: ignore[assignment]
    for i in range(10):
        fake: Any = FakeSocket(f"s{i}")
        presence.track(fake, f"u{i}")
        presence.untrack(fake)
    assert [u for u in (f"u{i}" for i in range(10)) if presence.last_seen(u) is not None] == [
        "u7", "u8", "u9"
    ]  # fmt: skip
