"""Server and load-generator processes: started pinned, always stopped by pid.

The server runs on core 0 and the load generator on core 1 (``taskset``
execs the program, so the pid we hold is the program's own). Every process
started here is stopped in a ``finally``, also on Ctrl-C and on errors.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from driver.env import BENCH, REPO, peers_python, project_python

SERVER_CORE = "0"
LOADGEN_CORE = "1"
LOADGEN = BENCH / "loadgen" / "main.mjs"
COMPILED_BUILD = REPO / "build" / "compiled"  # where `make compiled` installs


@dataclass(frozen=True)
class ServerSpec:
    key: str
    label: str
    argv: tuple[str, ...]
    pythonpath: str | None = None
    default: bool = True  # in a run that names no servers
    scenarios: tuple[str, ...] | None = None  # the only scenarios it can serve; None: every one

    def command(self, port: int) -> list[str]:
        return ["taskset", "-c", SERVER_CORE, *self.argv, str(port)]


def server_specs() -> list[ServerSpec]:
    """The servers, in the order every round visits them: five by default."""
    servers = BENCH / "servers"
    return [
        # Ours twice: the mypyc-compiled build (`make compiled`), which the
        # ratios and targets judge, and the pure-Python package it is built from.
        ServerSpec(
            "realtime-compiled",
            "realtime compiled (ours)",
            (str(project_python()), str(servers / "realtime_app.py")),
            pythonpath=str(COMPILED_BUILD),
        ),
        ServerSpec(
            "realtime",
            "realtime (ours, pure Python)",
            (str(project_python()), str(servers / "realtime_app.py")),
            pythonpath=str(REPO),
        ),
        ServerSpec(
            "python-socketio",
            "python-socketio",
            (str(peers_python()), str(servers / "psio_app.py")),
        ),
        ServerSpec("node-socketio", "Node socket.io", ("node", str(servers / "node_app.mjs"))),
        ServerSpec(
            "aiohttp-floor", "aiohttp floor", (str(peers_python()), str(servers / "raw_app.py"))
        ),
        # Ours on asyncio's own loop (the default is uvloop where installed):
        # measured for the choice of event loop, not a peer.
        ServerSpec(
            "realtime-asyncio",
            "realtime on asyncio",
            (str(project_python()), str(servers / "realtime_app.py"), "--loop=asyncio"),
            pythonpath=str(REPO),
            default=False,
        ),
        # Each other host against python-socketio on the same host
        # (report.host_rows): run when named, `--servers` in bench/README.md.
        *(
            spec
            for host in HOSTS
            for spec in (
                ServerSpec(
                    f"realtime-{host}",
                    f"realtime on {host} (compiled)",
                    (str(project_python()), str(servers / "realtime_app.py"), f"--host={host}"),
                    # The build `pip install` gives where a compiler exists.
                    pythonpath=str(COMPILED_BUILD),
                    default=False,
                ),
                ServerSpec(
                    f"python-socketio-{host}",
                    f"python-socketio on {host}",
                    (str(peers_python()), str(servers / "psio_app.py"), f"--host={host}"),
                    default=False,
                ),
                # What the host's own HTTP handling allows on long-polling: bare
                # Engine.IO on it, which report.floor_rows reads the two above against.
                ServerSpec(
                    f"floor-{host}",
                    f"floor on {host} (bare Engine.IO, polling only)",
                    (str(peers_python()), str(servers / "floor_app.py"), f"--host={host}"),
                    default=False,
                    scenarios=("polling-echo",),
                ),
            )
        ),
        # Ours on threads with the echo an async def, which runs on the loop's
        # thread instead of a worker's: what a handler that never blocks saves.
        ServerSpec(
            "realtime-threads-async",
            "realtime on threads, async def echo (compiled)",
            (
                str(project_python()),
                str(servers / "realtime_app.py"),
                "--host=threads",
                "--echo=async",
            ),
            pythonpath=str(COMPILED_BUILD),
            default=False,
        ),
    ]


HOSTS = ("uvicorn", "eventlet", "gevent", "gunicorn", "threads")
"""The hosts besides the embedded one that have a row each: ours and
python-socketio's, both served by that host (ASGIApp on uvicorn, WSGIApp on
eventlet's WSGI server, on gevent's, on gunicorn's gthread worker and on werkzeug's threaded
one), and for polling-echo the host's floor (servers/floor_app.py)."""


def unavailable_reason(spec: ServerSpec) -> str | None:
    """Why a server cannot run here (ours may not have landed yet), or None."""
    if not spec.key.startswith("realtime"):
        return None
    probe = "import realtime; realtime.Server; realtime.run"
    if spec.key != "realtime-asyncio":
        probe += "; import uvloop"  # the default loop: measure what users get
    if spec.key == "realtime-compiled":
        probe += "; assert realtime.COMPILED, 'not compiled: run make compiled'"
    env = dict(os.environ, PYTHONPATH=spec.pythonpath or str(REPO))
    # cwd: with -c the current directory comes first on sys.path, and the
    # checkout's pure package would shadow the compiled build.
    out = subprocess.run(
        [spec.argv[0], "-c", probe],
        env=env,
        cwd=BENCH / "servers",
        capture_output=True,
        text=True,
        timeout=60,
    )
    if out.returncode == 0:
        return None
    lines = out.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit {out.returncode}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(proc: subprocess.Popen[Any], grace: float = 1.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds, then SIGKILL to what it
    started; by pid, never by name.

    The grace is short on purpose: a benchmark server keeps nothing, and
    aiohttp's graceful shutdown would otherwise wait out parked long-polls.
    """
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(grace)
    # What it started goes with it (gunicorn's worker outlived its master by
    # seconds, and took CPU from the next server's run): the session it leads
    # (running_server starts it in one of its own) is its pid's process group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


class ServerFailed(RuntimeError):
    pass


def wait_listening(proc: subprocess.Popen[Any], port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerFailed(f"server exited with {proc.returncode} before listening")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise ServerFailed(f"server not listening on {port} after {timeout:.0f}s")


@contextlib.contextmanager
def running_server(spec: ServerSpec, log: IO[str]) -> Iterator[tuple[int, int]]:
    """Start ``spec`` pinned to the server core; yields (pid, port)."""
    port = free_port()
    env = dict(os.environ)
    if spec.pythonpath is not None:
        env["PYTHONPATH"] = spec.pythonpath
    env["PYTHONUNBUFFERED"] = "1"
    log.write(f"--- {spec.key} on port {port}\n")
    log.flush()
    # A session of its own: a Ctrl-C in the terminal reaches only the driver,
    # which then stops this process by its pid.
    proc = subprocess.Popen(
        spec.command(port),
        cwd=BENCH,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_listening(proc, port, timeout=30.0)
        yield proc.pid, port
        if proc.poll() is not None:
            raise ServerFailed(f"server exited with {proc.returncode} during the scenario")
    finally:
        stop(proc)


def run_loadgen(
    scenario: str, port: int, server_pid: int, args: dict[str, str], deadline: float, log: IO[str]
) -> dict[str, Any]:
    """Run one scenario of the load generator on its core; returns its JSON result."""
    argv = ["taskset", "-c", LOADGEN_CORE, "node", str(LOADGEN), scenario]
    argv += ["--port", str(port), "--server-pid", str(server_pid), "--server-core", SERVER_CORE]
    argv += ["--gen-core", LOADGEN_CORE]
    argv += ["--clk-tck", str(os.sysconf("SC_CLK_TCK")), "--deadline", str(int(deadline))]
    for key, value in args.items():
        argv += [f"--{key}", value]
    proc = subprocess.Popen(
        argv,
        cwd=BENCH,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=deadline + 30)
    finally:
        stop(proc, grace=2.0)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        return {"ok": False, "error": f"load generator exited {proc.returncode} without a result"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def git_revision() -> str:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else ""

    rev = git("rev-parse", "--short", "HEAD") or "no commit"
    dirty = " (+ uncommitted changes)" if git("status", "--porcelain", "--", "realtime") else ""
    return rev + dirty


def log_file(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("a", encoding="utf-8")
