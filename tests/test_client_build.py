"""The bundled JavaScript clients (realtime.js, and socket.io.js with the
socket.io-client face): committed builds up to date, ES3 only,
within the size budget, and its Node unit tests green.

Needs ``node`` and the client's dev packages (``npm ci`` in client_js/,
done here on first use when they are missing).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "client_js"
STATIC = ROOT / "realtime" / "static"
BUILT = ("realtime.js", "realtime.min.js", "socket.io.js", "socket.io.min.js")
GZIP_BUDGET = 10 * 1024


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    assert found, "node is required to build and test the JavaScript client"
    modules = CLIENT / "node_modules"
    if not (modules / "acorn").is_dir() or not (modules / "uglify-js").is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is required to install the client's build tools"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=CLIENT, check=True, capture_output=True
        )
    return found


def test_committed_build_matches_the_sources(node: str, tmp_path: Path) -> None:
    subprocess.run([node, "build.js", "--out", str(tmp_path)], cwd=CLIENT, check=True)
    for name in BUILT:
        fresh = (tmp_path / name).read_bytes()
        committed = (STATIC / name).read_bytes()
        assert fresh == committed, f"realtime/static/{name} is stale: run `node client_js/build.js`"


def test_build_is_deterministic(node: str, tmp_path: Path) -> None:
    for out in ("a", "b"):
        subprocess.run([node, "build.js", "--out", str(tmp_path / out)], cwd=CLIENT, check=True)
    for name in BUILT:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_built_files_are_ecmascript_3(node: str) -> None:
    files = [str(STATIC / name) for name in BUILT]
    result = subprocess.run(
        [node, "check.js", *files], cwd=CLIENT, check=True, capture_output=True, text=True
    )
    report = json.loads(result.stdout)
    for file in files:
        assert report[file]["syntax"] is None, report[file]["syntax"]
        assert report[file]["builtins"] == [], "ES5+ built-ins called without a fallback"
        assert report[file]["trailing"] == [], "trailing commas in array literals"


def test_the_checker_catches_what_it_is_for(node: str, tmp_path: Path) -> None:
    # The ES3 check must be able to fail: feed it each thing it forbids.
    samples = {
        "reserved.js": "var o = {}; o.delete = 1;",
        "getter.js": "var o = {get x() { return 1; }};",
        "builtins.js": "[1].forEach(function () {}); f.bind(null); JSON.parse('1');",
        "trailing.js": "var a = [1, 2,];",
    }
    for name, text in samples.items():
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [node, "check.js", *(str(tmp_path / n) for n in samples)],
        cwd=CLIENT,
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(result.stdout)
    assert report[str(tmp_path / "reserved.js")]["syntax"]
    assert report[str(tmp_path / "getter.js")]["syntax"]
    assert len(report[str(tmp_path / "builtins.js")]["builtins"]) == 3
    assert report[str(tmp_path / "trailing.js")]["trailing"] == ["line 1"]


@pytest.mark.parametrize("client", ["realtime", "socket.io"])
def test_minified_client_fits_the_gzip_budget(client: str) -> None:
    minified = (STATIC / f"{client}.min.js").read_bytes()
    size = len(gzip.compress(minified, compresslevel=9))
    assert size <= GZIP_BUDGET, f"{client}.min.js is {size} bytes gzipped"
    assert len(minified) < len((STATIC / f"{client}.js").read_bytes())


def test_node_unit_tests_pass(node: str) -> None:
    files = sorted(str(p.relative_to(CLIENT)) for p in (CLIENT / "test").glob("*.test.js"))
    assert files, "no Node tests found"
    result = subprocess.run(
        [node, "--test", *files], cwd=CLIENT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
