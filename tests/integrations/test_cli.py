"""``python -m realtime MODULE:ATTR``: serves, and shuts down cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

import aiohttp
import pytest
from integrations.blocking_app import only_its_socket_waits
from services import free_port, realtime_cli, serving, stop_cleanly, wait_until_serving

import realtime

HERE = Path(__file__).parent


async def cli(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await realtime_cli(*args, cwd=HERE, env=env)


@pytest.mark.parametrize(
    ("sig", "loop"),
    [(signal.SIGTERM, "auto"), (signal.SIGINT, "auto"), (signal.SIGTERM, "asyncio")],
)
async def test_cli_serves_and_stops_cleanly(sig: signal.Signals, loop: str) -> None:
    port = free_port()
    proc = await cli("echo_app:engine", "--port", str(port), "--loop", loop)
    try:
        await wait_until_serving(port, proc)
        async with aiohttp.ClientSession() as http:
            url = f"ws://127.0.0.1:{port}/engine.io/?EIO=4&transport=websocket"
            async with http.ws_connect(url) as ws:
                assert (await ws.receive_str()).startswith("0{")
                await ws.send_str("4ping me")
                assert await ws.receive_str() == "4ping me"
                proc.send_signal(sig)
                # the client is told: the WebSocket closes (engine.io sends no
                # CLOSE packet on WebSocket either)
                msg = await ws.receive(timeout=5)
                assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        out, err = await asyncio.wait_for(proc.communicate(), 10)
        assert proc.returncode == 0, err.decode()
        assert b"Traceback" not in err and b"Traceback" not in out
        assert f"http://127.0.0.1:{port}".encode() in out
        # uvloop is a dependency here, so "auto" picks it; the banner names
        # a compiled build, which the child imports like this process does
        build = b", compiled" if realtime.COMPILED else b""
        assert (b"(uvloop" if loop == "auto" else b"(asyncio") + build + b";" in out
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_cli_reports_a_bad_target() -> None:
    proc = await cli("echo_app:nothing")
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode != 0
    assert b"has no attribute 'nothing'" in err and b"Traceback" not in err


async def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, bytes]:
    proc = await cli(*args, env=env)
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode is not None
    return proc.returncode, err


def one_line(err: bytes) -> str:
    """What a first-day mistake must print: one line, no traceback."""
    assert b"Traceback" not in err, err.decode()
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


async def test_cli_names_a_target_of_the_wrong_type() -> None:
    code, err = await run_cli("echo_app:not_an_app")
    assert code == 1
    line = one_line(err)
    assert "echo_app:not_an_app is of type int" in line and "realtime.Server" in line


async def test_cli_says_the_port_is_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = await run_cli("echo_app:engine", "--port", str(port))
    assert code == 1
    line = one_line(err)
    assert f"port {port} on 127.0.0.1 is in use" in line and "--port" in line


async def test_cli_says_the_host_is_unknown() -> None:
    code, err = await run_cli("echo_app:engine", "--host", "no-such-host.invalid")
    assert code == 1
    assert "cannot listen on 'no-such-host.invalid': no such host" in one_line(err)


async def test_cli_refuses_a_bad_log_level_with_the_choices() -> None:
    code, err = await run_cli("echo_app:engine", "--log-level", "loud")
    assert code == 2  # argparse's status for a bad option
    assert b"Traceback" not in err
    assert b"'loud' is not one of debug, info, warning, error, critical" in err


async def test_cli_prints_its_version() -> None:
    proc = await cli("--version")
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    build = "compiled" if realtime.COMPILED else "pure Python"
    assert out.decode().startswith(f"realtime {realtime.__version__} ({build}, Python ")


async def test_cli_serves_a_module_that_calls_run_at_import_on_the_cli_port() -> None:
    """The module's own realtime.run() is not served: the CLI's --port is,
    once, and Ctrl-C stops the one server."""
    cli_port, own_port = free_port(), free_port()
    env = {**os.environ, "OWN_PORT": str(own_port)}
    proc = await cli("runs_at_import:sio", "--port", str(cli_port), env=env)
    try:
        await wait_until_serving(cli_port, proc)
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", own_port)
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    assert out.count(b"realtime serving on") == 1
    assert b"runs_at_import calls realtime.run() when imported" in err
    assert b'if __name__ == "__main__":' in err


async def test_cli_metrics_serves_a_scrape_and_a_health_check() -> None:
    port = free_port()
    proc = await cli("echo_app:engine", "--port", str(port), "--metrics")
    async with serving(proc, port):
        async with aiohttp.ClientSession() as http:
            url = f"ws://127.0.0.1:{port}/engine.io/?EIO=4&transport=websocket"
            async with http.ws_connect(url) as ws:
                assert (await ws.receive_str()).startswith("0{")
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    assert resp.status == 200
                    assert (await resp.json())["connections"] == 1
                async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                    assert resp.status == 200
                    text = await resp.text()
        assert 'realtime_connections{protocol="4",transport="websocket"} 1.0' in text
        assert "realtime_handshakes_total 1.0" in text
        await stop_cleanly(proc)


async def test_cli_handler_threads_run_a_blocking_def_handler_off_the_loop() -> None:
    port = free_port()
    proc = await cli("blocking_app:served", "--port", str(port), "--handler-threads", "2")
    async with serving(proc, port):
        await only_its_socket_waits(f"http://127.0.0.1:{port}")
        await stop_cleanly(proc)


async def test_cli_refuses_a_bad_handler_threads() -> None:
    code, err = await run_cli("echo_app:engine", "--handler-threads", "-1")
    assert code == 2
    assert b"'-1' is not a number of threads (0 or more)" in err
