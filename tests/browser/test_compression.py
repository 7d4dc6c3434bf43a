"""Compression with Chromium and the bundled client: permessage-deflate on
the WebSocket (Chromium offers it; the server here agrees), gzip on XHR
polling and on JSONP's script answers, each read back by the browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .app import create_app
from .conftest import ServerThread
from .test_client import TRANSPORTS, open_client

BIG = ",".join(str(i * 7919 % 10007) for i in range(6000))  # about 30 KB that compresses


@pytest.fixture
def base(servers: ServerThread) -> str:
    return f"http://127.0.0.1:{servers.start(create_app(per_message_deflate=True))}"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_big_messages_both_ways_compressed(
    base: str, new_page: Callable[..., Any], transport: str
) -> None:
    page = open_client(new_page, base + "/")
    codings: list[str] = []
    page.on(
        "response",
        lambda response: (
            codings.append(response.headers.get("content-encoding", "identity"))
            if "/socket.io/?" in response.url and response.request.method == "GET"
            else None
        ),
    )
    result = page.evaluate(
        """async ([transport, text]) => {
          const s = harness.connect({transports: [transport]});
          await harness.next(s, "welcome");
          const ack = await harness.call(s, "echo", [text]);
          const ws = s.io.engine.transport.ws;
          return {same: ack[0] === text, transport: harness.transport(s),
                  extensions: ws ? ws.extensions : null};
        }""",
        [transport, BIG],
    )
    assert result["same"] is True
    assert result["transport"] == transport
    if transport == "websocket":
        assert result["extensions"] == "permessage-deflate"
    else:
        assert "gzip" in codings, codings
