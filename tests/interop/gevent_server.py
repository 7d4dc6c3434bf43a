"""The interop app on gevent's WSGI server (realtime.WSGIApp on gevent's hub,
WebSocket framed by realtime), handlers unchanged (its ``async def``
ones await only acks, which block their greenlet there). The process is
monkey-patched, as gevent applications are. Prints its port, then serves
until killed.

    python gevent_server.py [MODULE:BUILDER]    default interop.app:build_server
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent.parent))

import realtime  # noqa: E402
from interop.app import server_from_argv  # noqa: E402


def main() -> None:
    server = WSGIServer(("127.0.0.1", 0), realtime.WSGIApp(server_from_argv(sys.argv)), log=None)
    server.start()
    print(server.address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
