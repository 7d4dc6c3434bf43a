"""The realtime server against the official clients.

Clients: socket.io-client 4.x and 3.x (Engine.IO 4, Socket.IO 5), 2.x and
1.7 (Engine.IO 3, Socket.IO 4) under Node, and python-socketio's AsyncClient. Modes: polling
only, WebSocket only, and polling then upgrade. Every check is a test of its
own, named ``test_check[client-mode-check]``; the scenarios behind each name
are in ``client.js`` and ``client_py.py``, the server side in ``app.py``.

Two python-socketio client habits shape what the server must do for it:
its Engine.IO client gives up on a polling payload of more than 16 packets
(``order_to_client`` over polling), and it reconnects after a transport error
but not after an Engine.IO CLOSE packet (``reconnect`` over polling).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from .check_names import CHECKS
from .harness import ClientRun, assert_complete, assert_passed

pytestmark = pytest.mark.asyncio(loop_scope="module")

CLIENTS = ("sioc4", "sioc3", "sioc2", "sioc1", "python")
MODES = ("polling", "websocket", "upgrade")

RunClient = Callable[[str, str], Awaitable[ClientRun]]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("client", CLIENTS)
async def test_run_reports_every_check(client: str, mode: str, client_run: RunClient) -> None:
    assert_complete(await client_run(client, mode), CHECKS)


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("client", CLIENTS)
async def test_check(client: str, mode: str, check: str, client_run: RunClient) -> None:
    assert_passed(await client_run(client, mode), check)
