"""Every demo on one server: ``make demo``, then http://127.0.0.1:8000/.

The index page links each demo; each demo installs its namespace, handlers,
page and static files on the one ``realtime.Server`` (``install(sio, app)``),
so they share one port, one engine and one set of connections' limits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aiohttp import web

import realtime
from examples.chat import app as chat
from examples.webim import app as webim

STATIC = Path(__file__).with_name("static")


def create_app(**options: Any) -> web.Application:
    """Every demo; ``options`` go to the server. ``REALTIME_DEMO_REDIS_URL``
    in the environment puts it on that Redis (``realtime.RedisAdapter``), as
    ``python -m realtime examples.app:app --workers 2`` needs."""
    redis_url = os.environ.get("REALTIME_DEMO_REDIS_URL")
    if redis_url and "adapter" not in options:
        options["adapter"] = realtime.RedisAdapter(redis_url)
    sio = realtime.Server(**options)
    app = web.Application()
    chat.install(sio, app)
    webim.install(sio, app)  # data in REALTIME_DEMO_DATA, default examples/data

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    sio.attach(app)
    return app


app = create_app()

if __name__ == "__main__":
    realtime.run(app, host="127.0.0.1", port=8000)
