"""Build hook: a wheel's hot modules are compiled to C extensions with mypyc
(docs/performance.md), so that ``pip install .`` gives the fast build.

``REALTIME_COMPILE`` decides:

- unset (the default): compile when building a wheel on CPython; where that
  cannot be done (no C compiler, no mypy) build the pure-Python package and
  say why, once at build time and once in the serving banner;
- ``1``: compile, and fail the build if that cannot be done;
- ``0``: never compile.

An editable install (``pip install -e .``) is always pure Python: compiled
extensions beside the sources would shadow them, and the tests of the pure
package would then run the compiled one. The compiled test build goes to its
own folder instead (``make compiled``)::

    REALTIME_COMPILE=1 pip install --no-deps --no-build-isolation --target build/compiled .
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

# Not compiled: modules whose classes users subclass (Adapter, the errors:
# mypyc classes cannot be subclassed from Python, nor subclass most builtins),
# typing Protocols, glue that runs once per process, and hosts and adapters
# that import optional packages.
PURE = {
    "realtime/__init__.py",
    "realtime/__main__.py",
    "realtime/_build.py",
    "realtime/_log.py",
    "realtime/assets.py",
    "realtime/errors.py",
    "realtime/types.py",
    "realtime/roles.py",
    "realtime/bus/adapter.py",
    "realtime/bus/requests.py",
    "realtime/integrations/aiohttp.py",
    "realtime/integrations/wsgi.py",
    "realtime/runtime/eventlet.py",
    "realtime/runtime/gevent.py",
    # the cluster: optional dependencies (the redis extra), and network-bound
    "realtime/redis.py",
    "realtime/redis_presence.py",
    "realtime/redis_recovery.py",
    "realtime/emitter.py",
    # read at scrape time only; imports the optional prometheus-client
    "realtime/metrics.py",
    "realtime/admin.py",
    "realtime/presence.py",
}

# The commands of a build that installs or packs code; `egg_info`, `sdist`
# and `editable_wheel` (pip install -e) compile nothing.
_BUILDS = {"bdist_wheel", "build", "build_ext", "install"}


def compiled_modules() -> list[str]:
    sources = sorted(p.as_posix() for p in Path("realtime").rglob("*.py"))
    return [s for s in sources if s not in PURE and not s.endswith("__init__.py")]


class Plan:
    """Whether this build compiles, and if it fell back to pure Python, why."""

    def __init__(self) -> None:
        self.setting = os.environ.get("REALTIME_COMPILE", "")
        self.required = self.setting == "1"
        self.skipped: str | None = None

    def wanted(self, argv: list[str]) -> bool:
        if self.setting == "0":
            return False
        if self.required:
            return True
        return platform.python_implementation() == "CPython" and bool(_BUILDS & set(argv))

    def fall_back(self, reason: str) -> None:
        if self.required:
            raise SystemExit(f"REALTIME_COMPILE=1: {reason}")
        self.skipped = reason
        # setuptools' own logger is quiet under pip; stderr shows with -v and
        # in every build log.
        print(
            f"WARNING: realtime is built as pure Python ({reason}); it works the same, "
            "but slower. Install a C compiler for the fast build, or set "
            "REALTIME_COMPILE=0 to silence this.",
            file=sys.stderr,
        )


PLAN = Plan()


def ext_modules() -> list[Any]:
    if not PLAN.wanted(sys.argv[1:]):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        PLAN.fall_back("mypy, which compiles it, is not in the build environment")
        return []
    # mypyc type-checks the whole package first, against what it imports.
    absent = [name for name in ("aiohttp", "uvloop") if importlib.util.find_spec(name) is None]
    if absent and sys.platform != "win32":
        PLAN.fall_back(f"the build environment lacks {', '.join(absent)}")
        return []
    try:
        return list(mypycify(compiled_modules(), opt_level="3"))
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error
        PLAN.fall_back(f"mypyc failed: {exc}")
        return []


class BuildExtOrFallBack(build_ext):
    """Build the extensions; where the C compiler is missing or fails, remove
    whatever part was built, so a wheel is wholly compiled or wholly pure."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # CompileError, LinkError, a missing `cc`: all OSError-like
            if PLAN.required:
                raise
            for ext in self.extensions:
                Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            self.extensions = []
            self.distribution.ext_modules = []
            detail = f"{type(exc).__name__}: {str(exc)[:160]}"
            PLAN.fall_back(f"the C extension did not build: {detail}")


class BuildPyWithRecord(build_py):
    """Record in the package why a build is pure, for the serving banner."""

    def run(self) -> None:
        super().run()
        # build_ext runs after build_py, so let it say first.
        self.run_command("build_ext")
        # Written every time: a build folder kept from an earlier build must
        # not carry that build's verdict.
        target = Path(self.build_lib, "realtime", "_build.py")
        target.write_text(
            '"""How this copy of the package was built (written by setup.py)."""\n\n'
            f"COMPILE_SKIPPED: str | None = {PLAN.skipped!r}\n"
        )


setup(
    ext_modules=ext_modules(),
    cmdclass={"build_ext": BuildExtOrFallBack, "build_py": BuildPyWithRecord},
)
