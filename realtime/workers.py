"""``python -m realtime app:sio --workers N``: N processes serving one port.

The supervising process binds the public socket once and a private loopback
socket per worker, then starts each worker (``python -m realtime`` again)
with both sockets inherited. Every worker accepts on the public socket, so
the kernel spreads connections over them; its private socket is how the
other workers reach it. Each worker names itself in its session ids
(``w0``, ``w1``...), and knows the others' private addresses as its peers:
a request for another worker's session is handed to that worker (the
engine's ``Forward``), so polling and upgrades need no sticky sessions.

Broadcasts reach other workers' clients only through a cluster adapter
(``realtime.RedisAdapter``); with the in-memory adapter each worker is an
island, and the supervisor says so.

SIGTERM or Ctrl-C is passed to every worker, which drains as one server
does; a worker that dies on its own takes the others down (exit status 1),
so that whatever supervises this process sees the failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

ENV_WORKER: Final = "REALTIME_WORKER"
"""``INDEX,PUBLIC_FD,PRIVATE_FD`` in a worker's environment."""
ENV_PEERS: Final = "REALTIME_PEERS"
"""``w0=127.0.0.1:PORT,w1=...``: every worker's private address."""


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker learns from its environment."""

    node_id: str
    peers: dict[str, str]
    sockets: tuple[socket.socket, ...]


def worker_setup() -> WorkerSetup | None:
    """This process's place among the workers, or None if it is not one."""
    spec = os.environ.get(ENV_WORKER)
    if not spec:
        return None
    index, public_fd, private_fd = (int(part) for part in spec.split(","))
    peers = dict(item.split("=", 1) for item in os.environ.get(ENV_PEERS, "").split(",") if item)
    sockets = tuple(socket.socket(fileno=fd) for fd in (public_fd, private_fd))
    return WorkerSetup(f"w{index}", peers, sockets)


def _without_workers(argv: Sequence[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            out.append(arg)
    return out


def supervise(argv: Sequence[str], host: str, port: int, workers: int) -> int:
    """Run ``workers`` copies of this command line (less ``--workers``) on
    one public socket; returns the exit status."""
    public = socket.create_server((host, port), backlog=1024)
    privates = [socket.create_server(("127.0.0.1", 0), backlog=1024) for _ in range(workers)]
    peers = ",".join(f"w{i}=127.0.0.1:{s.getsockname()[1]}" for i, s in enumerate(privates))
    child_argv = [sys.executable, "-m", "realtime", *_without_workers(argv)]
    children: list[subprocess.Popen[bytes]] = []
    for index, private in enumerate(privates):
        env = {
            **os.environ,
            ENV_WORKER: f"{index},{public.fileno()},{private.fileno()}",
            ENV_PEERS: peers,
        }
        children.append(
            subprocess.Popen(child_argv, env=env, pass_fds=(public.fileno(), private.fileno()))
        )
        address = f"127.0.0.1:{private.getsockname()[1]}"
        print(f"realtime worker w{index}: pid {children[-1].pid}, at {address}", flush=True)
    public.close()
    for private in privates:
        private.close()
    print(f"realtime: {workers} workers on http://{host}:{port}", flush=True)

    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    while any(child.poll() is None for child in children):
        for child in children:
            code = child.poll()
            if code is not None and code != 0 and not stopping:
                print(
                    f"realtime: worker pid {child.pid} exited with {code}; stopping all",
                    file=sys.stderr,
                    flush=True,
                )
                status = 1
                stop(signal.SIGTERM, None)
        time.sleep(0.1)  # the supervisor only waits; nothing here is latency-bound
    if any(child.returncode not in (0, -signal.SIGTERM) for child in children):
        status = 1
    return status
