"""Pages written for a Node socket.io server, unchanged: they load
``/socket.io/socket.io.js`` from the server and use the socket.io-client
1.x/2.x API. Each transport, from the server's own origin and from another
one, and in browsers that lack JSON, WebSocket or CORS-capable XHR (those
objects removed from a Chromium page before any script runs)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from services import free_port

from .app import create_app, create_other_origin
from .conftest import ServerThread

NO_XHR = "delete window.XMLHttpRequest; window.XMLHttpRequest = undefined;"
NO_WEBSOCKET = "delete window.WebSocket; window.WebSocket = undefined;"
NO_JSON = "delete window.JSON; window.JSON = undefined;"


class Origins:
    def __init__(self, server: str, other: str) -> None:
        self.server = server
        self.other = other


@pytest.fixture(scope="module")
def origins() -> Iterator[Origins]:
    """One server, and a second origin whose pages talk to it."""
    thread = ServerThread()
    server_port, page_port = free_port(), free_port()
    server, other = f"http://127.0.0.1:{server_port}", f"http://127.0.0.1:{page_port}"
    # A list of origins lets in only those: the server's own pages too.
    thread.start(create_app(allowed_origins=[server, other]), server_port)
    thread.start(create_other_origin(""), page_port)
    yield Origins(server, other)
    thread.close()


def open_legacy_page(
    browser: Any, url: str, remove: str = "", errors: list[str] | None = None
) -> Any:
    context = browser.new_context()
    if remove:
        context.add_init_script(remove)
    page = context.new_page()
    page.on("pageerror", lambda exc: (errors if errors is not None else []).append(str(exc)))
    page.goto(url)
    return page


def run_legacy_page(browser: Any, url: str, remove: str = "") -> tuple[list[str], str]:
    errors: list[str] = []
    page = open_legacy_page(browser, url, remove, errors)
    try:
        page.wait_for_function("log.indexOf('ack again') >= 0", timeout=15000)
        log = page.evaluate("log")
        transport = page.evaluate("socket.io.engine.transport.name")
    finally:
        page.context.close()
    assert errors == [], errors
    return log, transport


# IE8/9: XMLHttpRequest without CORS, no WebSocket, and XDomainRequest, which
# Chromium lacks: emulated here with fetch restricted to what XDomainRequest
# can send (GET, or a text/plain POST; no custom headers, no cookies; the
# answer needs Access-Control-Allow-Origin), so no preflight is ever made.
# It shows the requests the client makes and the server's answers to them,
# not IE's own XDomainRequest.
IE8_9 = (
    NO_WEBSOCKET
    + """
window.XMLHttpRequest = function () {};
window.xdrLog = [];
window.XDomainRequest = function () {};
XDomainRequest.prototype.open = function (method, url) {
  this.method = method;
  this.url = url;
};
XDomainRequest.prototype.send = function (body) {
  var self = this;
  var init = {method: this.method, mode: "cors", credentials: "omit"};
  if (this.method === "POST") {
    init.body = body;
    init.headers = {"Content-Type": "text/plain"};
  }
  xdrLog.push(this.method);
  fetch(this.url, init).then(function (response) {
    return response.text().then(function (text) {
      if (!response.ok) { throw new Error(String(response.status)); }
      self.responseText = text;
      self.onload();
    });
  }).catch(function () { self.onerror(); });
};
XDomainRequest.prototype.abort = function () {};
"""
)

# (transports the page asks for, objects the browser lacks, transport expected)
CASES = {
    "websocket": (["websocket"], "", "websocket"),
    "polling": (["polling"], "", "polling"),
    "jsonp": (["polling"], NO_XHR, "jsonp"),
}


def expected_log(lines: list[str]) -> None:
    # The emit made before the connection opened arrives after connect, and
    # the 1.x/2.x manager events reach the socket.
    assert lines[:2] == ["connect true string", "welcome true"] or lines[:2] == [
        "welcome true",
        "connect true string",
    ], lines
    for line in (
        "ack h\u00e9llo \u2603 3",
        "echoed h\u00e9llo \u2603",
        "admin error token",
        "query a&b",
        "reconnect_attempt 1",
        "reconnecting 1",
        "reconnect 1",
        "ack again",
    ):
        assert line in lines, (line, lines)
    assert any(line.startswith("disconnect transport") for line in lines), lines


@pytest.mark.parametrize("origin", ["same-origin", "cross-origin"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_socketio_1x_page_on_each_transport(
    browser: Any, origins: Origins, case: str, origin: str
) -> None:
    transports, remove, expected = CASES[case]
    query = "?transports=" + ",".join(transports)
    if origin == "same-origin":
        url = origins.server + "/legacy" + query
    else:
        url = origins.other + "/legacy" + query + "&server=" + origins.server
    log, transport = run_legacy_page(browser, url, remove)
    assert transport == expected
    expected_log(log)


@pytest.mark.parametrize("case", sorted(CASES))
def test_page_without_json(browser: Any, origins: Origins, case: str) -> None:
    # IE6/7: no JSON at all; the client brings its own. The page's default
    # transports, with what the case removes.
    transports, remove, expected = CASES[case]
    url = origins.other + "/legacy?transports=" + ",".join(transports)
    url += "&server=" + origins.server
    log, transport = run_legacy_page(browser, url, NO_JSON + remove)
    assert transport == expected
    expected_log(log)


def test_page_without_websocket_stays_on_polling(browser: Any, origins: Origins) -> None:
    url = origins.other + "/legacy?server=" + origins.server
    log, transport = run_legacy_page(browser, url, NO_WEBSOCKET)
    assert transport == "polling"
    expected_log(log)


def test_jsonp_false_refuses_the_fallback(browser: Any, origins: Origins) -> None:
    # socket.io-client 1.x/2.x's jsonp: false: without CORS XHR there is no
    # transport left, and the page hears connect_error instead of using JSONP.
    page = open_legacy_page(browser, origins.other + "/legacy?server=" + origins.server, NO_XHR)
    try:
        result = page.evaluate(
            """(server) => new Promise((resolve) => {
              var s = io(server, {transports: ["polling"], jsonp: false, reconnection: false});
              s.on("connect_error", function (e) { resolve(e.message); });
              s.on("connect", function () { resolve("connected"); });
            })""",
            origins.server,
        )
    finally:
        page.context.close()
    assert result == "No transports available"


def test_io_api_surface(browser: Any, origins: Origins) -> None:
    # A server that accepts connections and never answers: connect_timeout.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    page = open_legacy_page(browser, origins.server + "/legacy?transports=websocket")
    try:
        page.wait_for_function("log.indexOf('ack again') >= 0", timeout=15000)
        result = page.evaluate(
            """([server, silent]) => new Promise((resolve) => {
              var timeouts = [];
              var late = io(silent, {timeout: 200, reconnection: false,
                                     transports: ["polling"]});
              late.on("connect_timeout", function (ms) { timeouts.push(ms); });
              late.on("connect_error", function (e) { timeouts.push(e.message); });
              var ws = io(server.replace("http", "ws"), {forceNew: true, autoConnect: false});
              var connecting = 0;
              ws.on("connecting", function () { connecting++; });
              ws.connect();
              var again = io.connect(server, {"force new connection": true});
              ws.on("connect", async function () {
                while (timeouts.length < 2) {
                  await new Promise((r) => setTimeout(r, 50));
                }
                var local = [];
                ws.on("error", function (e) { local.push(e); });
                ws.emit("error", "local only");
                resolve({
                  connectIsIo: io.connect === io, manager: typeof io.Manager,
                  socket: typeof io.Socket, protocol: io.protocol,
                  ownManager: ws.io !== socket.io && again.io !== socket.io,
                  shared: io(server + "/other").io === socket.io,
                  chained: ws.compress(false).binary(false) === ws,
                  local: local, connected: ws.connected, timeouts: timeouts,
                  connecting: connecting
                });
              });
            })""",
            [origins.server, f"http://127.0.0.1:{silent.getsockname()[1]}"],
        )
    finally:
        page.context.close()
        silent.close()
    assert result == {
        "connectIsIo": True,
        "manager": "function",
        "socket": "function",
        "protocol": 5,
        "ownManager": True,
        "shared": True,
        "chained": True,
        "local": ["local only"],
        "connected": True,
        "timeouts": ["timeout", 200],  # connect_error first, as 2.x
        "connecting": 1,
    }


def test_serve_client_false_leaves_the_paths_to_the_application(
    servers: ServerThread, new_page: Callable[..., Any]
) -> None:
    port = servers.start(create_app(serve_client=False))
    page = new_page(f"http://127.0.0.1:{port}/")
    statuses = page.evaluate(
        """async (base) => {
          const out = [];
          for (const name of ["socket.io.js", "socket.io.min.js", "realtime.js"]) {
            out.push((await fetch(base + "/socket.io/" + name)).status);
          }
          return out;
        }""",
        f"http://127.0.0.1:{port}",
    )
    assert statuses == [404, 404, 404]


def test_ie8_9_cross_origin_page_polls_through_xdomainrequest(
    browser: Any, origins: Origins
) -> None:
    posts: list[dict[str, str]] = []
    errors: list[str] = []
    page = open_legacy_page(
        browser, origins.other + "/legacy?server=" + origins.server, IE8_9, errors
    )
    page.on(
        "request",
        lambda request: posts.append(request.headers) if request.method == "POST" else None,
    )
    try:
        page.wait_for_function("log.indexOf('ack again') >= 0", timeout=15000)
        log = page.evaluate("log")
        used = page.evaluate("xdrLog")
        transport = page.evaluate("socket.io.engine.transport.name")
    finally:
        page.context.close()
    assert errors == []
    assert transport == "polling"
    expected_log(log)
    assert "GET" in used and "POST" in used
    # Each POST as XDomainRequest sends it: text/plain, no header of the client's own.
    assert posts
    for headers in posts:
        assert headers.get("content-type") == "text/plain"
        assert not [name for name in headers if name.startswith("x-")], headers
