"""``python -m realtime MODULE:ATTR``: serve a Server, Engine or aiohttp app.

Every mistake a first run can make (a bad target, a port in use, an unknown
host, a bad option) ends in one line on stderr saying what is wrong and what
to do, and exit status 1 (2 for a bad option, as argparse does).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

import realtime

from .errors import InvalidArgument

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def load(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise SystemExit(f"realtime: expected MODULE:ATTR (e.g. myapp:sio), got {spec!r}")
    sys.path.insert(0, ".")
    realtime._loading_app = spec
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SystemExit(f"realtime: cannot import {module_name!r}: {exc}") from None
    finally:
        realtime._loading_app = None
    target = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise SystemExit(f"realtime: {module_name!r} has no attribute {attr!r}") from None
    return target


def check_target(spec: str, target: Any) -> None:
    from aiohttp import web

    if not isinstance(target, (realtime.Server, realtime.Engine, web.Application)):
        raise SystemExit(
            f"realtime: {spec} is of type {type(target).__name__}; name a realtime.Server, "
            "a realtime.Engine or an aiohttp web.Application"
        )


def log_connections(target: Any) -> None:
    from aiohttp import web

    from .integrations.aiohttp import attached_targets

    served = attached_targets(target) if isinstance(target, web.Application) else [target]
    for each in served:
        engine = each.engine
        if isinstance(engine, realtime.Engine):
            engine.log_connections = True


def _is_clustered(target: Any) -> bool:
    from .bus.adapter import AdapterFactory

    return isinstance(getattr(target, "adapter_factory", None), AdapterFactory)


def workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers (1 or more)")
    return int(text)


def handler_threads(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of threads (0 or more)")
    return int(text)


def log_level(text: str) -> str:
    if text.lower() not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(LOG_LEVELS)}")
    return text.lower()


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="realtime",
        description="Serve a realtime Server, Engine or aiohttp app on the embedded server.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    cli.add_argument("app", help="MODULE:ATTR naming a realtime.Server, Engine or aiohttp app")
    cli.add_argument("--host", default="127.0.0.1", help="address to listen on")
    cli.add_argument("--port", type=int, default=8000, help="port to listen on")
    cli.add_argument(
        "--log-level", type=log_level, default="info", help=f"one of {', '.join(LOG_LEVELS)}"
    )
    cli.add_argument(
        "--loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="event loop (auto: uvloop if installed)",
    )
    cli.add_argument(
        "--workers",
        type=workers,
        default=1,
        help="processes serving the port; more than one needs a cluster adapter (RedisAdapter)",
    )
    cli.add_argument(
        "--handler-threads",
        type=handler_threads,
        default=0,
        help="worker threads for plain def handlers, which may then block (0: on the loop)",
    )
    cli.add_argument(
        "--log-connections",
        action="store_true",
        help="log one INFO line per connection when it ends: transport, address, duration, reason",
    )
    cli.add_argument(
        "--metrics",
        action="store_true",
        help="serve /metrics (Prometheus) and /healthz too (needs prometheus-client)",
    )
    cli.add_argument("--version", action="version", version=version_line())
    return cli


def version_line() -> str:
    build = "compiled" if realtime.COMPILED else "pure Python"
    return f"realtime {realtime.__version__} ({build}, Python {sys.version.split()[0]})"


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    target = load(args.app)
    check_target(args.app, target)
    if args.log_connections:
        log_connections(target)
    from aiohttp import web

    from .integrations.aiohttp import attached_targets, new_event_loop
    from .workers import supervise, worker_setup

    worker = worker_setup()
    if args.workers > 1 and worker is None:
        served = attached_targets(target) if isinstance(target, web.Application) else [target]
        if not any(_is_clustered(each) for each in served):
            logging.getLogger("realtime").warning(
                "--workers %d with the in-memory adapter: a broadcast reaches only the clients "
                "of the worker that sends it; give the Server adapter=realtime.RedisAdapter(...)",
                args.workers,
            )
        command = list(sys.argv[1:] if argv is None else argv)
        raise SystemExit(supervise(command, args.host, args.port, args.workers))
    sockets: tuple[Any, ...] = ()
    if worker is not None:
        served = attached_targets(target) if isinstance(target, web.Application) else [target]
        for each in served:
            engine = each.engine
            if isinstance(engine, realtime.Engine):
                engine.join_cluster(worker.node_id, worker.peers)
        sockets = worker.sockets
    # an aiohttp app of the user's takes it from realtime.attach, which run says
    threads = {"handler_threads": args.handler_threads} if args.handler_threads else {}
    try:
        realtime.run(
            target,
            host=args.host,
            port=args.port,
            loop=new_event_loop(args.loop),
            metrics=args.metrics,
            sockets=sockets,
            **threads,
        )
    except (ImportError, InvalidArgument) as exc:
        raise SystemExit(f"realtime: {exc}") from None


if __name__ == "__main__":
    main()
