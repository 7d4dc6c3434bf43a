"""The WebIM (examples/webim) in Chromium: people on WebSocket, XHR polling
and JSONP (a page without WebSocket or XMLHttpRequest) befriending each
other, talking 1:1 and in a group, sending an image that everyone sees
inline; unread counts; one person in two tabs; messages waiting for someone
offline; the refusals (too long, too big) shown to the sender alone; a
presence notice that overtakes the first state; and a server restart after
which the page signs in again by its token."""

from __future__ import annotations

import importlib
import os
import random
import struct
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import ServerThread

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def webim_module() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))  # last: `realtime` comes from where the run says
    return importlib.import_module("examples.webim.app")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the module, its data in a temporary folder."""
    thread = ServerThread()
    app = webim_module().create_app(tmp_path_factory.mktemp("webim"))
    yield f"http://127.0.0.1:{thread.start(app)}"
    thread.close()


def png(width: int, height: int) -> bytes:
    """A real PNG of noise, which the browser decodes to that size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    # A gradient with noise: pleasant in the screenshot, and incompressible
    # enough that the file takes several chunks.
    noise = random.Random(16)
    rows = b"".join(
        b"\x00"
        + bytes(
            channel
            for x in range(width)
            for channel in (
                40 + x * 150 // width + noise.randrange(40),
                90 + y * 100 // height + noise.randrange(40),
                200 + noise.randrange(40),
            )
        )
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def sign_up(new_page: Callable[..., Any], base: str, name: str, query: str = "", **kw: Any) -> Any:
    page = new_page(f"{base}/webim/{query}", **kw)
    expect(page.locator("#auth")).to_be_visible()
    page.fill("#name", name)
    page.fill("#password", "password-" + name)
    page.click("#signup")
    expect(page.locator("#main")).to_be_visible()
    expect(page.locator("#my-name")).to_have_text(name)
    return page


def befriend(asker: Any, other: Any, name: str, asker_name: str) -> None:
    asker.fill("#friend-name", name)
    asker.click("#add-friend-button")
    request = other.locator("#requests li", has_text=f"{asker_name} wants to be friends")
    request.locator("button", has_text="Accept").click()
    expect(asker.locator("#friends li", has_text=name)).to_contain_text("online")
    expect(other.locator("#friends li", has_text=asker_name)).to_contain_text("online")


def say(page: Any, line: str) -> None:
    page.fill("#text", line)
    page.click("#send")


def last_text(page: Any) -> Any:
    return page.locator("#messages .message .text").last


def test_three_transports_friends_a_group_and_an_image(
    base: str, new_page: Callable[..., Any], tmp_path: Path
) -> None:
    ann = sign_up(new_page, base, "Ann", "?transports=websocket")
    bob = sign_up(new_page, base, "Bob", "?transports=polling")
    cy = sign_up(new_page, base, "Cy", legacy=True)
    for page, transport in ((ann, "websocket"), (bob, "polling"), (cy, "jsonp")):
        expect(page.locator("#status")).to_have_text("online via " + transport)
        expect(page.locator("#online-count")).to_have_text("3")

    befriend(ann, bob, "Bob", "Ann")
    befriend(cy, ann, "Ann", "Cy")

    # 1:1: Ann writes to Bob; Bob sees an unread count, then the message.
    ann.locator("#friends li", has_text="Bob").click()
    expect(ann.locator("#talk-presence")).to_have_text("online")
    line = "Hi Bob \U0001f600 <b>not bold</b>"
    say(ann, line)
    expect(last_text(ann)).to_have_text(line)
    talk = bob.locator("#conversations li", has_text="Ann")
    expect(talk.locator(".unread")).to_have_text("1")
    talk.click()
    expect(last_text(bob)).to_have_text(line)
    assert bob.locator("#messages b").count() == 0
    expect(bob.locator("#conversations li", has_text="Ann").locator(".unread")).to_have_count(0)

    # A group on all three transports.
    ann.fill("#group-name", "Trio")
    ann.click("#new-group-button")
    expect(ann.locator("#talk-title")).to_have_text("Trio")
    for name in ("Bob", "Cy"):
        ann.select_option("#invite-who", label=name)
        ann.click("#invite")
        expect(ann.locator("#members")).to_contain_text(name)
    for page in (bob, cy):
        page.locator("#groups li", has_text="Trio").click()
        expect(page.locator("#members")).to_have_text("Ann, Bob, Cy")
    say(cy, "hello from a browser without WebSocket")
    for page in (ann, bob, cy):
        expect(last_text(page)).to_have_text("hello from a browser without WebSocket")
    expect(ann.locator("#messages .message .from").last).to_have_text("Cy")

    # An image in binary chunks (over JSONP here), with a progress bar; inline for all.
    picture = tmp_path / "noise.png"
    picture.write_bytes(png(300, 200))
    assert picture.stat().st_size > 2 * 64 * 1024  # three chunks
    # The progress bar's widths as the page sets them, chunk by chunk.
    cy.evaluate(
        "() => { window.widths = []; var bar = document.getElementById('progress-bar');"
        " new MutationObserver(function () { window.widths.push(bar.style.width); })"
        ".observe(bar, {attributes: true}); }"
    )
    cy.set_input_files("#file", str(picture))
    for page in (ann, bob, cy):
        image = page.locator("#messages .message img").last
        expect(image).to_have_attribute("alt", "noise.png")
        page.wait_for_function(
            "() => { var i = document.querySelectorAll('#messages img');"
            " return i.length && i[i.length - 1].naturalWidth === 300; }"
        )
    expect(cy.locator("#progress")).to_be_hidden()
    widths = [int(w.rstrip("%")) for w in cy.evaluate("window.widths")]
    assert widths[0] == 0 and widths[-1] == 100 and any(0 < w < 100 for w in widths), widths

    # Too big, too long: said to the sender only.
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x00" * 600_000)
    bob.set_input_files("#file", str(big))
    expect(bob.locator("#talk-error")).to_have_text(
        "That file has 600000 bytes; the limit is 524288 (512 KiB)."
    )
    say(bob, "x" * 2001)
    expect(bob.locator("#talk-error")).to_have_text(
        "That message has 2001 characters; the limit is 2000."
    )
    for page in (ann, cy):
        expect(page.locator("#talk-error")).to_have_text("")
        assert page.locator("#messages .message").count() == 2

    # Bob leaves the group: the others see two members.
    bob.click("#leave-group")
    expect(ann.locator("#members")).to_have_text("Ann, Cy")
    expect(bob.locator("#groups li", has_text="Trio")).to_have_count(0)

    if os.environ.get("REALTIME_SCREENSHOTS"):
        ann.set_viewport_size({"width": 1100, "height": 900})
        ann.locator("#conversations li", has_text="Trio").click()
        expect(ann.locator("#messages .message img")).to_have_count(1)
        ann.wait_for_function(
            "() => { var i = document.querySelector('#messages img');"
            " return i && i.naturalWidth === 300; }"
        )
        ann.evaluate("window.scrollTo(0, 0)")
        ann.screenshot(path=str(DOCS / "webim.png"))


def test_two_tabs_one_conversation_and_messages_waiting_while_offline(
    base: str, new_page: Callable[..., Any]
) -> None:
    dee = sign_up(new_page, base, "Dee")
    eli = sign_up(new_page, base, "Eli", "?transports=polling")
    befriend(dee, eli, "Eli", "Dee")
    second = new_page(f"{base}/webim/", tab_of=dee)  # the same browser: signed in by its token
    expect(second.locator("#my-name")).to_have_text("Dee")
    for tab in (dee, second):
        tab.locator("#friends li", has_text="Eli").click()
    say(dee, "typed in the first tab")
    for tab in (dee, second):
        expect(last_text(tab)).to_have_text("typed in the first tab")
    say(second, "and in the second")
    expect(last_text(dee)).to_have_text("and in the second")

    # Eli goes away: Dee sees when, and writes anyway.
    context = eli.context
    eli.close()
    expect(dee.locator("#friends li", has_text="Eli")).to_contain_text("last seen ")
    expect(dee.locator("#talk-presence")).to_contain_text("last seen ")
    say(dee, "are you there?")
    say(second, "call me")
    expect(last_text(dee)).to_have_text("call me")
    eli = context.new_page()
    eli.goto(f"{base}/webim/?transports=polling")
    talk = eli.locator("#conversations li", has_text="Dee")
    expect(talk.locator(".unread")).to_have_text("4")
    talk.click()
    expect(last_text(eli)).to_have_text("call me")
    texts = eli.locator("#messages .message .text").all_inner_texts()
    assert texts == ["typed in the first tab", "and in the second", "are you there?", "call me"]

    # Logging out forgets the session in this browser.
    eli.click("#logout")
    expect(eli.locator("#auth")).to_be_visible()
    eli.reload()
    expect(eli.locator("#auth")).to_be_visible()
    eli.fill("#name", "Eli")
    eli.fill("#password", "wrong password")
    eli.click("#login")
    expect(eli.locator("#auth-error")).to_have_text("Wrong name or password.")


def test_at_phone_width_the_lists_sit_above_the_conversation(
    base: str, new_page: Callable[..., Any]
) -> None:
    page = sign_up(new_page, base, "Fay")
    page.set_viewport_size({"width": 375, "height": 740})
    side = page.locator("#side").bounding_box()
    talk = page.locator("#talk").bounding_box()
    assert side["y"] + side["height"] <= talk["y"]
    assert side["width"] > 300 and talk["width"] > 300
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_browser_that_cannot_read_files_says_so_and_still_shows_them(
    base: str, new_page: Callable[..., Any]
) -> None:
    old = sign_up(new_page, base, "Gus", legacy=True)
    old.context.add_init_script("window.FileReader = undefined;")  # as in IE9 and older
    old.reload()
    expect(old.locator("#my-name")).to_have_text("Gus")  # the session survived the reload
    expect(old.locator("#status")).to_have_text("online via jsonp")
    expect(old.locator("#attach")).to_be_hidden()
    expect(old.locator("#no-files")).to_be_visible()
    expect(old.locator("#no-files")).to_contain_text("cannot send them")
    expect(old.locator("#no-files")).to_contain_text("still shows the images and files")


def test_after_a_restart_the_page_signs_in_again_by_its_token(
    servers: ServerThread, new_page: Callable[..., Any], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    port = servers.start(webim_module().create_app(data))
    base = f"http://127.0.0.1:{port}"
    hal = sign_up(new_page, base, "Hal")
    ivy = sign_up(new_page, base, "Ivy", "?transports=polling")
    befriend(hal, ivy, "Ivy", "Hal")
    hal.locator("#friends li", has_text="Ivy").click()
    say(hal, "before the restart")
    expect(last_text(hal)).to_have_text("before the restart")
    ivy_browser = ivy.context
    ivy.close()
    expect(hal.locator("#friends li", has_text="Ivy")).to_contain_text("last seen ")
    seen = hal.locator("#friends li", has_text="Ivy").inner_text()

    # A new server on the same port and data: the page reconnects by itself
    # and its token (kept in localStorage) signs it in again.
    servers.stop(port)
    expect(hal.locator("#status")).to_have_text("offline, reconnecting\u2026")
    servers.start(webim_module().create_app(data), port)
    expect(hal.locator("#status")).to_have_text("online via websocket", timeout=15_000)
    expect(hal.locator("#main")).to_be_visible()
    expect(hal.locator("#my-name")).to_have_text("Hal")
    expect(hal.locator("#friends li", has_text="Ivy")).to_have_text(seen)  # from SQLite
    # Ivy's browser, on a page opened anew, is signed in too; the line waited.
    ivy = ivy_browser.new_page()
    ivy.goto(f"{base}/webim/?transports=polling")
    expect(ivy.locator("#my-name")).to_have_text("Ivy")
    talk = ivy.locator("#conversations li", has_text="Hal")
    expect(talk.locator(".unread")).to_have_text("1")
    talk.click()
    expect(last_text(ivy)).to_have_text("before the restart")


def test_a_presence_notice_before_the_first_state_is_not_lost(
    base: str, new_page: Callable[..., Any]
) -> None:
    """The server's first frames to a page signed in by its token are held so
    that a presence notice comes before the session: the page applies it over
    the state that follows instead of dropping it."""
    quinn = sign_up(new_page, base, "Quinn", "?transports=websocket")
    notice = '42/webim,["presence",{"id":987654,"name":"Zed","online":true,"last_seen":null}]'

    def hold_until_the_session(ws: Any) -> None:
        server = ws.connect_to_server()

        def to_page(message: str | bytes) -> None:
            if isinstance(message, str) and message.startswith('42/webim,["session"'):
                ws.send(notice)  # ahead of the state, as a notice that overtook it
            ws.send(message)

        server.on_message(to_page)

    quinn.context.route_web_socket("**/socket.io/**", hold_until_the_session)
    again = new_page(f"{base}/webim/?transports=websocket", tab_of=quinn)
    expect(again.locator("#my-name")).to_have_text("Quinn")
    expect(again.locator("#online li", has_text="Zed")).to_have_count(1)
