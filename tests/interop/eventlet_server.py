"""The interop app on eventlet's WSGI server (realtime.WSGIApp), handlers
unchanged (its ``async def`` ones await only acks, which block their green
thread there). Prints its port, then serves until killed.

    python eventlet_server.py [MODULE:BUILDER]    default interop.app:build_server
"""

from __future__ import annotations

import sys
from pathlib import Path

import eventlet
import eventlet.wsgi

sys.path.insert(0, str(Path(__file__).parent.parent))

import realtime
from interop.app import server_from_argv


def main() -> None:
    listener = eventlet.listen(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    eventlet.wsgi.server(
        listener, realtime.WSGIApp(server_from_argv(sys.argv)), log_output=False, log=sys.stderr
    )


if __name__ == "__main__":
    main()
