"""Loopback fixtures: ``serve(target)`` and an aiohttp ``http`` client."""

from loopback import http, serve
from test_ws_connection import connect

__all__ = ["connect", "http", "serve"]
