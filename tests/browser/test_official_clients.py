"""The browser bundles shipped in the official socket.io-client packages
(1.7, 2.x, 3.x, 4.x; tests/browser/clients), each loaded into a page in
headless Chromium against the realtime server: WebSocket, XHR polling, and
for 1.x, 2.x and 3.x, which still had it, JSONP polling with XMLHttpRequest
removed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from services import free_port

from .app import PAGE, create_app
from .conftest import ServerThread

CLIENTS = Path(__file__).with_name("clients") / "node_modules"
VERSIONS = {"1": "1.7.4", "2": "2.5.0", "3": "3.1.3", "4": "4.8.4"}
NO_XHR = "delete window.XMLHttpRequest; window.XMLHttpRequest = undefined;"
ASCII = 'plain "quoted" \\ back\\nslash\nnewline </script>'
UNICODE = "h\u00e9llo \u2603 \U0001f600 \u2028"


def bundle(major: str) -> Path:
    path = CLIENTS / f"socket.io-client-{major}" / "dist" / "socket.io.js"
    assert path.is_file(), f"{path} missing: run scripts/install-test-deps.sh"
    assert f'"version": "{VERSIONS[major]}"' in (path.parents[1] / "package.json").read_text()
    return path


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    app = create_app()

    async def official(request: web.Request) -> web.Response:
        major = request.match_info["major"]
        if major not in VERSIONS:
            raise web.HTTPNotFound()
        return web.Response(body=bundle(major).read_bytes(), content_type="text/javascript")

    async def page(request: web.Request) -> web.Response:
        script = "/official/" + request.match_info["major"] + ".js"
        return web.Response(text=PAGE.format(script=script), content_type="text/html")

    app.router.add_get("/official/{major}.js", official)
    app.router.add_get("/page/{major}", page)
    thread = ServerThread()
    port = thread.start(app, free_port())
    yield f"http://127.0.0.1:{port}"
    thread.close()


# JSONP went with engine.io-client 5 (socket.io-client 4.x).
CASES = [(major, t) for major in VERSIONS for t in ("websocket", "polling")] + [
    ("1", "jsonp"),
    ("2", "jsonp"),
    ("3", "jsonp"),
]


@pytest.mark.parametrize(("major", "transport"), CASES)
def test_official_browser_bundle(browser: Any, base: str, major: str, transport: str) -> None:
    # socket.io-client 1.x polling (XHR and JSONP) wraps text in a UTF-8 layer
    # of its own (engine.io-parser 1.x) that Engine.IO 3 servers from engine.io
    # 3.x on no longer have: non-ASCII arrives double-encoded, and over XHR the
    # answer breaks the session (docs/protocol-notes.md). WebSocket is clean.
    text = ASCII if major == "1" and transport != "websocket" else UNICODE
    context = browser.new_context()
    errors: list[str] = []
    if transport == "jsonp":
        context.add_init_script(NO_XHR)
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        urls: list[str] = []
        page.on("request", lambda request: urls.append(request.url))
        page.goto(f"{base}/page/{major}")
        result = page.evaluate(
            """([transport, ascii, unicode]) => new Promise((resolve, reject) => {
              setTimeout(() => reject(new Error("timed out")), 10000);
              const transports = transport === "websocket" ? ["websocket"] : ["polling"];
              const socket = io({transports, upgrade: false, forceNew: true});
              const out = {};
              socket.emit("echo", ascii, {n: 1, list: [true, null]}, (...answer) => {
                out.early = answer;
              });
              socket.on("welcome", (data) => { out.welcome = data.id === socket.id; });
              socket.on("connect", () => {
                socket.emit("echo", unicode, (answer) => {
                  out.unicode = answer;
                  socket.emit("text-length", unicode, (n) => { out.received = n; });
                  socket.emit("ask-client", "why", (asked) => {
                    out.asked = asked;
                    out.transport = socket.io.engine.transport.name;
                    out.connected = socket.connected;
                    resolve(out);
                  });
                });
              });
              socket.on("question", (q, answer) => answer(q + "!"));
            })""",
            [transport, ASCII, text],
        )
    finally:
        context.close()
    assert errors == []
    # JSONP polls carry the callback index j; XHR polls never do.
    assert any("&j=" in url for url in urls) is (transport == "jsonp")
    assert result == {
        "early": [ASCII, {"n": 1, "list": [True, None]}],
        "welcome": True,
        "unicode": text,
        "received": len(text),
        "asked": "why!",
        "transport": transport if transport != "jsonp" else "polling",
        "connected": True,
    }
