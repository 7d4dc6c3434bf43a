"""The interop app as an ASGI application, for ASGI servers started from the
command line (hypercorn, granian: tests/interop/test_servers.py)."""

from __future__ import annotations

import realtime
from interop.app import build_server

app = realtime.ASGIApp(build_server())
