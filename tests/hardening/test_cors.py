"""CORS over raw HTTP, on the front door and on a plain aiohttp site.

The policy: ``"*"`` answers ``Access-Control-Allow-Origin: *`` and never
credentials; an explicit setting reflects an allowed origin with
``Vary: Origin`` on every answer, and credentials only with
``cors_credentials=True``; ``Origin: null`` is never reflected; a preflight
allows a fixed list of request headers, never an echo of the asked ones.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

import realtime
from realtime.integrations.aiohttp import FrontDoorSite

Fields = dict[str, str]
Send = Callable[..., Awaitable[tuple[int, Fields, bytes]]]
Start = Callable[..., Awaitable[Send]]


@pytest.fixture(params=["door", "aiohttp"])
async def serve(request: pytest.FixtureRequest) -> AsyncIterator[Start]:
    runners: list[tuple[web.AppRunner, web.TCPSite]] = []

    async def start(**options: Any) -> Send:
        engine = realtime.Engine(path="/socket.io", **options)
        engine.on("connect", lambda conn: conn.send("hi"))  # a first poll answers at once
        app = web.Application()
        realtime.attach(engine, app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        site: web.TCPSite = (
            FrontDoorSite(runner, "127.0.0.1", 0)
            if request.param == "door"
            else web.TCPSite(runner, "127.0.0.1", 0)
        )
        await site.start()
        runners.append((runner, site))
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

        async def send(method: str, target: str, *fields: str) -> tuple[int, Fields, bytes]:
            return await _exchange(port, method, target, fields)

        return send

    yield start
    for runner, site in runners:
        await runner.cleanup()
        if isinstance(site, FrontDoorSite):
            site.close_all()


async def _exchange(
    port: int, method: str, target: str, fields: tuple[str, ...]
) -> tuple[int, Fields, bytes]:
    """One request on its own connection, as raw bytes both ways."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", *fields]
    lines += ["Content-Length: 0", "Connection: close", "", ""]
    writer.write("\r\n".join(lines).encode())
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *field_lines = head.decode("latin-1").split("\r\n")
    answer: Fields = {}
    for line in field_lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        # Repeated fields (two Vary lines) read as one list, as HTTP defines.
        answer[name] = f"{answer[name]}, {value.strip()}" if name in answer else value.strip()
    return int(status_line.split(" ")[1]), answer, body


HANDSHAKE = "/socket.io/?EIO=4&transport=polling"
EVIL = "Origin: http://evil.example"
GOOD = "Origin: https://app.example"


def _varies(fields: Fields) -> bool:
    return "origin" in [v.strip().lower() for v in fields.get("vary", "").split(",")]


async def test_star_answers_star_without_credentials(serve: Start) -> None:
    send = await serve(cors_allowed_origins="*")
    for origin in (EVIL, "Origin: null", GOOD):
        status, fields, _ = await send("GET", HANDSHAKE, origin)
        assert status == 200
        assert fields["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in fields
    # an error answer too
    status, fields, _ = await send("GET", "/socket.io/?EIO=4&transport=polling&sid=x", EVIL)
    assert status == 400
    assert fields["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in fields


async def test_star_preflight_does_not_echo_requested_headers(serve: Start) -> None:
    send = await serve(cors_allowed_origins="*")
    status, fields, _ = await send(
        "OPTIONS",
        "/socket.io/",
        EVIL,
        "Access-Control-Request-Method: POST",
        "Access-Control-Request-Headers: x-evil, content-type, cookie",
    )
    assert status == 204
    assert fields["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in fields
    allowed = {h.strip().lower() for h in fields["access-control-allow-headers"].split(",")}
    assert allowed == {"content-type", "authorization"}


async def test_listed_origin_is_reflected_with_vary_and_no_credentials(serve: Start) -> None:
    send = await serve(cors_allowed_origins=["https://app.example"])
    status, fields, body = await send("GET", HANDSHAKE, GOOD)
    assert status == 200
    assert fields["access-control-allow-origin"] == "https://app.example"
    assert _varies(fields)
    assert "access-control-allow-credentials" not in fields
    sid = json.loads(body[1:])["sid"]
    # a poll, and an error answer, for the same listed origin
    for target, expected in ((f"{HANDSHAKE}&sid={sid}", 200), (f"{HANDSHAKE}&sid=nope", 400)):
        status, fields, _ = await send("GET", target, GOOD)
        assert status == expected
        assert fields["access-control-allow-origin"] == "https://app.example"
        assert _varies(fields)


async def test_credentials_are_opt_in_for_listed_origins(serve: Start) -> None:
    send = await serve(cors_allowed_origins=["https://app.example"], cors_credentials=True)
    status, fields, _ = await send("GET", HANDSHAKE, GOOD)
    assert status == 200
    assert fields["access-control-allow-origin"] == "https://app.example"
    assert fields["access-control-allow-credentials"] == "true"
    assert _varies(fields)
    status, fields, _ = await send(
        "OPTIONS", "/socket.io/", GOOD, "Access-Control-Request-Headers: authorization"
    )
    assert status == 204
    assert fields["access-control-allow-credentials"] == "true"
    assert _varies(fields)


@pytest.mark.parametrize(
    "setting", [["https://app.example", "null"], "null", None, lambda origin: True]
)
async def test_null_origin_is_never_reflected(serve: Start, setting: Any) -> None:
    send = await serve(cors_allowed_origins=setting)
    for method, target in (("GET", HANDSHAKE), ("OPTIONS", "/socket.io/")):
        status, fields, body = await send(method, target, "Origin: null")
        assert (status, json.loads(body)) == (403, {"code": 4, "message": "Forbidden"})
        assert "access-control-allow-origin" not in fields
        assert "access-control-allow-credentials" not in fields
        assert _varies(fields)


async def test_refused_origin_learns_nothing_but_the_answer_varies(serve: Start) -> None:
    send = await serve(cors_allowed_origins=["https://app.example"], cors_credentials=True)
    for method, target in (("GET", HANDSHAKE), ("OPTIONS", "/socket.io/")):
        status, fields, body = await send(method, target, EVIL)
        assert (status, json.loads(body)) == (403, {"code": 4, "message": "Forbidden"})
        assert not any(name.startswith("access-control-") for name in fields)
        assert _varies(fields)


async def test_no_origin_still_varies_under_an_explicit_setting(serve: Start) -> None:
    send = await serve(cors_allowed_origins=["https://app.example"])
    status, fields, _ = await send("GET", HANDSHAKE)
    assert status == 200
    assert "access-control-allow-origin" not in fields
    assert _varies(fields)  # a cache must not hand this answer to a listed origin


@pytest.mark.parametrize("setting", ["*", None])
def test_credentials_for_every_origin_are_refused(setting: Any) -> None:
    with pytest.raises(ValueError, match="cors_credentials"):
        realtime.Engine(cors_allowed_origins=setting, cors_credentials=True)
    with pytest.raises(ValueError, match="cors_credentials"):
        realtime.Server(cors_allowed_origins=setting, cors_credentials=True)
