"""The WebIM (examples/webim) as python-socketio clients see it: a tab that
records what it hears, and signing up in one."""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio

ROOT = Path(__file__).resolve().parents[2]
NS = "/webim"
EVENTS = ("session", "message", "presence", "state", "read")


def webim() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))  # last: `realtime` comes from where the run says
    return importlib.import_module("examples.webim.app")


async def until(check: Callable[[], Any], what: str) -> None:
    """Waits for ``check()``: a liveness bound of 20 s, never a speed check."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


class Tab:
    """One browser tab: a client on the WebIM namespace and what it heard."""

    def __init__(self, base: str, transport: str) -> None:
        self.base = base
        self.transport = transport
        self.client = socketio.AsyncClient(reconnection=False)
        self.heard: dict[str, list[Any]] = {}
        for event in EVENTS:
            self.client.on(event, self._keep(event), namespace=NS)

    def _keep(self, event: str) -> Callable[[Any], None]:
        return lambda data: self.heard.setdefault(event, []).append(data)

    def got(self, event: str) -> list[Any]:
        return self.heard.get(event, [])

    def presence_of(self, user: int) -> list[bool]:
        """The ``online`` of each presence notice about ``user`` heard so far."""
        return [p["online"] for p in self.got("presence") if p["id"] == user]

    async def open(self, token: str | None = None) -> Any:
        await self.client.connect(
            self.base, namespaces=[NS], auth={"token": token}, transports=[self.transport]
        )
        await until(lambda: self.got("session"), "the session event")
        return self.got("session")[0]

    async def call(self, event: str, *args: Any) -> Any:
        return await self.client.call(event, args, namespace=NS, timeout=10)

    async def close(self) -> None:
        await self.client.disconnect()


async def sign_up(base: str, name: str, transport: str = "websocket") -> tuple[Tab, Any]:
    tab = Tab(base, transport)
    assert await tab.open() is None  # no token: signed out
    answer = await tab.call("signup", name, "secret-" + name)
    assert "error" not in answer, answer
    return tab, answer
