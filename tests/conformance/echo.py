"""A raw WebSocket echo endpoint made of our own WebSocket layer, for the
Autobahn test suite (which speaks plain RFC 6455, not Engine.IO).

The front door answers the handshake, the runtime adopts the socket and its
:class:`~realtime.runtime.asyncio.WebSocketConnection` reads every frame with
the :class:`~realtime.transports.websocket.FrameReader`, answers pings and
closes, and refuses what RFC 6455 forbids: the same code paths as every
Engine.IO WebSocket. Only the message step differs: where an Engine.IO
session would decode a packet, :class:`EchoEngine` hands the message back,
and the socket writes it as one frame of the same kind. (It does so by
taking each socket as an upgrade probe, whose answers the connection writes
as they come.)

    python -m tests.conformance.echo --port 9001    # then: kosoku ws://127.0.0.1:9001/echo
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
from typing import Any

from realtime.http import AcceptWebSocket, Decision, HttpRequest, HttpResponse
from realtime.protocol.counters import Counters
from realtime.protocol.deadlines import Deadlines
from realtime.protocol.session import Session, SessionConfig
from realtime.runtime.asyncio import AsyncioRuntime
from realtime.runtime.front_door import DoorKeeper

MAX_MESSAGE = 16 * 1024 * 1024  # case 9 sends 16 MB messages; cases 1-7 far less


class _NoListener:
    def on_open(self, conn: Any) -> None: ...

    def on_message(self, conn: Any, data: Any) -> None: ...

    def on_close(self, conn: Any, reason: str) -> None: ...


class EchoEngine:
    """An engine, as far as the front door and the runtime need one, whose
    every WebSocket echoes its messages."""

    path = "/echo"
    on_upgrade = None  # its sessions never upgrade: they start on WebSocket

    def __init__(self, max_payload: int = MAX_MESSAGE, max_fragments: int = 1024) -> None:
        self.max_payload = max_payload
        self.max_fragments = max_fragments
        self.deadlines = Deadlines()
        self.counters = Counters()
        self.listener = _NoListener()
        self.config = SessionConfig(
            ping_interval=3600,
            ping_timeout=3600,
            upgrade_timeout=3600,
            max_buffer=MAX_MESSAGE,
            close_grace=1,
        )

    @property
    def engine(self) -> EchoEngine:
        return self

    def now(self) -> float:
        return 0.0

    def owns_path(self, path: str) -> bool:
        return path.rstrip("/") == self.path

    def forget(self, session: Session) -> None: ...

    def handle_request(self, req: HttpRequest, now: float) -> Decision:
        if not req.is_websocket:
            return HttpResponse(400, {"Content-Type": "text/plain"}, b"a WebSocket echo only")
        session = Session(
            secrets.token_urlsafe(8),
            4,
            "polling",
            owner=self,
            config=self.config,
            headers=req.headers,
            query=req.query,
            remote_addr=req.remote_addr,
        )
        return AcceptWebSocket(session, upgrade=True)

    def receive_frame(self, session: Session, frame: Any, probe_socket: bool, now: float) -> Any:
        return frame  # written back as one frame of its kind

    def websocket_closed(self, session: Session, probe_socket: bool, now: float) -> None: ...

    def handle_timeouts(self, now: float) -> float | None:
        self.deadlines.fire(now)
        return self.deadlines.next_deadline()


class _Endpoint:
    def __init__(self, engine: EchoEngine, runtime: AsyncioRuntime) -> None:
        self.engine = engine
        self.runtime = runtime


def _no_fallback() -> asyncio.Protocol:
    raise ConnectionError("only the echo path is served")


async def serve(host: str = "127.0.0.1", port: int = 0) -> tuple[asyncio.Server, int]:
    """Start the echo endpoint; the server and its port (``/echo``)."""
    engine = EchoEngine()
    runtime = AsyncioRuntime(engine)
    keeper = DoorKeeper([_Endpoint(engine, runtime)], _no_fallback)
    server = await asyncio.get_running_loop().create_server(keeper, host, port)
    return server, server.sockets[0].getsockname()[1]


async def _main(port: int) -> None:
    server, bound = await serve(port=port)
    print(f"echo on ws://127.0.0.1:{bound}/echo", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9001)
    asyncio.run(_main(parser.parse_args().port))
