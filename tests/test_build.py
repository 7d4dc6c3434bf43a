"""The build under test is the one the run asked for: pure Python, or the
mypyc-compiled build (``make test-compiled`` sets REALTIME_EXPECT_COMPILED=1).
Without this check a compiled run that imported the checkout's sources would
pass while testing nothing compiled."""

from __future__ import annotations

import importlib
import os
import pkgutil

import realtime

# The modules every message goes through; setup.py compiles them (and more).
HOT = {
    "realtime.protocol.engineio",
    "realtime.protocol.socketio",
    "realtime.transports.websocket",
    "realtime.transports.http1",
    "realtime.transports.polling",
    "realtime.runtime.asyncio",
    "realtime.runtime.front_door",
    "realtime.engine",
    "realtime.socket",
    "realtime.namespace",
}


def compiled_modules() -> set[str]:
    found = set()
    for info in pkgutil.walk_packages(realtime.__path__, "realtime."):
        module = importlib.import_module(info.name)
        if not str(module.__file__).endswith(".py"):
            found.add(info.name)
    return found


def test_the_build_under_test_is_the_one_asked_for() -> None:
    compiled = compiled_modules()
    if os.environ.get("REALTIME_EXPECT_COMPILED") == "1":
        assert realtime.COMPILED
        assert compiled >= HOT, f"not compiled: {sorted(HOT - compiled)}"
        # what users subclass stays a Python class
        assert "realtime.bus.adapter" not in compiled
        assert "realtime.errors" not in compiled
    else:
        assert not realtime.COMPILED
        assert compiled == set()
