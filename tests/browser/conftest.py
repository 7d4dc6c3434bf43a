"""Headless Chromium (Debian's, never a downloaded one) driven by Playwright
against real servers running in a background thread, so a test can stop and
start a server on the same port."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from aiohttp import web
from playwright.sync_api import sync_playwright

from realtime.integrations.aiohttp import FrontDoorSite

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class ServerThread:
    """aiohttp applications served on loopback from one event loop thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runners: dict[int, tuple[web.AppRunner, FrontDoorSite]] = {}

    def call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=30)

    def start(self, app: web.Application, port: int | None = None) -> int:
        return int(self.call(self._start(app, port)))

    async def _start(self, app: web.Application, port: int | None) -> int:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        # Served as realtime.run serves: behind the front door.
        site = FrontDoorSite(runner, "127.0.0.1", port or 0, reuse_address=True)
        await site.start()
        self.runners[site.port] = (runner, site)
        return site.port

    def stop(self, port: int) -> None:
        runner, site = self.runners.pop(port)
        self.call(self._stop(runner, site))

    async def _stop(self, runner: web.AppRunner, site: FrontDoorSite) -> None:
        await runner.cleanup()
        site.close_all()

    def close(self) -> None:
        for port in list(self.runners):
            self.stop(port)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def servers() -> Iterator[ServerThread]:
    thread = ServerThread()
    yield thread
    thread.close()


# Module scope, not session: sync Playwright keeps an event loop running on
# the main thread while it lives, and the asyncio tests collected after the
# browser tests need that thread free.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Opens pages in fresh contexts; ``legacy=True`` removes WebSocket and
    XMLHttpRequest before any script runs, like IE6/7 on another origin."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_page(url: str, legacy: bool = False, tab_of: Any = None) -> Any:
        """``tab_of``: open another tab of that page's browser (its context:
        same localStorage and cookies) instead of a fresh one."""
        if tab_of is not None:
            page = tab_of.context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            return page
        context = browser.new_context()
        contexts.append(context)
        if legacy:
            context.add_init_script(
                "delete window.WebSocket; delete window.XMLHttpRequest;"
                "window.WebSocket = undefined; window.XMLHttpRequest = undefined;"
            )
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"
