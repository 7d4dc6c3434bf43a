"""The per-host polling floor (servers/floor_app.py) answers the protocol the load
generator's polling-echo speaks: on uvicorn (its ASGI app) and on werkzeug's threads
(its WSGI app, the one every WSGI host serves)."""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from driver import env, procs

SEP = "\x1e"


@pytest.mark.parametrize("host", ["uvicorn", "threads"])
def test_the_floor_connects_and_echoes_on_a_parked_poll(host: str) -> None:
    spec = procs.ServerSpec(
        f"floor-{host}",
        f"floor on {host}",
        (sys.executable, str(env.BENCH / "servers" / "floor_app.py"), f"--host={host}"),
    )
    with tempfile.TemporaryFile("w+") as log, procs.running_server(spec, log) as (_, port):

        def request(method: str, path: str, body: str = "") -> str:
            # A connection each: werkzeug closes every one after its answer.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request(method, path, body.encode() if method == "POST" else None)
                res = conn.getresponse()
                text = res.read().decode()
                assert res.status == 200, text
                return text
            finally:
                conn.close()

        opened = request("GET", "/socket.io/?EIO=4&transport=polling")
        assert opened[0] == "0"
        sid = json.loads(opened[1:])["sid"]
        path = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
        event = '42["echo",{"n":1,"s":"the quick brown fox"}]'
        # Two packets in one payload, both answered in the next poll's.
        assert request("POST", path, "40" + SEP + event) == "ok"
        assert request("GET", path).split(SEP) == [f'40{{"sid":"{sid}"}}', event]
        with ThreadPoolExecutor(1) as pool:
            poll = pool.submit(request, "GET", path)  # parks: nothing to send yet
            assert request("POST", path, event.replace("1", "2")) == "ok"
            assert poll.result(timeout=10) == event.replace("1", "2")
