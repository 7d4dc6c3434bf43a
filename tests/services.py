"""Real services for the tests, started by the tests on free loopback ports.

``RedisServer`` runs Debian's ``redis-server`` (no persistence) and stops it
by pid; ``restart()`` brings it back on the same port, which is how the fault
tests take Redis away from a cluster. The fixture ``redis_server`` in
tests/cluster/conftest.py wraps it.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

START_LIMIT = 30.0
"""Seconds redis-server may take to accept connections: a liveness bound
(it takes milliseconds), not a speed check."""


async def front_door(sio: Any) -> tuple[Any, int]:
    """``sio`` served on a loopback port by the embedded host's front door:
    ``(runner, port)``; ``await runner.cleanup()`` stops it."""
    from aiohttp import web

    from realtime.integrations.aiohttp import FrontDoorSite

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = FrontDoorSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site.port


async def realtime_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """``python -m realtime ARGS`` run from ``cwd``, never the checkout's root:
    ``-m`` puts the working directory ahead of PYTHONPATH, and the compiled
    run would import the checkout's sources."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "realtime",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_until_serving(port: int, proc: asyncio.subprocess.Process) -> None:
    for _ in range(200):
        if proc.returncode is not None:
            break
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError("server did not start")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One redis-server process on 127.0.0.1:``port``."""

    def __init__(self, workdir: Path, *, password: str | None = None, acl_user: str = "") -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (Debian package redis-server)")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.password = password
        self.acl_user = acl_user
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        auth = ""
        if self.password is not None:
            auth = f"{self.acl_user}:{self.password}@"
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        if self.password is not None and self.acl_user:
            # An ACL user with a password; the default user may do nothing.
            args += ["--user", self.acl_user, "on", f">{self.password}", "~*", "&*", "+@all"]
            args += ["--user", "default", "off"]
        elif self.password is not None:
            args += ["--requirepass", self.password]
        return args

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.command(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        await asyncio.wait_for(self._accepting(), START_LIMIT)

    async def _accepting(self) -> None:
        """Wait for the log line that says the server accepts connections."""
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        seen: list[bytes] = []
        while True:
            line = await proc.stdout.readline()
            if not line:
                raise RuntimeError(b"redis-server exited:\n" + b"".join(seen))
            seen.append(line)
            if b"Ready to accept connections" in line:
                # Keep draining its output so that it never blocks on a full pipe.
                self._drain = asyncio.ensure_future(proc.stdout.read())
                return

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()  # by pid: this process only
        await proc.wait()

    async def restart(self) -> None:
        """Stop, then start again on the same port (nothing is kept)."""
        await self.stop()
        await self.start()
