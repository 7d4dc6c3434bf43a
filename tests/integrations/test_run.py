"""``realtime.run``'s ``handler_threads``: served as a program serves it, in a
process of its own (the embedded host: the front door and aiohttp)."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from integrations.blocking_app import assert_count_refused, only_its_socket_waits
from services import free_port, serving, stop_cleanly

import realtime
from realtime.integrations.aiohttp import make_app

HERE = Path(__file__).parent


async def test_handler_threads_run_a_blocking_def_handler_off_the_loop() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "blocking_app.py"),
        str(port),
        "2",
        cwd=HERE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with serving(proc, port):
        await only_its_socket_waits(f"http://127.0.0.1:{port}")
        # the workers stopped with the runtime, and nothing was left to complain
        err = await stop_cleanly(proc)
        assert b"Traceback" not in err, err.decode()


@pytest.mark.parametrize("count", [-1, 1.5, "4", True, None])
def test_handler_threads_is_checked(count: Any) -> None:
    # the aiohttp host is pure Python in both builds; Server is compiled with the core
    assert_count_refused(
        lambda n: make_app(realtime.Server(), handler_threads=n), count, compiled=False
    )
    assert_count_refused(
        lambda n: realtime.attach(realtime.Server(), web.Application(), handler_threads=n),
        count,
        compiled=False,
    )
    assert_count_refused(
        lambda n: realtime.Server().attach(web.Application(), handler_threads=n),
        count,
        compiled=realtime.COMPILED,
    )


def test_handler_threads_of_an_application_go_to_attach() -> None:
    app = web.Application()
    realtime.attach(realtime.Server(), app)
    # a port in use: were the option let through, run would stop there, not serve
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ValueError, match=r"realtime\.attach\(sio, app, handler_threads="):
            realtime.run(app, port=port, handler_threads=4)
