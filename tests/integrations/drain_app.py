"""A node for the drain test: says its name, and has a handler that is still
running when the node is told to stop."""

from __future__ import annotations

import asyncio
import os
import sys

import realtime

sio = realtime.Server()
NODE = os.environ.get("NODE", "?")


@sio.on("whoami")
def whoami(socket: realtime.Socket) -> str:
    return NODE


@sio.on("slow")
async def slow(socket: realtime.Socket) -> None:
    print("slow handler started", flush=True)
    await asyncio.sleep(0.5)
    print("slow handler finished", flush=True)
    sys.stdout.flush()
