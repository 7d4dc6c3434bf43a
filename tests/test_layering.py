"""The core layers import the standard library only, and never a clock.

protocol/, transports/, bus/ and engine.py must stay runnable anywhere: no
asyncio, eventlet, aiohttp, redis, socket or threading, and no wall clock —
time comes in as ``now``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent / "realtime"
CORE = [
    *sorted((ROOT / "protocol").glob("*.py")),
    *sorted((ROOT / "transports").glob("*.py")),
    *sorted((ROOT / "bus").glob("*.py")),
    ROOT / "engine.py",
    ROOT / "http.py",
    ROOT / "errors.py",
    ROOT / "types.py",
    ROOT / "coroutines.py",
]
UPPER_LAYERS = {"runtime", "integrations", "server", "socket", "namespace"}
FORBIDDEN = {"asyncio", "eventlet", "aiohttp", "redis", "socket", "threading", "time", "gevent"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level == 0:
                found.add(node.module.split(".")[0])
            elif node.module.split(".")[0] in UPPER_LAYERS:
                found.add("realtime." + node.module)
    return found


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_module_imports_stdlib_only(path: Path) -> None:
    modules = imported_modules(path)
    assert not modules & FORBIDDEN, f"{path.name} imports {modules & FORBIDDEN}"
    upward = {m for m in modules if m.startswith("realtime.")}
    assert not upward, f"{path.name} imports an upper layer: {upward}"
    outside = {m for m in modules if m not in sys.stdlib_module_names and m != "__future__"}
    assert not outside, f"{path.name} imports non-stdlib {outside}"


def test_the_check_sees_imports() -> None:
    """Guard against a walker that finds nothing."""
    assert "asyncio" in imported_modules(ROOT / "runtime" / "asyncio.py")


@pytest.mark.parametrize("path", sorted((ROOT / "protocol").glob("*.py")), ids=lambda p: p.name)
def test_protocol_imports_nothing_above_it(path: Path) -> None:
    """protocol/ is the bottom layer: only itself, errors and types."""
    tree = ast.parse(path.read_text("utf-8"))
    above = {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module
    } - {"errors", "types", "_log"}
    assert not above, f"{path.name} imports {above}"
