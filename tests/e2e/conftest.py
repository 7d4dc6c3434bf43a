"""Loopback fixtures: ``serve(target)`` and an aiohttp ``http`` client."""

from loopback import http, serve

__all__ = ["http", "serve"]
