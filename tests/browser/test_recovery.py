"""Connection state recovery with the bundled client in Chromium, on each
transport: a socket whose transport closes while the server broadcasts gets
its id, rooms and data back and what it missed, in order; a session over its
cap gets a fresh socket. The servers are the interop suite's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from interop.recovery_app import CAPPED_PATH, build_recovery_servers

import realtime

from .app import PAGE
from .conftest import ServerThread
from .test_client import TRANSPORTS, open_client

# Run in the page: connect a watcher and a victim on `path`, put the victim in
# a room, lose its transport, broadcast while it is away, bring it back and
# wait for `expected` events in all.
SCENARIO = """async ([transport, path, room, expected]) => {
  const opts = {transports: [transport], forceNew: true, reconnection: false, path};
  const watcher = harness.connect(opts);
  const victim = harness.connect(opts);
  await harness.next(watcher, "connect");
  if (!victim.connected) await harness.next(victim, "connect");
  const got = [];
  victim.on("rec_msg", function () { got.push(Array.prototype.slice.call(arguments)); });
  const until = async (check) => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  await harness.call(victim, "rec_join", [room, "vee"]);
  await harness.call(watcher, "rec_send", [room, "before"]);
  await until(() => got.length === 1);
  const firstId = victim.id;
  const gone = harness.next(victim, "disconnect");
  victim.io.engine.close();
  await gone;
  const [noticed] = await harness.call(watcher, "rec_gone", [firstId]);
  for (const [to, value] of [[room, 1], ["elsewhere", "not for it"], [room, 2], [null, 3]]) {
    await harness.call(watcher, "rec_send", [to, value]);
  }
  victim.connect();
  await harness.next(victim, "connect");
  const recovered = victim.recovered;
  await until(() => got.length >= expected);
  const [me] = await harness.call(victim, "rec_whoami");
  return {noticed, recovered, sameId: victim.id === firstId, got, me,
          transport: harness.transport(victim)};
}"""


@pytest.fixture
def base(servers: ServerThread) -> str:
    app = web.Application()

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text=PAGE.format(script="/socket.io/realtime.js"), content_type="text/html"
        )

    app.router.add_get("/", page)
    for sio in build_recovery_servers():
        realtime.attach(sio, app)
    return f"http://127.0.0.1:{servers.start(app)}"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_bundled_client_recovers(
    base: str, new_page: Callable[..., Any], transport: str
) -> None:
    page = open_client(new_page, base + "/")
    room = "crew-" + transport
    result = page.evaluate(SCENARIO, [transport, "/socket.io", room, 4])
    assert result["transport"] == transport
    assert result["noticed"] is True
    assert result["recovered"] is True and result["sameId"] is True
    values = [args[0] for args in result["got"]]
    assert values == ["before", 1, 2, 3]
    offsets = [args[1] for args in result["got"]]  # each stored broadcast's, last
    assert all(isinstance(o, str) for o in offsets) and len(set(offsets)) == 4
    me = result["me"]
    assert me["rooms"] == sorted([me["id"], room]) and me["data"] == {"name": "vee"}
    assert me["recovered"] is True and me["connects"] == [False, True]


@pytest.mark.parametrize("transport", ["websocket", "jsonp"])
def test_over_the_cap_the_bundled_client_gets_a_fresh_socket(
    base: str, new_page: Callable[..., Any], transport: str
) -> None:
    page = open_client(new_page, base + "/")
    result = page.evaluate(SCENARIO, [transport, CAPPED_PATH, "capped-" + transport, 1])
    assert result["noticed"] is True
    assert result["recovered"] is False and result["sameId"] is False
    # Nothing replayed (the whoami round trip after it would have flushed it).
    assert [args[0] for args in result["got"]] == ["before"]
    assert result["me"]["rooms"] == [result["me"]["id"]]
