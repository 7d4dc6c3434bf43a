"""The chat demo (examples/app.py) on ``--workers 2`` with the Redis
adapter (``REALTIME_DEMO_REDIS_URL``): two people whose connections land on
different workers see each other in the online list, exchange messages, and
see each other leave."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio
from services import RedisServer, free_port, wait_until_serving

from .harness import STEP_LIMIT, start_workers, stop_workers

ROOT = Path(__file__).resolve().parents[2]
CHAT = "/chat"


async def until(test: Callable[[], bool], what: str) -> None:
    for _ in range(int(STEP_LIMIT / 0.01)):
        if test():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


async def test_two_people_on_two_workers_see_and_hear_each_other(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    # The demos are run from a copy: -m puts the working directory first on
    # the path, and the checkout's root would shadow the installed realtime.
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    port = free_port()
    env = {**os.environ, "REALTIME_DEMO_REDIS_URL": redis_server.url}
    env.pop("REALTIME_DEMO_SECRET", None)  # the workers must share the one the first load makes
    proc, private = await start_workers("examples.app:app", port, 2, cwd=tmp_path, env=env)
    people: list[socketio.AsyncClient] = []
    heard: dict[str, list[tuple[str, Any]]] = {"Ana": [], "Bo": []}
    try:
        for worker_port in private.values():
            await wait_until_serving(worker_port, proc)
        answers = {}
        for name, worker_port in zip(("Ana", "Bo"), private.values(), strict=True):
            person = socketio.AsyncClient(reconnection=False)
            for event in ("joined", "left", "message"):
                person.on(
                    event,
                    lambda data, event=event, name=name: heard[name].append((event, data)),
                    namespace=CHAT,
                )
            await person.connect(
                f"http://127.0.0.1:{worker_port}", namespaces=[CHAT], transports=["websocket"]
            )
            people.append(person)
            answers[name] = await person.call("join", name, namespace=CHAT, timeout=STEP_LIMIT)
        assert [u["name"] for u in answers["Ana"]["users"]] == ["Ana"]
        # Bo, on the other worker, sees Ana in the list, and Ana hears Bo join.
        assert [u["name"] for u in answers["Bo"]["users"]] == ["Ana", "Bo"]
        assert answers["Bo"]["count"] == 2
        await until(lambda: any(e == "joined" for e, _ in heard["Ana"]), "Ana hears Bo join")
        joined = next(data for event, data in heard["Ana"] if event == "joined")
        assert joined["user"]["name"] == "Bo" and joined["count"] == 2

        assert await people[1].call("say", ("hi Ana", "c1"), namespace=CHAT, timeout=STEP_LIMIT)
        await until(lambda: any(e == "message" for e, _ in heard["Ana"]), "Ana hears Bo")
        message = next(data for event, data in heard["Ana"] if event == "message")
        assert message["text"] == "hi Ana" and message["from"]["name"] == "Bo"

        await people[1].disconnect()
        await until(lambda: any(e == "left" for e, _ in heard["Ana"]), "Ana sees Bo leave")
        left = [data for event, data in heard["Ana"] if event == "left"]
        assert len(left) == 1 and left[0]["user"]["name"] == "Bo"
        assert [u["name"] for u in left[0]["users"]] == ["Ana"]
    finally:
        # The workers go first: Ana leaving while one worker stops would have
        # her offline handler wait for its fetch_sockets answer.
        await stop_workers(proc)
        for person in people:
            await person.disconnect()
