"""An app module as the Quickstart once read: it calls realtime.run() itself,
at import, on a port of its own (which the CLI must not serve on)."""

from __future__ import annotations

import os

import realtime

sio = realtime.Server()

realtime.run(sio, host="127.0.0.1", port=int(os.environ["OWN_PORT"]))
