"""The coverage-guided fuzz targets (``atheris_targets.py``), each for a fixed
number of runs from the committed corpus, with a fixed seed: a short, repeatable
hunt in every test run. ``make fuzz`` hunts longer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
RUNS = 4000


@pytest.mark.parametrize("target", ["engineio", "socketio", "frames", "head"])
def test_fuzz_target_finds_nothing(target: str, tmp_path: Path) -> None:
    # New inputs go to a scratch corpus first: the committed one is only read.
    scratch = tmp_path / "corpus"
    scratch.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            str(HERE / "atheris_targets.py"),
            target,
            f"-runs={RUNS}",
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",
            str(scratch),
            str(HERE / "corpus" / target),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    crashes = sorted(p.name for p in tmp_path.iterdir() if p.name != "corpus")
    assert done.returncode == 0 and not crashes, (crashes, done.stderr[-3000:])
    assert f"Done {RUNS} runs" in done.stderr
