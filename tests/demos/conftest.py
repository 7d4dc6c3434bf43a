"""The demos keep their data (the WebIM's SQLite file and uploads) in
REALTIME_DEMO_DATA: here a temporary folder, so that a test run leaves the
checkout as it found it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    before = os.environ.get("REALTIME_DEMO_DATA")
    os.environ["REALTIME_DEMO_DATA"] = str(tmp_path_factory.mktemp("demo-data"))
    yield
    if before is None:
        del os.environ["REALTIME_DEMO_DATA"]
    else:
        os.environ["REALTIME_DEMO_DATA"] = before
