"""The interop app on werkzeug's threaded WSGI server (realtime.WSGIApp on
threads, WebSocket framed by realtime on the loop thread), handlers unchanged. Prints its
port, then serves until killed.

    python threads_server.py [MODULE:BUILDER]    default interop.app:build_server
"""

from __future__ import annotations

import sys
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).parent.parent))

import realtime
from interop.app import server_from_argv


def main() -> None:
    app = realtime.WSGIApp(server_from_argv(sys.argv))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.socket.getsockname()[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
