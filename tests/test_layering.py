"""Imports point down, and the core layers import the standard library only.

Every module of the package has a layer (``LAYERS``); a module may import
its own layer and the ones below it, never one above — whatever the form of
the import (absolute, ``from ..engine import X``, ``from .. import server``,
inside a function, under ``TYPE_CHECKING``). protocol/, transports/, bus/ and
engine.py must also stay runnable anywhere: no asyncio, eventlet, aiohttp,
redis, socket or threading, and no wall clock — time comes in as ``now``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent / "realtime"

# Bottom to top. A package's modules share its layer; ``realtime`` itself
# (its __init__, which imports everything to export it) is the very top.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_build", "_version", "_log", "errors", "types", "coroutines", "reasons"),
    ("protocol",),
    ("transports", "bus", "http", "assets"),
    ("engine", "link", "handlers"),
    (
        "crossing",
        "roles",
        "socket",
        "namespace",
        "server",
        "sessions",
        "redis",
        "emitter",
        "admin",
        "presence",
        "redis_presence",
        "redis_recovery",
    ),
    ("runtime",),
    ("integrations", "metrics"),
    ("__main__", "", "workers"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}

# Upward imports kept on purpose, each with its reason.
ALLOWED_UPWARD = {
    # ``Server.attach(app)``, the aiohttp shortcut of ``realtime.attach``:
    # imported when called, so the Server never loads a host by itself.
    ("realtime.server", "realtime.integrations.aiohttp"),
}

CORE = [
    *sorted((ROOT / "protocol").glob("*.py")),
    *sorted((ROOT / "transports").glob("*.py")),
    *sorted((ROOT / "bus").glob("*.py")),
    ROOT / "engine.py",
    ROOT / "link.py",
    ROOT / "http.py",
    ROOT / "errors.py",
    ROOT / "types.py",
    ROOT / "coroutines.py",
]
FORBIDDEN = {"asyncio", "eventlet", "aiohttp", "redis", "socket", "threading", "time", "gevent"}
MODULES = sorted(ROOT.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = ["realtime", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    """Whether ``realtime.a.b`` names a module or package of the source tree."""
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Every module ``path`` imports, relative imports resolved to absolute
    names (``from .. import server`` in realtime/transports/x.py is
    ``realtime.server``; ``from .. import NAME`` of a non-module is the
    package itself). ``source`` stands in for the file's text."""
    tree = ast.parse(path.read_text("utf-8") if source is None else source)
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if module.split(".")[0] != "realtime":
                found.add(module)
                continue
            # ``from .. import server`` imports a module; ``from .. import
            # COMPILED`` a name of the package itself
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.add(sub if _is_module(sub) else module)
    return found


def layer_of(module: str) -> int:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else ""
    if name not in RANK:
        raise AssertionError(f"{module} has no layer: add it to LAYERS in tests/test_layering.py")
    return RANK[name]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    me = module_name(path)
    mine = layer_of(me)
    upward = {
        m
        for m in imported_modules(path)
        if m.split(".")[0] == "realtime" and layer_of(m) > mine and (me, m) not in ALLOWED_UPWARD
    }
    assert not upward, f"{me} (layer {mine}) imports a layer above it: {sorted(upward)}"


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_module_imports_stdlib_only(path: Path) -> None:
    modules = {m.split(".")[0] for m in imported_modules(path)} - {"realtime", "__future__"}
    assert not modules & FORBIDDEN, f"{path.name} imports {modules & FORBIDDEN}"
    outside = {m for m in modules if m not in sys.stdlib_module_names}
    assert not outside, f"{path.name} imports non-stdlib {outside}"


def test_the_check_sees_every_form_of_upward_import() -> None:
    """The walker resolves relative imports: each of these, written in a
    transports/ module, imports a layer above transports/."""
    where = ROOT / "transports" / "polling.py"
    cases = {
        "from ..engine import Engine": "realtime.engine",
        "from .. import server": "realtime.server",
        "from .. import COMPILED": "realtime",
        "import realtime.runtime.asyncio": "realtime.runtime.asyncio",
        "def f():\n    from ..integrations import aiohttp": "realtime.integrations.aiohttp",
        "if TYPE_CHECKING:\n    from ..socket import Socket": "realtime.socket",
    }
    for source, expected in cases.items():
        found = imported_modules(where, source)
        assert expected in found, (source, found)
        assert layer_of(expected) > layer_of(module_name(where)), source
    assert "asyncio" in imported_modules(ROOT / "runtime" / "asyncio.py")


@pytest.mark.parametrize("path", sorted((ROOT / "protocol").glob("*.py")), ids=lambda p: p.name)
def test_protocol_imports_nothing_above_it(path: Path) -> None:
    """protocol/ is the bottom layer: only itself, errors and types."""
    above = {
        m
        for m in imported_modules(path)
        if m.startswith("realtime.") and not m.startswith("realtime.protocol")
    } - {"realtime.errors", "realtime.types", "realtime._log"}
    assert not above, f"{path.name} imports {above}"


# Server, namespaces and sockets hold each other; each uses of the others only
# the role realtime/roles.py names, never what is private to another object.
COLLABORATORS = ("server", "namespace", "socket", "handlers", "roles")


def private_reads(source: str) -> list[str]:
    """Every ``x._name`` in ``source`` whose ``x`` is not ``self`` or ``cls``
    (dunders such as ``type(fn).__call__`` are not private)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.endswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("name", COLLABORATORS)
def test_no_private_attribute_of_another_object(name: str) -> None:
    source = (ROOT / f"{name}.py").read_text("utf-8")
    assert not private_reads(source), f"realtime/{name}.py reads private attributes of others"


def test_the_check_sees_private_reads() -> None:
    source = "self._a\ncls._b\nself.namespace._c\nsocket._d.e\ntype(f).__call__\nx.public\n"
    assert private_reads(source) == ["line 3: self.namespace._c", "line 4: socket._d"]


def runtime_imports(path: Path, source: str | None = None) -> set[str]:
    """The modules ``path`` imports when it runs: those under ``if
    TYPE_CHECKING:`` left out, those inside functions kept (they run too)."""
    text = path.read_text("utf-8") if source is None else source
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            node.body = [ast.Pass()]
    return imported_modules(path, ast.unparse(tree))


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The cycles of ``graph`` (module -> modules it imports), each once."""
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(start: str, at: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(at, ())):
            if nxt == start:
                if frozenset(path) not in seen:
                    seen.add(frozenset(path))
                    cycles.append([*path, start])
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for module in sorted(graph):
        walk(module, module, [module])
    return cycles


def test_no_runtime_import_cycle_between_the_collaborators() -> None:
    """Only the server imports the namespace and the socket modules when it
    runs; they name the server (and each other) for the type checker only."""
    names = {f"realtime.{name}" for name in COLLABORATORS}
    graph = {
        module: runtime_imports(ROOT / f"{module.split('.')[1]}.py") & names for module in names
    }
    cycles = import_cycles(graph)
    assert not cycles, f"modules that import each other when they run: {cycles}"


def test_the_check_sees_import_cycles() -> None:
    where = ROOT / "socket.py"
    hidden = "if TYPE_CHECKING:\n    from .server import Server\n"
    assert "realtime.server" not in runtime_imports(where, hidden)
    late = "def f():\n    from .namespace import BroadcastOperator\n"
    assert "realtime.namespace" in runtime_imports(where, late)
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c", "a"]]
