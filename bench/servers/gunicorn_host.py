"""gunicorn's gthread worker as the benchmark runs it, for ours and for
python-socketio's peer app alike: one worker process (sessions live in its
memory), 100 threads, no access log."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def serve(app: Any, port: int) -> None:
    """Serve the WSGI ``app`` on loopback ``port`` until killed."""
    options = {
        "bind": f"127.0.0.1:{port}",
        "worker_class": "gthread",
        "threads": 100,
        "workers": 1,
        "backlog": 1024,
        "accesslog": None,
        "loglevel": "warning",
        "graceful_timeout": 2,
    }
    _Server(app, options).run()
