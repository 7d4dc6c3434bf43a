"""The bundled client in a real browser against the real server: each
transport forced on its own, the legacy fallback to JSONP, binary, acks both
ways, namespaces, timeouts and reconnection after a server restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from services import free_port

from .app import create_app, create_other_origin
from .conftest import ServerThread

HARNESS = Path(__file__).with_name("harness.js")
TRANSPORTS = ["websocket", "polling", "jsonp"]
# Every awkward character for a JSON-in-JS-in-form round trip.
AWKWARD = 'h\u00e9llo "quoted" \\ back\\nslash\nnewline \u2028\u2029 \U0001f600 </script>'


def open_client(new_page: Callable[..., Any], url: str, legacy: bool = False) -> Any:
    page = new_page(url, legacy=legacy)
    page.add_script_tag(path=str(HARNESS))
    return page


@pytest.fixture
def base(servers: ServerThread) -> str:
    return f"http://127.0.0.1:{servers.start(create_app())}"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_events_and_acks_on_each_transport(
    base: str, new_page: Callable[..., Any], transport: str
) -> None:
    page = open_client(new_page, base + "/")
    result = page.evaluate(
        """async ([transport, text]) => {
          const s = harness.connect({transports: [transport], auth: {user: "ann"}});
          const [welcome] = await harness.next(s, "welcome");
          const echoed = harness.next(s, "echoed");
          const ack = await harness.call(s, "echo", [text, {n: 1, list: [true, null]}]);
          s.on("question", (q, answer) => answer(q + "!"));
          const [asked] = await harness.call(s, "ask-client", ["why"]);
          return {welcome, id: s.id, connected: s.connected, ack, echoed: await echoed,
                  asked, transport: harness.transport(s)};
        }""",
        [transport, AWKWARD],
    )
    assert result["transport"] == transport
    assert result["connected"] is True
    assert result["welcome"] == {"id": result["id"], "auth": {"user": "ann"}}
    assert result["ack"] == [AWKWARD, {"n": 1, "list": [True, None]}]
    assert result["echoed"] == result["ack"]
    assert result["asked"] == "why!"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_binary_both_ways(base: str, new_page: Callable[..., Any], transport: str) -> None:
    page = open_client(new_page, base + "/")
    result = page.evaluate(
        """async (transport) => {
          const s = harness.connect({transports: [transport]});
          const buffer = new Uint8Array([1, 2, 3, 250]).buffer;
          const [sum, reversed] = await harness.call(s, "byte-sum", [buffer]);
          const view = new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 4);
          const [viewSum, viewReversed] = await harness.call(s, "byte-sum", [view]);
          const blob = new Blob([new Uint8Array([200, 100])]);
          const [blobSum, blobReversed] = await harness.call(s, "byte-sum", [blob]);
          const echoed = await harness.call(s, "echo", [{nested: [buffer]}]);
          return {sum, reversed: harness.bytes(reversed), viewSum,
                  viewReversed: harness.bytes(viewReversed), blobSum,
                  blobReversed: harness.bytes(blobReversed),
                  echoedIsBuffer: echoed[0].nested[0] instanceof ArrayBuffer,
                  echoed: harness.bytes(echoed[0].nested[0]),
                  transport: harness.transport(s)};
        }""",
        transport,
    )
    assert result == {
        "sum": 256,
        "reversed": [250, 3, 2, 1],
        "viewSum": 21,
        "viewReversed": [6, 7, 8],
        "blobSum": 300,
        "blobReversed": [100, 200],
        "echoedIsBuffer": True,
        "echoed": [1, 2, 3, 250],
        "transport": transport,
    }


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_namespaces_share_one_connection(
    base: str, new_page: Callable[..., Any], transport: str
) -> None:
    page = open_client(new_page, base + "/")
    result = page.evaluate(
        """async (transport) => {
          const main = harness.connect({transports: [transport]});
          const admin = harness.connect("/admin", {transports: [transport],
                                                   auth: {token: "secret"}});
          await harness.next(admin, "connect");
          if (!main.connected) { await harness.next(main, "connect"); }
          const [who] = await harness.call(admin, "whoami");
          // The same namespace again gets a connection of its own.
          const refused = harness.connect("/admin", {transports: [transport]});
          const [error] = await harness.next(refused, "connect_error");
          return {message: error.message, data: error.data, who, adminId: admin.id,
                  mainId: main.id, shared: main.io === admin.io,
                  sameSession: main.io.engine.id === admin.io.engine.id,
                  ownConnection: refused.io !== main.io};
        }""",
        transport,
    )
    assert result["message"] == "Not authorized"
    assert result["data"] == {"hint": "token"}
    assert result["who"] == "admin:" + result["adminId"]
    assert result["adminId"] != result["mainId"]
    assert result["shared"] is True
    assert result["sameSession"] is True
    assert result["ownConnection"] is True


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ack_timeouts_and_server_disconnect(
    base: str, new_page: Callable[..., Any], transport: str
) -> None:
    page = open_client(new_page, base + "/")
    result = page.evaluate(
        """async (transport) => {
          const s = harness.connect({transports: [transport], reconnectionDelay: 50});
          await harness.next(s, "connect");
          const late = await new Promise((resolve) =>
            s.timeout(300).emit("nobody-listens", (...args) => resolve(args)));
          const fast = await new Promise((resolve) =>
            s.timeout(5000).emit("echo", 1, (...args) => resolve(args)));
          const gone = harness.next(s, "disconnect");
          s.emit("kick-me");
          const [reason] = await gone;
          await new Promise((resolve) => setTimeout(resolve, 300));
          return {lateError: late[0] && late[0].message, lateArgs: late.length,
                  fast, reason, connected: s.connected};
        }""",
        transport,
    )
    assert result == {
        "lateError": "operation has timed out",
        "lateArgs": 1,
        "fast": [None, 1],
        "reason": "io server disconnect",
        "connected": False,
    }


def test_default_starts_on_polling_and_upgrades(base: str, new_page: Callable[..., Any]) -> None:
    page = open_client(new_page, base + "/")
    result = page.evaluate(
        """async () => {
          const s = harness.connect();
          const first = s.io.engine.transport.name;
          await harness.next(s, "connect");
          if (harness.transport(s) !== "websocket") {
            await harness.next(s.io.engine, "upgrade");
          }
          const ack = await harness.call(s, "echo", ["after upgrade"]);
          return {first, now: harness.transport(s), ack};
        }"""
    )
    assert result == {"first": "polling", "now": "websocket", "ack": ["after upgrade"]}


def test_legacy_browser_on_another_origin_falls_back_to_jsonp(
    servers: ServerThread, new_page: Callable[..., Any]
) -> None:
    # The page lives on one origin, the server on another; the browser has
    # neither WebSocket nor XMLHttpRequest, so only <script> and forms remain.
    server_port, page_port = free_port(), free_port()
    servers.start(create_app(allowed_origins=[f"http://127.0.0.1:{page_port}"]), server_port)
    server = f"http://127.0.0.1:{server_port}"
    servers.start(create_other_origin(server + "/socket.io/realtime.min.js"), page_port)
    page = open_client(new_page, f"http://127.0.0.1:{page_port}/", legacy=True)
    result = page.evaluate(
        """async ([server, text]) => {
          const s = harness.connect(server);
          const [welcome] = await harness.next(s, "welcome");
          const ack = await harness.call(s, "echo", [text]);
          const [sum] = await harness.call(s, "byte-sum", [new Uint8Array([1, 2]).buffer]);
          return {hasWebSocket: typeof WebSocket, hasXHR: typeof XMLHttpRequest,
                  transport: harness.transport(s), welcome: welcome.id === s.id, ack, sum};
        }""",
        [server, AWKWARD],
    )
    assert result == {
        "hasWebSocket": "undefined",
        "hasXHR": "undefined",
        "transport": "jsonp",
        "welcome": True,
        "ack": [AWKWARD],
        "sum": 3,
    }


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_reconnects_after_the_server_restarts(
    servers: ServerThread, new_page: Callable[..., Any], transport: str
) -> None:
    port = servers.start(create_app())
    page = open_client(new_page, f"http://127.0.0.1:{port}/")
    page.evaluate(
        """async (transport) => {
          window.s = harness.connect({transports: [transport], reconnectionDelay: 100,
                                      reconnectionDelayMax: 400});
          await harness.next(s, "connect");
          window.firstId = s.id;
          window.log = [];
          s.on("disconnect", (reason) => log.push("disconnect: " + reason));
          s.io.on("reconnect_attempt", () => log.push("attempt"));
          s.io.on("reconnect", () => log.push("reconnect"));
        }""",
        transport,
    )
    servers.stop(port)
    page.wait_for_function("log.indexOf('attempt') >= 0", timeout=10000)
    page.evaluate("() => { window.late = harness.call(s, 'echo', ['sent while offline']); }")
    servers.start(create_app(), port)
    result = page.evaluate(
        """async () => {
          const ack = await window.late;
          return {ack, log, connected: s.connected, newId: s.id !== firstId,
                  transport: harness.transport(s)};
        }"""
    )
    assert result["ack"] == ["sent while offline"]
    assert result["connected"] is True
    assert result["newId"] is True
    assert result["transport"] == transport
    # A poll parked when the server stops gets the CLOSE packet ("transport
    # close"); one sent a moment later finds no server ("transport error").
    # Either way the client must notice at once and reconnect.
    assert result["log"][0] in ("disconnect: transport close", "disconnect: transport error")
    assert "reconnect" in result["log"]


def test_served_client_is_the_built_file(base: str, new_page: Callable[..., Any]) -> None:
    page = new_page(base + "/")
    static = Path(__file__).parents[2] / "realtime" / "static"
    for name in ("realtime.js", "realtime.min.js", "socket.io.js", "socket.io.min.js"):
        served = page.evaluate(
            "async (url) => (await fetch(url)).text()", base + "/socket.io/" + name
        )
        assert served == (static / name).read_text(encoding="utf-8")
    assert page.evaluate("() => typeof realtime.connect") == "function"
