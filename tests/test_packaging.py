"""What `pip install` builds: the compiled build where it can, else the pure
package with the reason recorded, and metadata under the distribution name.

The compiled path itself is what `make compiled` and scripts/build-wheels.sh
build (both check ``realtime.COMPILED``); here the fallback is exercised with a
build environment that lacks mypy, which is fast, and the wheel is read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bare_build_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with setuptools and wheel only: no mypy, so no compiler."""
    where = tmp_path_factory.mktemp("buildenv")
    venv.create(where, with_pip=True, system_site_packages=False)
    python = where / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "setuptools>=70.1", "wheel"],
        check=True,
        capture_output=True,
    )
    return python


def source_tree(where: Path) -> Path:
    """What an sdist holds, copied: a build in the checkout would reuse its build/."""
    tree = where / "src"
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        tree.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(
        ROOT / "realtime", tree / "realtime", ignore=shutil.ignore_patterns("*.so", "__pycache__")
    )
    return tree


def build_wheel(python: Path, out: Path, **env: str) -> tuple[Path, str]:
    done = subprocess.run(
        [
            python,
            "-m",
            "pip",
            "wheel",
            "-v",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source_tree(out)),
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    (wheel,) = out.glob("realtime_socketio-*.whl")
    return wheel, done.stdout + done.stderr


def test_without_a_compiler_the_wheel_is_pure_and_says_why(
    bare_build_env: Path, tmp_path: Path
) -> None:
    wheel, log = build_wheel(bare_build_env, tmp_path)
    assert "WARNING: realtime is built as pure Python (mypy" in log
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
        record = whl.read("realtime/_build.py").decode()
    assert not [n for n in names if n.endswith((".so", ".pyd"))]
    assert "COMPILE_SKIPPED: str | None = 'mypy, which compiles it" in record
    assert "realtime/static/realtime.js" in names
    assert "realtime/static/socket.io.min.js" in names


def test_an_opted_out_build_is_pure_and_silent(bare_build_env: Path, tmp_path: Path) -> None:
    wheel, log = build_wheel(bare_build_env, tmp_path, REALTIME_COMPILE="0")
    assert "built as pure Python" not in log
    with zipfile.ZipFile(wheel) as whl:
        assert "COMPILE_SKIPPED: str | None = None" in whl.read("realtime/_build.py").decode()


def test_a_required_compile_fails_loudly_where_it_cannot(
    bare_build_env: Path, tmp_path: Path
) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failed:
        build_wheel(bare_build_env, tmp_path, REALTIME_COMPILE="1")
    assert (
        "REALTIME_COMPILE=1: mypy, which compiles it" in failed.value.stdout + failed.value.stderr
    )


def test_the_distribution_name_and_extras() -> None:
    from importlib.metadata import metadata, requires

    meta = metadata("realtime-socketio")
    assert meta["Name"] == "realtime-socketio"
    import realtime

    assert meta["Version"] == realtime.__version__
    wanted = requires("realtime-socketio") or []
    extras = {r.split("extra == ")[1].strip("'\"") for r in wanted if "extra ==" in r}
    assert {"redis", "asgi", "wsgi", "metrics", "test"} <= extras
    core = [r for r in wanted if "extra ==" not in r]
    assert sorted(r.split(">")[0] for r in core) == ["aiohttp", "uvloop"]


def test_python_dash_m_realtime_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "realtime", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("realtime ")


def test_the_build_environment_types_every_import_of_the_package() -> None:
    # mypyc type-checks the whole package in pip's isolated build environment:
    # a third-party module imported anywhere in realtime/ must be installed
    # there (pyproject's build requirements) or declared untyped-and-optional
    # (mypy's ignore_missing_imports), or every `pip install .` silently falls
    # back to the pure build.
    import ast
    import re

    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")

    imported = set()
    for path in (ROOT / "realtime").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {name for name in imported if name not in sys.stdlib_module_names} - {"realtime"}
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requires = {
        re.split(r"[<>=;\[ ]", spec, maxsplit=1)[0].replace("-", "_")
        for spec in config["build-system"]["requires"]
    }
    untyped = {
        module.split(".")[0]
        for override in config["tool"]["mypy"]["overrides"]
        if override.get("ignore_missing_imports")
        for module in override["module"]
    }
    assert third_party - requires - untyped == set()
