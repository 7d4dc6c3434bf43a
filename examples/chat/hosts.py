"""The chat, unchanged, on each host: ``python -m examples.chat.hosts HOST
[PORT]`` with HOST one of ``embedded``, ``uvicorn``, ``hypercorn``,
``eventlet``, ``gevent`` (gevent.pywsgi, not monkey-patched: the runtime
needs no patching), ``threads`` (werkzeug's threaded server); then
http://127.0.0.1:8000/chat/ (PORT defaults to 8000).

``asgi()`` and ``wsgi()`` build the applications for a server's own command
line: ``uvicorn --factory examples.chat.hosts:asgi``, ``granian --interface
asgi --factory examples.chat.hosts:asgi``, ``gunicorn --worker-class gthread
--threads 100 'examples.chat.hosts:wsgi()'``, ``gunicorn --worker-class gevent
'examples.chat.hosts:wsgi()'``.
"""

from __future__ import annotations

import sys
from typing import Any

import realtime
from examples.chat.app import STATIC_FILES, create_app, install_handlers

HOST = "127.0.0.1"


def server(**options: Any) -> realtime.Server:
    sio = realtime.Server(**options)
    install_handlers(sio)
    return sio


def asgi(**options: Any) -> realtime.ASGIApp:
    """The chat as an ASGI application (uvicorn, hypercorn, granian)."""
    return realtime.ASGIApp(server(**options), static_files=STATIC_FILES)


def wsgi(**options: Any) -> realtime.WSGIApp:
    """The chat as a WSGI application (eventlet, gevent, gunicorn, werkzeug)."""
    return realtime.WSGIApp(server(**options), static_files=STATIC_FILES)


def main(host: str, port: int) -> None:
    if host == "embedded":
        realtime.run(create_app(), host=HOST, port=port)
    elif host == "uvicorn":
        import uvicorn

        uvicorn.run(asgi(), host=HOST, port=port)
    elif host == "hypercorn":
        import asyncio

        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"{HOST}:{port}"]
        asyncio.run(serve(asgi(), config))
    elif host == "eventlet":
        import eventlet
        import eventlet.wsgi

        eventlet.wsgi.server(eventlet.listen((HOST, port)), wsgi())
    elif host == "gevent":
        from gevent.pywsgi import WSGIServer

        WSGIServer((HOST, port), wsgi()).serve_forever()
    elif host == "threads":
        from werkzeug.serving import run_simple

        run_simple(HOST, port, wsgi(), threaded=True)
    else:
        raise SystemExit(
            f"host is embedded, uvicorn, hypercorn, eventlet, gevent or threads, not {host!r}"
        )


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else "embedded",
        int(sys.argv[2]) if len(sys.argv) > 2 else 8000,
    )
