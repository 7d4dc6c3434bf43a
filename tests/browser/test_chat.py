"""The chat demo with three people at once: one on WebSocket, one on XHR
polling, one in a browser without WebSocket or XMLHttpRequest (JSONP).
Two of them pick the same name. Every screen is checked as people join,
talk and leave."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from playwright.sync_api import expect

from .conftest import ServerThread

CHAT_APP = Path(__file__).resolve().parents[2] / "examples" / "chat" / "app.py"


def create_app() -> web.Application:
    # Loaded by path: examples/ is not an installed package.
    spec = importlib.util.spec_from_file_location("chat_demo_app", CHAT_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app: web.Application = module.create_app()
    return app


def join(page: Any, name: str) -> None:
    page.fill("#name", name)
    page.click("#join-button")
    expect(page.locator("#room")).to_be_visible()


def roster(page: Any) -> list[str]:
    return [" ".join(t.split()) for t in page.locator("#users li").all_inner_texts()]


def expect_roster(pages: list[Any], count: int) -> None:
    for page in pages:
        expect(page.locator("#count")).to_have_text(str(count))
        expect(page.locator("#users li")).to_have_count(count)


def test_three_people_on_three_transports(
    servers: ServerThread, new_page: Callable[..., Any]
) -> None:
    base = f"http://127.0.0.1:{servers.start(create_app())}"
    ws = new_page(base + "/?transports=websocket")
    polling = new_page(base + "/?transports=polling")
    legacy = new_page(base + "/", legacy=True)
    everyone = [ws, polling, legacy]

    join(ws, "Sam")
    expect_roster([ws], 1)
    assert roster(ws) == ["Sam (you)"]

    join(polling, "Sam")
    expect_roster([ws, polling], 2)
    expect(ws.locator("#messages .notice").last).to_have_text("Sam joined.")

    join(legacy, "  Ada  ")
    expect_roster(everyone, 3)
    assert roster(ws) == ["Ada", "Sam (you)", "Sam"] or roster(ws) == ["Ada", "Sam", "Sam (you)"]
    assert sorted(roster(polling)) == ["Ada", "Sam", "Sam (you)"]
    assert roster(legacy) == ["Ada (you)", "Sam", "Sam"]
    for page, transport in ((ws, "websocket"), (polling, "polling"), (legacy, "jsonp")):
        expect(page.locator("#status")).to_have_text("online via " + transport)

    # Each person speaks; every screen shows every line, in order.
    lines = [
        (legacy, "Hello from a browser without WebSocket"),
        (ws, "Hi Ada! \u00e9\u00e8 \U0001f600 <b>not bold</b>"),
        (polling, "Two Sams, one room"),
    ]
    for speaker, line in lines:
        speaker.fill("#text", line)
        speaker.click("#send")
        for page in everyone:
            expect(page.locator("#messages .message .text").last).to_have_text(line)
    for page in everyone:
        texts = page.locator("#messages .message .text").all_inner_texts()
        assert texts == [line for _, line in lines]
        senders = page.locator("#messages .message .from").all_inner_texts()
        assert senders == ["Ada", "Sam", "Sam"]
        assert page.locator("#messages .message b").count() == 0
    assert ws.locator("#messages .mine .text").all_inner_texts() == [lines[1][1]]

    # The polling Sam leaves with the button; the others see it at once.
    polling.click("#leave")
    expect(polling.locator("#join")).to_be_visible()
    expect_roster([ws, legacy], 2)
    assert roster(legacy) == ["Ada (you)", "Sam"]
    expect(legacy.locator("#messages .notice").last).to_have_text("Sam left.")

    # Ada closes her tab; Sam is alone.
    legacy.close()
    expect_roster([ws], 1)
    assert roster(ws) == ["Sam (you)"]
    expect(ws.locator("#messages .notice").last).to_have_text("Ada left.")

    # Back in the room from the same tab, under another name.
    join(polling, "Bea")
    expect_roster([ws, polling], 2)
    assert roster(polling) == ["Bea (you)", "Sam"]


def test_a_name_is_required(servers: ServerThread, new_page: Callable[..., Any]) -> None:
    page = new_page(f"http://127.0.0.1:{servers.start(create_app())}/")
    page.fill("#name", "   ")
    page.click("#join-button")
    expect(page.locator("#join-error")).to_have_text("Please choose a name.")
    expect(page.locator("#room")).to_be_hidden()
