"""The support desk (examples/desk) as python-socketio clients see it: a
served desk, and customers and agents that record what they hear."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

from realtime.integrations.aiohttp import FrontDoorSite

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse"
EVENTS = ("identity", "signed_in", "status", "message", "summary", "assigned", "removed")
MORE_EVENTS = ("typing", "agents", "connect_error")


def desk_module() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))  # last: `realtime` comes from where the run says
    return importlib.import_module("examples.desk.app")


class ServedDesk:
    """``create_app(**options)`` on a free loopback port."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        self.site: FrontDoorSite | None = None

    async def start(self) -> str:
        await self.runner.setup()
        self.site = FrontDoorSite(self.runner, "127.0.0.1", 0)
        await self.site.start()
        return f"http://127.0.0.1:{self.site.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()
        if self.site is not None:
            self.site.close_all()


class Peer:
    """One browser's socket in one company's namespace."""

    def __init__(self, base: str, company: str) -> None:
        self.base = base
        self.namespace = f"/desk/{company}"
        self.client = socketio.AsyncClient(reconnection=False)
        self.heard: dict[str, list[Any]] = {event: [] for event in (*EVENTS, *MORE_EVENTS)}
        for event in self.heard:
            self.client.on(event, self._recorder(event), namespace=self.namespace)

    def _recorder(self, event: str) -> Any:
        def record(data: Any) -> None:
            self.heard[event].append(data)

        return record

    async def connect(self, auth: dict[str, Any], transport: str = "websocket") -> None:
        # A sign-in hashes a password (scrypt, in a thread): on a loaded
        # machine that takes longer than the client's default second.
        await self.client.connect(
            self.base,
            namespaces=[self.namespace],
            auth=auth,
            transports=[transport],
            wait_timeout=10,
        )

    async def call(self, event: str, *args: Any) -> Any:
        return await self.client.call(event, args, namespace=self.namespace, timeout=10)

    async def emit(self, event: str, *args: Any) -> None:
        await self.client.emit(event, args, namespace=self.namespace)

    async def hear(self, event: str, count: int = 1) -> list[Any]:
        """The first ``count`` of ``event``, once that many came."""
        for _ in range(500):
            if len(self.heard[event]) >= count:
                return self.heard[event][:count]
            await asyncio.sleep(0.01)
        raise AssertionError(f"{self.namespace}: {event} x{count}, heard {self.heard[event]}")

    async def last(
        self, event: str, match: Callable[[Any], bool] | None = None, **fields: Any
    ) -> Any:
        """The latest ``event`` whose data has ``fields`` (or ``match``es),
        waiting for it."""
        for _ in range(500):
            for data in reversed(self.heard[event]):
                if match(data) if match else all(data.get(k) == v for k, v in fields.items()):
                    return data
            await asyncio.sleep(0.01)
        raise AssertionError(f"{self.namespace}: no {event} with {fields}: {self.heard[event]}")

    async def close(self) -> None:
        await self.client.disconnect()


async def lobby_call(base: str, event: str, form: dict[str, Any]) -> Any:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(base, namespaces=["/desk"], transports=["websocket"])
    try:
        return await client.call(event, form, namespace="/desk", timeout=10)
    finally:
        await client.disconnect()


async def new_company(base: str, slug: str, admin: str = "Ada") -> None:
    form = {"slug": slug, "name": slug.title(), "admin": admin, "password": PASSWORD}
    assert await lobby_call(base, "create_company", form) == {
        "ok": True,
        "url": f"/desk/{slug}/agent",
    }


async def agent(base: str, company: str, name: str, transport: str = "websocket") -> Peer:
    """An agent signed in with their password, their page ready."""
    peer = Peer(base, company)
    await peer.connect({"as": "agent", "name": name, "password": PASSWORD}, transport)
    await peer.hear("signed_in")
    ready = await peer.call("ready")
    assert ready["me"]["name"] == name
    return peer


async def customer(base: str, company: str, name: str, transport: str = "websocket") -> Peer:
    """A customer who started a conversation."""
    peer = Peer(base, company)
    await peer.connect({"as": "customer"}, transport)
    await peer.hear("identity")
    started = await peer.call("start", name)
    assert started["state"] in ("waiting", "open"), started
    return peer
