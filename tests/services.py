"""Real services for the tests, started by the tests on free loopback ports.

``RedisServer`` runs Debian's ``redis-server`` (no persistence) and stops it
by pid; ``restart()`` brings it back on the same port, which is how the fault
tests take Redis away from a cluster. The fixture ``redis_server`` in
tests/cluster/conftest.py wraps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
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


@contextlib.asynccontextmanager
async def serving(
    proc: asyncio.subprocess.Process, port: int
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``proc`` once it accepts connections on ``port``; killed, by its pid,
    if it still runs when the block ends (a failed test's server)."""
    try:
        await wait_until_serving(port, proc)
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def stop_cleanly(proc: asyncio.subprocess.Process) -> bytes:
    """SIGTERM, by its pid, and the exit status 0 a clean shutdown ends
    with (10 s a hang guard); its stderr."""
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0, err.decode()
    return err


class Balancer:
    """A TCP balancer on loopback. Round-robin: each new connection goes to
    the next backend in turn, as a balancer without sticky sessions does.
    ``first_up``: each goes to the first backend that accepts it, as a
    balancer whose health check dropped the ones before."""

    def __init__(self, backends: list[int], *, first_up: bool = False) -> None:
        self.backends = backends
        self.first_up = first_up
        self.accepted = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        turn = self.accepted
        self.accepted += 1
        rotation = [self.backends[turn % len(self.backends)]]
        order = self.backends if self.first_up else rotation
        for port in order:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            return
        writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Nginx:
    """One nginx in the foreground on 127.0.0.1:``port``, configured from
    docs/deploy/nginx.conf with ``upstreams`` (ports of realtime nodes)."""

    CONF = Path(__file__).parent.parent / "docs" / "deploy" / "nginx.conf"

    def __init__(self, workdir: Path, upstreams: list[int]) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            pytest.fail("nginx is not installed (Debian package nginx)")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        servers = " ".join(f"server 127.0.0.1:{port};" for port in upstreams)
        text = self.CONF.read_text()
        filled = {"prefix": str(workdir), "port": str(self.port), "upstreams": servers}
        for key, value in filled.items():
            text = text.replace("{" + key + "}", value)
        self.conf = workdir / "nginx.conf"
        self.conf.write_text(text)
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.binary,
            "-c",
            str(self.conf),
            "-p",
            str(self.workdir),
            "-g",
            "daemon off;",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                if self.proc.returncode is not None:
                    break
                await asyncio.sleep(0.05)
        log = self.workdir / "error.log"
        raise RuntimeError("nginx did not start: " + (log.read_text() if log.exists() else ""))

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()  # by its pid: SIGTERM, a fast shutdown
        try:
            await asyncio.wait_for(proc.wait(), START_LIMIT)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


class RedisServer:
    """One redis-server process on 127.0.0.1:``port``."""

    def __init__(
        self, workdir: Path, *, password: str | None = None, acl_user: str = "", tls: bool = False
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (Debian package redis-server)")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.password = password
        self.acl_user = acl_user
        self.tls = tls
        self.certificate = workdir / "redis-cert.pem"
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        auth = ""
        if self.password is not None:
            auth = f"{self.acl_user}:{self.password}@"
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://{auth}127.0.0.1:{self.port}/0"

    def _make_certificate(self) -> None:
        """A self-signed certificate for 127.0.0.1 (openssl), which the
        clients are given as their CA."""
        key = self.workdir / "redis-key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-keyout",
                str(key),
                "-out",
                str(self.certificate),
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
        )

    def command(self) -> list[str]:
        if self.tls:
            key = self.workdir / "redis-key.pem"
            args = [self.binary, "--port", "0", "--tls-port", str(self.port)]
            args += ["--tls-cert-file", str(self.certificate), "--tls-key-file", str(key)]
            args += ["--tls-ca-cert-file", str(self.certificate), "--tls-auth-clients", "no"]
            args += ["--bind", "127.0.0.1"]
        else:
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
        if self.tls and not self.certificate.exists():
            self._make_certificate()
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
