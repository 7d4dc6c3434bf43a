"""The chat demo (examples/chat) in Chromium: people on WebSocket, XHR
polling and JSONP (a page without WebSocket or XMLHttpRequest) together,
two of them called Sam and told apart by their tags; one person in three
tabs; a line typed offline; a phone-width screen; a page the server refuses."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from playwright.sync_api import expect

from .conftest import ServerThread

ROOT = Path(__file__).resolve().parents[2]


def chat_module() -> Any:
    # examples/ is not an installed package: reach it from the checkout's
    # root, put last so that `realtime` still comes from where the run says.
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))
    return importlib.import_module("examples.chat.app")


def create_app(**options: Any) -> web.Application:
    app: web.Application = chat_module().create_app(**options)
    return app


def open_chat(new_page: Callable[..., Any], base: str, query: str = "", **kw: Any) -> Any:
    page = new_page(base + "/chat/" + query, **kw)
    expect(page.locator("#my-tag")).not_to_have_text("#\u2026")
    return page


def tag_of(page: Any) -> str:
    return str(page.locator("#my-tag").inner_text())


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


def test_three_people_on_three_transports_two_of_them_sam(
    servers: ServerThread, new_page: Callable[..., Any]
) -> None:
    base = f"http://127.0.0.1:{servers.start(create_app())}"
    ws = open_chat(new_page, base, "?transports=websocket")
    polling = open_chat(new_page, base, "?transports=polling")
    legacy = open_chat(new_page, base, legacy=True)
    everyone = [ws, polling, legacy]
    sam1, sam2, ada = tag_of(ws), tag_of(polling), tag_of(legacy)
    assert len({sam1, sam2, ada}) == 3

    join(ws, "Sam")
    expect_roster([ws], 1)
    assert roster(ws) == [f"Sam{sam1} (you)"]
    join(polling, "Sam")
    expect_roster([ws, polling], 2)
    expect(ws.locator("#messages .notice").last).to_have_text(f"Sam {sam2} joined.")
    join(legacy, "  Ada  ")
    expect_roster(everyone, 3)
    sams = sorted([f"Sam{sam1}", f"Sam{sam2}"])
    assert roster(legacy) == [f"Ada{ada} (you)", *sams]
    for page, transport in ((ws, "websocket"), (polling, "polling"), (legacy, "jsonp")):
        expect(page.locator("#status")).to_have_text("online via " + transport)

    lines = [
        (legacy, "Hello from a browser without WebSocket"),
        (ws, "Hi Ada! \u00e9\u00e8 \U0001f600 <b>not bold</b>"),
        (polling, "Two Sams, one room"),
    ]
    for speaker, line in lines:
        speaker.fill("#text", line)
        speaker.click("#send")
        for page in everyone:
            expect(page.locator("#messages .message:not(.pending) .text").last).to_have_text(line)
    for page in everyone:
        assert page.locator("#messages .message .text").all_inner_texts() == [t for _, t in lines]
        senders = page.locator("#messages .message .from").all_inner_texts()
        assert senders == [f"Ada{ada}", f"Sam{sam1}", f"Sam{sam2}"]  # told apart
        assert page.locator("#messages .message b").count() == 0
        assert page.locator("#messages .pending").count() == 0

    polling.click("#leave")
    expect(polling.locator("#join")).to_be_visible()
    expect_roster([ws, legacy], 2)
    expect(legacy.locator("#messages .notice").last).to_have_text(f"Sam {sam2} left.")
    legacy.close()
    expect_roster([ws], 1)
    expect(ws.locator("#messages .notice").last).to_have_text(f"Ada {ada} left.")


def test_one_person_in_three_tabs_is_one_person_online(
    servers: ServerThread, new_page: Callable[..., Any]
) -> None:
    base = f"http://127.0.0.1:{servers.start(create_app())}"
    watcher = open_chat(new_page, base)
    join(watcher, "Watcher")
    first = open_chat(new_page, base)
    tabs = [first] + [open_chat(new_page, base, tab_of=first) for _ in range(2)]
    assert len({tag_of(tab) for tab in tabs}) == 1  # one browser, one identity
    kim = tag_of(first)
    for tab in tabs:
        join(tab, "Kim")
    expect_roster([watcher, *tabs], 2)
    notices = watcher.locator("#messages .notice").all_inner_texts()
    assert notices.count(f"Kim {kim} joined.") == 1
    tabs[0].close()
    tabs[1].close()
    expect_roster([watcher, tabs[2]], 2)  # still online in the third tab
    tabs[2].close()
    expect_roster([watcher], 1)
    expect(watcher.locator("#messages .notice").last).to_have_text(f"Kim {kim} left.")


def test_a_line_typed_offline_waits_marked_pending(
    servers: ServerThread, new_page: Callable[..., Any]
) -> None:
    port = servers.start(create_app())
    base = f"http://127.0.0.1:{port}"
    page = open_chat(new_page, base, "?transports=websocket")
    join(page, "Lee")
    servers.stop(port)
    expect(page.locator("#status")).to_have_text("offline, reconnecting\u2026")
    page.fill("#text", "written while offline")
    page.click("#send")
    expect(page.locator("#messages .pending .text")).to_have_text("written while offline")
    expect(page.locator("#messages .pending .state")).to_have_text(
        "waiting for the connection\u2026"
    )
    servers.start(create_app(), port)
    expect(page.locator("#status")).to_have_text("online via websocket", timeout=20_000)
    expect(page.locator("#messages .pending")).to_have_count(0, timeout=20_000)
    expect(page.locator("#messages .message .text").last).to_have_text("written while offline")


def test_at_phone_width_the_list_sits_above_and_send_stays_beside_the_field(
    servers: ServerThread, new_page: Callable[..., Any]
) -> None:
    base = f"http://127.0.0.1:{servers.start(create_app())}"
    page = open_chat(new_page, base)
    page.set_viewport_size({"width": 375, "height": 700})
    join(page, "Mo")
    people = page.locator("#people").bounding_box()
    talk = page.locator("#conversation").bounding_box()
    field = page.locator("#text").bounding_box()
    send = page.locator("#send").bounding_box()
    assert people["y"] + people["height"] <= talk["y"]  # stacked, not side by side
    assert people["width"] > 300 and talk["width"] > 300
    assert abs(send["y"] - field["y"]) < field["height"]  # one row: the button did not wrap
    assert send["x"] + send["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_page_the_server_refuses_says_why(
    servers: ServerThread, new_page: Callable[..., Any]
) -> None:
    app = create_app(cors_allowed_origins=["https://elsewhere.example"])
    base = f"http://127.0.0.1:{servers.start(app)}"
    polling = new_page(base + "/chat/?transports=polling")
    expect(polling.locator("#problem")).to_contain_text("The server refused this page (HTTP 40")
    expect(polling.locator("#problem")).to_contain_text("cors_allowed_origins")
    ws = new_page(base + "/chat/?transports=websocket")
    expect(ws.locator("#problem")).to_contain_text("Could not open a WebSocket")
    expect(ws.locator("#problem")).not_to_contain_text("websocket error")


def test_a_name_is_required(servers: ServerThread, new_page: Callable[..., Any]) -> None:
    page = open_chat(new_page, f"http://127.0.0.1:{servers.start(create_app())}")
    page.fill("#name", "   ")
    page.click("#join-button")
    expect(page.locator("#join-error")).to_have_text("Please choose a name.")
    expect(page.locator("#room")).to_be_hidden()
