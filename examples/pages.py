"""What the demos' pages share: ``examples/static/page.js``, served by each
demo under its own prefix so that it works alone as well as with the others."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

SHARED_SCRIPT: Final = Path(__file__).with_name("static") / "page.js"


def add_shared_script(app: web.Application, prefix: str) -> None:
    """``<prefix>page.js``; add it before the demo's own static route of ``prefix``."""

    async def script(request: web.Request) -> web.FileResponse:
        return web.FileResponse(SHARED_SCRIPT)

    app.router.add_get(prefix + "page.js", script)
