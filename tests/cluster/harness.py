"""The two kinds of cluster node the tests run, and the Node peer process.

``NodePeer`` drives tests/cluster/peer.js: Node socket.io 4.8 nodes on the
Redis adapter, official socket.io-client 4.x clients (connected to any node,
ours too) and the Redis emitter. ``PyNode`` is a realtime server on a
RedisAdapter, served on a loopback port in the test's loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from services import realtime_cli

import realtime
from realtime.integrations.aiohttp import FrontDoorSite

HERE = Path(__file__).parent
STEP_LIMIT = 15.0
"""Seconds one awaited reply or event may take: a liveness bound that turns a
hang into a failure, never a speed check (they take milliseconds)."""


def to_wire(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bin": base64.b64encode(value).decode()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    return value


def from_wire(value: Any) -> Any:
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$bin"}:
            return base64.b64decode(value["$bin"])
        return {k: from_wire(v) for k, v in value.items()}
    return value


class NodePeer:
    """One ``node peer.js`` process."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self._seq = 0
        self._replies: dict[int, asyncio.Future[Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self.stderr = b""
        self._reader = asyncio.ensure_future(self._read())
        self._err_reader = asyncio.ensure_future(self._read_stderr())

    @classmethod
    async def start(cls) -> NodePeer:
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is not installed: the cluster tests need Node 18 or later")
        if not (HERE / "node_modules" / "@socket.io" / "redis-adapter").is_dir():
            pytest.fail(f"the Node peers are not installed: run `npm ci` in {HERE}")
        proc = await asyncio.create_subprocess_exec(
            node,
            str(HERE / "peer.js"),
            cwd=HERE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            message = json.loads(line)
            seq = message.get("seq")
            if "event" in message:
                self.events.append(message)
                self._changed.set()
            elif seq in self._replies:
                future = self._replies.pop(seq)
                if message["ok"]:
                    future.set_result(message["result"])
                else:
                    future.set_exception(AssertionError(f"peer.js: {message['error']}"))
        for future in self._replies.values():
            future.set_exception(AssertionError(f"peer.js exited:\n{self.stderr.decode()}"))
        self._changed.set()

    async def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(4096):
            self.stderr += chunk

    async def call(self, op: str, **fields: Any) -> Any:
        self._seq += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies[self._seq] = future
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"seq": self._seq, "op": op, **fields}).encode() + b"\n")
        await self.proc.stdin.drain()
        return await asyncio.wait_for(future, STEP_LIMIT)

    async def next_event(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first event not taken yet that ``match`` accepts; taken."""

        async def wait() -> dict[str, Any]:
            while True:
                for event in self.events:
                    if match(event):
                        self.events.remove(event)
                        return event
                if self.proc.returncode is not None or self._reader.done():
                    raise AssertionError(f"peer.js exited:\n{self.stderr.decode()}")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(wait(), STEP_LIMIT)

    async def received(self, client: str, name: str) -> list[Any]:
        """The arguments of the next event ``name`` that ``client`` got."""
        event = await self.next_event(
            lambda e: e["event"] == "received" and e["client"] == client and e["name"] == name
        )
        return list(from_wire(event["args"]))

    def got(self, client: str, name: str) -> list[list[Any]]:
        """Every event ``name`` that ``client`` got so far (not taken)."""
        return [
            from_wire(e["args"])
            for e in self.events
            if e["event"] == "received" and e["client"] == client and e["name"] == name
        ]

    async def client(self, cid: str, url: str, nsp: str = "/") -> str:
        reply = await self.call("client", id=cid, url=url, nsp=nsp)
        return str(reply["sid"])

    async def disconnected(self, client: str) -> str:
        """The reason of ``client``'s next disconnection."""
        event = await self.next_event(
            lambda e: e["event"] == "disconnect" and e["client"] == client
        )
        return str(event["reason"])

    async def join(self, client: str, room: str) -> Any:
        """``client`` asks its node to join ``room``; the node's answer."""
        return await self.call("client-emit", client=client, event="join", args=[room], ack=True)

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(AssertionError, asyncio.TimeoutError, ConnectionError):
                await asyncio.wait_for(self.call("close"), STEP_LIMIT)
            try:
                await asyncio.wait_for(self.proc.wait(), STEP_LIMIT)
            except asyncio.TimeoutError:
                self.proc.kill()  # by pid: this process only
                await self.proc.wait()
        self._reader.cancel()
        self._err_reader.cancel()


class PyNode:
    """A realtime server on a RedisAdapter, with the handlers the Node peer's
    nodes have: ``join``/``leave`` (acknowledged)."""

    def __init__(self, adapter: realtime.RedisAdapter, *, recovery: bool = False) -> None:
        self.adapter = adapter
        self.server = realtime.Server(adapter=adapter, connection_state_recovery=recovery)
        for nsp in ("/", "/chat"):
            self.server.on("join", self._join, namespace=nsp)
            self.server.on("leave", self._leave, namespace=nsp)
        self.runner: web.AppRunner | None = None
        self.site: FrontDoorSite | None = None
        self.url = ""

    @staticmethod
    def _join(socket: realtime.Socket, room: str) -> str:
        socket.join(room)
        return "joined"

    @staticmethod
    def _leave(socket: realtime.Socket, room: str) -> str:
        socket.leave(room)
        return "left"

    async def start(self) -> PyNode:
        app = web.Application()
        realtime.attach(self.server, app)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        self.site = FrontDoorSite(self.runner, "127.0.0.1", 0)
        await self.site.start()
        self.url = f"http://127.0.0.1:{self.site.port}"
        await asyncio.wait_for(self.adapter.ready(), STEP_LIMIT)
        return self

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.site is not None:
            self.site.close_all()
        await self.adapter.aclose()


async def start_workers(
    app: str, port: int, workers: int, *, cwd: Path, env: dict[str, str]
) -> tuple[asyncio.subprocess.Process, dict[str, int]]:
    """``python -m realtime APP --port PORT --workers N``: the supervisor, and
    each worker's private port by its name (``w0``...), from what it prints."""
    proc = await realtime_cli(app, "--port", str(port), "--workers", str(workers), cwd=cwd, env=env)
    assert proc.stdout is not None
    private: dict[str, int] = {}
    while len(private) < workers:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, "the supervisor ended early"
        found = re.match(r"realtime worker (w\d+): pid \d+, at 127\.0\.0\.1:(\d+)", line)
        if found:
            private[found[1]] = int(found[2])
    return proc, private


async def stop_workers(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM to the supervisor (by its pid), which stops its workers."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
