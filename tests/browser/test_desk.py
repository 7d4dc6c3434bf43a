"""The support desk (examples/desk) in Chromium: a company made in the
lobby, its admin on WebSocket adding an agent who works over XHR polling, a
customer on JSONP (a page without WebSocket or XMLHttpRequest) and one on
WebSocket, unread counts, typing, a message too long, a transfer, and the
pages at phone width. One server and one company for the module."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from demos.desk_peers import PASSWORD, desk_module
from playwright.sync_api import expect

from .conftest import ServerThread

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    thread = ServerThread()
    app = desk_module().create_app(data_dir=tmp_path_factory.mktemp("desk"))
    try:
        yield f"http://127.0.0.1:{thread.start(app)}"
    finally:
        thread.close()


def sign_in(page: Any, name: str) -> None:
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORD)
    page.click("#login-button")
    expect(page.locator("#desk")).to_be_visible()
    expect(page.locator("#whoami")).to_contain_text(name)


def start_chat(page: Any, name: str) -> None:
    page.fill("#name", name)
    page.click("#start-button")
    expect(page.locator("#chat")).to_be_visible()


def item(page: Any, customer: str) -> Any:
    return page.locator("#conversations li", has_text=customer)


def thread(page: Any) -> list[str]:
    return [str(t) for t in page.locator("#messages .bubble").all_inner_texts()]


def test_a_company_its_agents_and_customers_on_three_transports(
    base: str, new_page: Callable[..., Any], tmp_path: Path
) -> None:
    lobby = new_page(base + "/desk/")
    lobby.fill("#slug", "acme")
    lobby.fill("#company", "Acme Inc.")
    lobby.fill("#admin", "Ada")
    lobby.fill("#password", "short")
    lobby.click("#create-button")
    expect(lobby.locator("#create-error")).to_contain_text("8 to 200 characters")
    lobby.fill("#password", PASSWORD)
    lobby.click("#create-button")
    lobby.wait_for_url(base + "/desk/acme/agent")
    ada = lobby
    ada.fill("#login-name", "Ada")
    ada.fill("#login-password", "wrong password")
    ada.click("#login-button")
    expect(ada.locator("#login-error")).to_have_text("Wrong name or password.")
    sign_in(ada, "Ada")
    expect(ada.locator("#status")).to_have_text("online via websocket")
    expect(ada.locator("#team")).to_be_visible()  # the admin's form
    ada.fill("#agent-name", "Bob")
    ada.fill("#agent-password", PASSWORD)
    ada.click("#add-agent")
    expect(ada.locator("#team-message")).to_have_text("Bob can sign in now.")

    bob = new_page(base + "/desk/acme/agent?transports=polling")
    sign_in(bob, "Bob")
    expect(bob.locator("#status")).to_have_text("online via polling")
    expect(bob.locator("#team")).to_be_hidden()
    for agent in (ada, bob):
        expect(agent.locator("#agents li")).to_have_count(2)

    # Each customer to the least busy agent: Cy (on JSONP) to Ada, Di to Bob.
    cy = new_page(base + "/desk/acme/", legacy=True)
    expect(cy.locator("#company")).to_have_text("Acme Inc.")
    start_chat(cy, "Cy")
    expect(cy.locator("#status")).to_have_text("online via jsonp")
    expect(cy.locator("#state")).to_have_text("You are talking with Ada.")
    expect(item(ada, "Cy")).to_have_count(1)
    di = new_page(base + "/desk/acme/?transports=websocket")
    start_chat(di, "Di")
    expect(di.locator("#state")).to_have_text("You are talking with Bob.")
    expect(item(bob, "Di")).to_have_count(1)
    expect(item(ada, "Di")).to_have_count(0)

    # Cy writes: an unread count on Ada's list, gone once she opens it.
    for line in ("Hello from a browser without WebSocket", "My order is late"):
        cy.fill("#text", line)
        cy.click("#send")
        expect(cy.locator("#messages .message.mine .bubble").last).to_have_text(line)
    expect(item(ada, "Cy").locator(".unread")).to_have_text("2")
    item(ada, "Cy").click()
    expect(ada.locator("#thread-title")).to_have_text("Cy")
    expect(ada.locator("#messages .bubble")).to_have_count(2)
    expect(item(ada, "Cy").locator(".unread")).to_have_count(0)
    cy.type("#text", "Are")
    expect(ada.locator("#typing")).to_have_text("Cy is typing\u2026")
    cy.fill("#text", "")
    ada.fill("#text", "Sorry! <b>Let me look</b> \u00e9 \U0001f600")
    ada.click("#send")
    expect(cy.locator("#messages .message:not(.mine) .bubble").last).to_have_text(
        "Sorry! <b>Let me look</b> \u00e9 \U0001f600"
    )
    assert cy.locator("#messages b").count() == 0

    # Too long: Cy is told, nobody else hears of it.
    cy.fill("#text", "x" * 2001)
    cy.click("#send")
    expect(cy.locator("#error")).to_have_text(
        "Messages are at most 2000 characters; this one has 2001."
    )
    assert len(thread(ada)) == 3

    # Ada hands Cy over to Bob: it leaves her list and joins his, history and all.
    ada.select_option("#transfer-to", label="Bob")
    ada.click("#transfer")
    expect(item(ada, "Cy")).to_have_count(0)
    expect(ada.locator("#thread-title")).to_have_text("Pick a conversation")
    expect(cy.locator("#state")).to_have_text("You are talking with Bob.")
    item(bob, "Cy").click()
    expect(bob.locator("#messages .bubble")).to_have_count(3)
    expect(bob.locator("#messages .notice").last).to_have_text("Bob joined.")
    bob.fill("#text", "Hi Cy, Bob here.")
    bob.click("#send")
    expect(cy.locator("#messages .bubble").last).to_have_text("Hi Cy, Bob here.")

    # A reload keeps both sides where they were (tokens in localStorage).
    cy.reload()
    expect(cy.locator("#chat")).to_be_visible()
    expect(cy.locator("#messages .bubble")).to_have_count(4)
    bob.reload()
    expect(bob.locator("#desk")).to_be_visible()
    expect(bob.locator("#conversations li")).to_have_count(2)

    bob.set_viewport_size({"width": 1280, "height": 720})
    item(bob, "Cy").click()
    expect(bob.locator("#messages .bubble")).to_have_count(4)
    di.fill("#text", "Is anyone there?")
    di.click("#send")
    expect(item(bob, "Di").locator(".unread")).to_have_text("1")
    expect(item(bob, "Di").locator(".last")).to_have_text("Is anyone there?")
    expect(bob.locator("#messages .bubble")).to_have_count(4)  # Cy's thread stays open
    # docs/desk.png is refreshed only when asked: a test run leaves the
    # checkout as it found it.
    shots = DOCS if os.environ.get("REALTIME_SCREENSHOTS") else tmp_path
    bob.screenshot(path=str(shots / "desk.png"))
    assert (shots / "desk.png").stat().st_size > 10_000


def test_at_phone_width_the_pages_keep_to_one_column(
    base: str, new_page: Callable[..., Any]
) -> None:
    page = new_page(base + "/desk/acme/")
    page.set_viewport_size({"width": 375, "height": 700})
    start_chat(page, "Mo")
    field = page.locator("#text").bounding_box()
    send = page.locator("#send").bounding_box()
    assert abs(send["y"] - field["y"]) < field["height"]  # one row: the button did not wrap
    assert send["x"] + send["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    agent = new_page(base + "/desk/acme/agent")
    agent.set_viewport_size({"width": 375, "height": 700})
    sign_in(agent, "Ada")
    side = agent.locator("#side").bounding_box()
    main = agent.locator("#main").bounding_box()
    assert side["y"] + side["height"] <= main["y"]  # stacked, not side by side
    assert agent.evaluate("document.documentElement.scrollWidth") <= 375
