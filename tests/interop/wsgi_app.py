"""The interop app as a WSGI application, for WSGI servers started from the
command line (gunicorn's gthread and gevent workers:
tests/interop/test_servers.py). Any other path answers with the runtime
that ``mode="auto"`` chose for the server, so that a test sees which ran."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import realtime
from interop.app import build_server


def runtime_mode(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [app.mode.encode()]


app = realtime.WSGIApp(build_server(), runtime_mode)
