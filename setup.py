"""Build hook: with ``REALTIME_COMPILE=1``, the modules that carry every
message are compiled to C extensions with mypyc (docs/performance.md).

Without it (the default, and every editable install) the package is pure
Python and behaves the same. A compiled build needs mypy and a C compiler in
the build environment, so it is built without build isolation::

    pip install mypy "setuptools>=70.1" aiohttp uvloop
    REALTIME_COMPILE=1 pip install --no-build-isolation .
    make compiled            # into build/compiled, for the tests and the bench
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from setuptools import setup

# Not compiled: modules whose classes users subclass (Adapter, the errors:
# mypyc classes cannot be subclassed from Python, nor subclass most builtins),
# typing Protocols, and glue that runs once per process.
PURE = {
    "realtime/__init__.py",
    "realtime/__main__.py",
    "realtime/_log.py",
    "realtime/assets.py",
    "realtime/errors.py",
    "realtime/types.py",
    "realtime/bus/adapter.py",
    "realtime/bus/requests.py",
    "realtime/integrations/aiohttp.py",
    # the cluster: optional dependencies (the redis extra), and network-bound
    "realtime/redis.py",
    "realtime/emitter.py",
}


def compiled_modules() -> list[str]:
    sources = sorted(p.as_posix() for p in Path("realtime").rglob("*.py"))
    return [s for s in sources if s not in PURE and not s.endswith("__init__.py")]


def ext_modules() -> list[object]:
    if os.environ.get("REALTIME_COMPILE") != "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError as missing:
        raise SystemExit(
            "REALTIME_COMPILE=1 needs mypy in the build environment: "
            "pip install mypy, then build with --no-build-isolation"
        ) from missing
    # mypyc type-checks the whole package first, against what it imports.
    absent = [name for name in ("aiohttp", "uvloop") if importlib.util.find_spec(name) is None]
    if absent and sys.platform != "win32":
        raise SystemExit(
            f"REALTIME_COMPILE=1 type-checks against realtime's dependencies; "
            f"install them first: pip install {' '.join(absent)}"
        )
    return list(mypycify(compiled_modules(), opt_level="3"))


setup(ext_modules=ext_modules())
