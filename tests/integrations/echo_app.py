"""A raw Engine app for the CLI tests."""

from __future__ import annotations

from typing import Any

import realtime

engine = realtime.Engine(ping_interval=5, ping_timeout=5)


@engine.on("message")
def echo(conn: Any, data: Any) -> None:
    conn.send(data)


not_an_app = 42
