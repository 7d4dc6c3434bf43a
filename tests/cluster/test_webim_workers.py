"""The WebIM (examples/app.py, ``/webim``) on ``--workers 2`` with the Redis
adapter (``REALTIME_DEMO_REDIS_URL``) and one SQLite file: two people on
different workers see each other online, become friends, talk 1:1 and in a
group, send a file as binary chunks, go offline once however many tabs they
close on however many workers, and find what was sent while they were away;
then the whole server restarts (SIGTERM, with one person still signed in:
not online in the new run, last seen when it stopped) and accounts,
messages, last seen and session tokens are still there. Last, a node killed by SIGKILL: its users go
offline after the presence's expiry, with a last seen."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from demos.webim_peers import ROOT, Tab, sign_up, until
from services import RedisServer, free_port, realtime_cli, wait_until_serving

from .harness import start_workers, stop_workers

HERE = Path(__file__).parent


def copy_examples(where: Path) -> None:
    """The demos run from a copy: -m puts the working directory first on the
    path, and the checkout's root would shadow the installed realtime."""
    if not (where / "examples").is_dir():
        shutil.copytree(ROOT / "examples", where / "examples")


@asynccontextmanager
async def demos_on_two_workers(redis: RedisServer, where: Path) -> AsyncIterator[tuple[str, str]]:
    """Every demo on ``--workers 2``, data in ``where/data``: each worker's URL."""
    copy_examples(where)
    env = {
        **os.environ,
        "REALTIME_DEMO_REDIS_URL": redis.url,
        "REALTIME_DEMO_DATA": str(where / "data"),
    }
    env.pop("REALTIME_DEMO_SECRET", None)  # made anew by each start, as a plain run does
    proc, private = await start_workers("examples.app:app", free_port(), 2, cwd=where, env=env)
    try:
        for port in private.values():
            await wait_until_serving(port, proc)
        yield f"http://127.0.0.1:{private['w0']}", f"http://127.0.0.1:{private['w1']}"
    finally:
        await stop_workers(proc)
    assert proc.returncode == 0


async def test_two_people_on_two_workers_talk_share_a_group_and_a_file(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    tabs: list[Tab] = []
    async with demos_on_two_workers(redis_server, tmp_path) as (w0, w1):
        ann, a = await sign_up(w0, "Ann")
        bob, b = await sign_up(w1, "Bob", "polling")
        tabs += [ann, bob]
        ann_id, bob_id = a["me"]["id"], b["me"]["id"]
        # Ann, on w0, is in Bob's list, or (her arrival still on its way to
        # w1) in the notice that follows it, as the page merges them.
        listed = {u["id"] for u in b["online"]}
        assert bob_id in listed
        await until(lambda: ann_id in listed or bob.presence_of(ann_id) == [True], "Ann, to Bob")
        await until(lambda: ann.presence_of(bob_id) == [True], "Ann sees Bob come")

        # Friends across workers: each side's state follows, online.
        assert await ann.call("befriend", "Bob") == {"ok": True}
        await until(lambda: bob.got("state"), "Bob's state with the request")
        assert [u["id"] for u in bob.got("state")[-1]["requests"]["in"]] == [ann_id]
        assert await bob.call("accept", ann_id) == {"ok": True}
        await until(lambda: ann.got("state") and ann.got("state")[-1]["friends"], "a friend")
        (friend,) = ann.got("state")[-1]["friends"]
        assert friend["name"] == "Bob" and friend["online"] is True

        # 1:1, from w0 to w1.
        sent = (await ann.call("send", f"u:{bob_id}", "hello on w1"))["message"]
        await until(lambda: bob.got("message"), "Bob gets Ann's message")
        assert bob.got("message")[-1] == sent

        # A group made on w0; Bob's socket on w1 joins its room through Redis.
        group = (await ann.call("create_group", "Two workers"))["group"]
        assert await ann.call("invite", group, bob_id) == {"ok": True}
        await until(lambda: bob.got("state")[-1]["groups"], "Bob in the group")
        said = (await bob.call("send", f"g:{group}", "hello group"))["message"]
        await until(lambda: ann.got("message") and ann.got("message")[-1] == said, "to Ann")

        # A file in binary chunks, uploaded on w1, downloaded from w0.
        data = bytes(range(256)) * 300  # 76,800 bytes: two chunks
        start = await bob.call("upload", f"u:{ann_id}", "notes.bin", "application/zip", len(data))
        file_id, chunk = start["file"], start["chunk"]
        assert await bob.call("chunk", file_id, 0, data[:chunk]) == {"received": chunk}
        done = await bob.call("chunk", file_id, chunk, data[chunk:])
        assert done["received"] == len(data)
        await until(lambda: ann.got("message")[-1]["kind"] == "file", "Ann gets the file")
        assert ann.got("message")[-1]["file"]["id"] == file_id
        async with aiohttp.ClientSession() as http:
            url = f"{w0}/webim/files/{file_id}"
            async with http.get(url, params={"token": a["token"]}) as resp:
                assert resp.status == 200 and await resp.read() == data

        # Bob's second tab on w0 announces nothing; both tabs closing at
        # once, on two workers, make him offline once.
        bob2 = Tab(w0, "websocket")
        tabs.append(bob2)
        assert (await bob2.open(b["token"]))["me"]["id"] == bob_id
        await asyncio.gather(bob.close(), bob2.close())
        await until(lambda: ann.presence_of(bob_id) == [True, False], "Bob offline")
        assert ann.got("presence")[-1]["last_seen"] > 0

        # Two lines while he is away, then his password on the other worker.
        for text in ("are you there?", "call me"):
            assert "message" in await ann.call("send", f"u:{bob_id}", text)
        back = Tab(w0, "polling")
        tabs.append(back)
        assert await back.open() is None
        session = await back.call("login", "Bob", "secret-Bob")
        (talk,) = [c for c in session["conversations"] if c["key"] == f"u:{ann_id}"]
        assert talk["unread"] == 3 and talk["last"]["text"] == "call me"  # not his own file
        history = (await back.call("history", f"u:{ann_id}"))["messages"]
        texts = [m["text"] for m in history]
        assert texts == ["hello on w1", "notes.bin", "are you there?", "call me"]
        await until(lambda: ann.presence_of(bob_id) == [True, False, True], "Bob back")
        for tab in tabs:
            await tab.close()


async def test_accounts_messages_and_tokens_survive_a_restart(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with demos_on_two_workers(redis_server, tmp_path) as (w0, w1):
        ann, a = await sign_up(w0, "Ann")
        bob, b = await sign_up(w1, "Bob")
        ann_id, bob_id = a["me"]["id"], b["me"]["id"]
        assert await ann.call("befriend", "Bob") == {"ok": True}
        assert await bob.call("accept", ann_id) == {"ok": True}
        sent = (await ann.call("send", f"u:{bob_id}", "before the restart"))["message"]
        # Cat, Bob's friend too, is still signed in when the workers stop.
        cat, c = await sign_up(w0, "Cat")
        assert await cat.call("befriend", "Bob") == {"ok": True}
        assert await bob.call("accept", c["me"]["id"]) == {"ok": True}
        await bob.close()
        await until(lambda: ann.presence_of(bob_id)[-1:] == [False], "Bob offline")
        last_seen = ann.got("presence")[-1]["last_seen"]
        await ann.close()
        before_stop = int(time.time() * 1000)  # the page's last seen is in whole ms

    async with demos_on_two_workers(redis_server, tmp_path) as (w0, w1):
        # Ann's page signs in again by its token, on either worker.
        ann = Tab(w1, "websocket")
        session = await ann.open(a["token"])
        assert session is not None and session["me"]["id"] == ann_id
        (friend,) = session["friends"]
        assert friend["id"] == bob_id and friend["online"] is False
        assert friend["last_seen"] == last_seen  # from SQLite: presence forgot it
        (talk,) = session["conversations"]
        assert talk["last"]["id"] == sent["id"]
        # Bob's password still works, and the message waited.
        bob = Tab(w0, "polling")
        assert await bob.open() is None
        again = await bob.call("login", "Bob", "secret-Bob")
        assert again["me"]["id"] == bob_id
        (talk,) = again["conversations"]
        assert talk["unread"] == 1 and talk["last"]["text"] == "before the restart"
        # Cat's worker took her offline as it stopped (well within the 15 s
        # presence_expiry): not online in the new run, seen when it stopped.
        assert [u["name"] for u in again["online"]] == ["Ann", "Bob"]
        (cat_now,) = (u for u in again["friends"] if u["name"] == "Cat")
        assert cat_now["online"] is False and cat_now["last_seen"] >= before_stop
        for tab in (ann, bob, cat):
            await tab.close()


async def test_a_killed_node_s_users_go_offline_with_a_last_seen(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    copy_examples(tmp_path)
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "PRESENCE_EXPIRY": "1",
        "REALTIME_DEMO_DATA": str(tmp_path / "data"),
        "PYTHONPATH": str(HERE),
    }
    nodes: list[asyncio.subprocess.Process] = []
    tabs: list[Tab] = []
    try:
        urls = []
        for _ in range(2):
            port = free_port()
            nodes.append(
                await realtime_cli("webim_app:app", "--port", str(port), cwd=tmp_path, env=env)
            )
            await wait_until_serving(port, nodes[-1])
            urls.append(f"http://127.0.0.1:{port}")
        ann, a = await sign_up(urls[0], "Ann")
        bob, b = await sign_up(urls[1], "Bob")
        tabs += [ann, bob]
        ann_id = a["me"]["id"]
        await until(
            lambda: bob.presence_of(ann_id) or ann_id in {u["id"] for u in b["online"]},
            "Ann, to Bob",
        )

        # Ann's node dies without a word: Bob's reaps her, and its offline
        # handler stores her last seen and tells everyone.
        nodes[0].send_signal(signal.SIGKILL)
        await nodes[0].wait()
        await until(lambda: bob.presence_of(ann_id)[-1:] == [False], "Ann offline after the expiry")
        assert bob.got("presence")[-1]["last_seen"] > 0
        # And she is gone from the list a new tab gets.
        again = Tab(urls[1], "websocket")
        tabs.append(again)
        assert [u["name"] for u in (await again.open(b["token"]))["online"]] == ["Bob"]
    finally:
        for tab in tabs:
            await tab.close()
        for node in nodes:
            if node.returncode is None:
                node.kill()  # by pid: the node this test started
            await node.wait()
