"""Everything the benchmark needs installed, installed on demand.

The Node side (socket.io peer, ``ws``) comes from ``npm ci`` in bench/; the
Python peers live in bench/.venv-peers so their versions never touch the
project's environment. A stamp of the requirements file decides when the
peers' venv is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent
PEERS_VENV = BENCH / ".venv-peers"
PEERS_REQUIREMENTS = BENCH / "requirements-peers.txt"
STAMP = PEERS_VENV / "requirements.sha256"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def project_python() -> Path:
    """The interpreter our server runs on: the project's venv if there is one."""
    venv = REPO / ".venv" / "bin" / "python"
    return venv if venv.exists() else Path(sys.executable)


def peers_python() -> Path:
    return PEERS_VENV / "bin" / "python"


def ensure_node_modules() -> None:
    lock = BENCH / "package-lock.json"
    marker = BENCH / "node_modules" / ".package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    log("bench: npm ci (socket.io peer and load generator)")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)


def ensure_peers_venv() -> None:
    digest = hashlib.sha256(PEERS_REQUIREMENTS.read_bytes()).hexdigest()
    if peers_python().exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    log("bench: building bench/.venv-peers (python-socketio, aiohttp)")
    # A venv made from a venv's interpreter is based on the underlying install.
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEERS_VENV)], check=True)
    pip = [str(peers_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(PEERS_REQUIREMENTS)], check=True)
    STAMP.write_text(digest + "\n")


def ensure_all() -> None:
    ensure_node_modules()
    ensure_peers_venv()


def raise_nofile_limit() -> int:
    """Lift the soft open-files limit to the hard one; children inherit it.

    The connection-hold test needs 10,000 sockets in the server and as many in
    the load generator, above the usual soft limit of 1,024.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unavailable"
    return out.stdout.strip() or out.stderr.strip()


def _npm_version(package: str) -> str:
    path = BENCH / "node_modules" / package / "package.json"
    try:
        return str(json.loads(path.read_text())["version"])
    except (OSError, KeyError, ValueError):
        return "unavailable"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, object]:
    pkg = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"
    peer = str(peers_python())
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": _version(
            [str(project_python()), "-c", "import sys; print(sys.version.split()[0])"]
        ),
        "node": _version(["node", "--version"]),
        "aiohttp (ours)": _version([str(project_python()), "-c", pkg, "aiohttp"]),
        "aiohttp (peers)": _version([peer, "-c", pkg, "aiohttp"]),
        "python-socketio": _version([peer, "-c", pkg, "python-socketio"]),
        "python-engineio": _version([peer, "-c", pkg, "python-engineio"]),
        "socket.io (node)": _npm_version("socket.io"),
        "engine.io (node)": _npm_version("engine.io"),
        "nofile_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    }
