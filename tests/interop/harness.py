"""Run one client process and collect what it reports.

Each (client, transport mode) pair runs as one subprocess that goes through
the whole scenario list and prints one JSON line per check.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from aiohttp import web

from realtime.integrations.aiohttp import FrontDoorSite

HERE = Path(__file__).parent
RUN_LIMIT = 60.0
"""Seconds one client run may take before it is killed. Each check bounds
itself (15 s), a client stops early when its first connection fails, and a
healthy run takes about a second; this only catches a client that hangs."""


@dataclass
class ClientRun:
    """What one client process reported."""

    command: list[str]
    returncode: int | None
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    stray: list[str] = field(default_factory=list)
    stderr: str = ""

    def describe(self) -> str:
        tail = self.stderr.strip()[-2000:]
        return f"command: {' '.join(self.command)}\nexit code: {self.returncode}\nstderr: {tail}"


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` as ``realtime.run`` does (behind the front door) on a free
    loopback port; yields its URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = FrontDoorSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site.port}"
    finally:
        await runner.cleanup()
        site.close_all()


@asynccontextmanager
async def served_asgi(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI ``app`` under uvicorn, in this loop, on a free loopback
    port; yields its URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
            pytest.fail("uvicorn stopped before serving")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def served_process(script: str, *args: str) -> AsyncIterator[str]:
    """Serve the interop app with ``script`` (eventlet_server.py,
    gevent_server.py, threads_server.py: a WSGI server; ``args`` are its
    command line's, the server's builder) in a process of
    its own; yields its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), RUN_LIMIT)
    try:
        if not line.strip().isdigit():
            pytest.fail(f"the interop server of {script} did not start")
        yield f"http://127.0.0.1:{int(line)}"
    finally:
        proc.kill()
        await proc.wait()


def assert_complete(run: ClientRun, checks: Sequence[str]) -> None:
    """The client ran to its end and reported each check once, in order."""
    assert run.returncode == 0, run.describe()
    assert list(run.checks) == list(checks), run.describe()
    assert run.stray == [], run.describe()


def assert_passed(run: ClientRun, check: str) -> None:
    result = run.checks.get(check)
    assert result is not None, f"{check} was not reported\n{run.describe()}"
    assert result["ok"] is True, f"{check}: {result['detail']}"


def client_command(client: str, mode: str, url: str) -> list[str]:
    if client == "python":
        return [sys.executable, str(HERE / "client_py.py"), "--transport", mode, "--url", url]
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the interop tests need Node 18 or later")
    if not (HERE / "node_modules").is_dir():
        pytest.fail(f"the npm clients are not installed: run `npm ci` in {HERE}")
    version = {"sioc4": "4", "sioc3": "3", "sioc2": "2", "sioc1": "1"}[client]
    return [node, str(HERE / "client.js"), "--client", version, "--transport", mode, "--url", url]


def node_runs(script: str, url: str) -> Callable[[str, str], Awaitable[ClientRun]]:
    """``get(client, mode)``: the run of the Node scenario ``script`` with
    socket.io-client ``client`` ("4" or "2") over ``mode``, started once
    and shared by the tests that read it."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the interop tests need Node 18 or later")
    runs: dict[tuple[str, str], asyncio.Future[ClientRun]] = {}

    def get(client: str, mode: str) -> Awaitable[ClientRun]:
        if (client, mode) not in runs:
            command = [node, str(HERE / script), "--client", client]
            command += ["--transport", mode, "--url", url]
            runs[client, mode] = asyncio.ensure_future(run_client(command))
        return runs[client, mode]

    return get


async def run_client(command: list[str]) -> ClientRun:
    proc = await asyncio.create_subprocess_exec(
        *command,
        cwd=HERE,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), RUN_LIMIT)
    except asyncio.TimeoutError:
        proc.kill()
        stdout, stderr = await proc.communicate()
        stderr += f"\n(killed after {RUN_LIMIT} s)".encode()
    run = ClientRun(command, proc.returncode, stderr=stderr.decode(errors="replace"))
    for line in stdout.decode(errors="replace").splitlines():
        try:
            result = json.loads(line)
        except ValueError:
            run.stray.append(line)
            continue
        if not isinstance(result, dict) or "check" not in result:
            run.stray.append(line)
            continue
        if result["check"] in run.checks:
            run.stray.append(f"reported twice: {line}")
        run.checks[result["check"]] = result
    return run
