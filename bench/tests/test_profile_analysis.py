"""py-spy's collapsed stacks become self time per function and per file."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent.parent


def load_profile_module() -> ModuleType:
    # bench/profile.py shares its name with the standard library's profile.
    spec = importlib.util.spec_from_file_location("bench_profile", BENCH / "profile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_self_and_inclusive_time(tmp_path: Path) -> None:
    raw = tmp_path / "stacks.txt"
    raw.write_text(
        "run (/x/realtime/__init__.py:5);emit (/x/realtime/socket.py:10);"
        "write (/usr/lib/python3.11/asyncio/selector_events.py:99) 30\n"
        "run (/x/realtime/__init__.py:5);emit (/x/realtime/socket.py:12) 10\n"
    )
    text = load_profile_module().analyse(raw, top=10)
    lines = text.splitlines()
    assert lines[0] == "40 samples"
    assert "   75.0%  write (asyncio/selector_events.py)" in lines
    # Two lines of one function are merged: emit's own 10 samples.
    assert "   25.0%  emit (realtime/socket.py)" in lines
    inclusive = text.split("inclusive time")[1].splitlines()
    assert "  100.0%  emit (realtime/socket.py)" in inclusive
    assert "  100.0%  run (realtime/__init__.py)" in inclusive
