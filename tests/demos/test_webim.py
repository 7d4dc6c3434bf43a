"""The WebIM's protocol (examples/webim) as python-socketio clients see it:
accounts and signed sessions, 1:1 messages to every tab of both people,
messages to an offline user waiting with an unread count, presence with last
seen, friends, groups, files in binary chunks, and every refusal going to
the one who asked. The last test runs two servers on one Redis and one
SQLite file, as ``--workers 2`` does, with the two people on different ones."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from demos.webim_peers import ROOT, Tab, sign_up, until, webim
from services import RedisServer

import realtime
from realtime.integrations.aiohttp import FrontDoorSite


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    runners: list[tuple[web.AppRunner, FrontDoorSite]] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = FrontDoorSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append((runner, site))
        return f"http://127.0.0.1:{site.port}"

    yield start
    for runner, site in runners:
        await runner.cleanup()
        site.close_all()


async def round_trip(peer: Any) -> None:
    """An answered call on ``peer``'s own connection: whatever the server
    sent it before (an event it must not get, say) has arrived by then."""
    assert await peer.call("history", "u:") == {"error": "No such conversation."}


async def test_accounts_sessions_messages_presence_and_offline_delivery(
    serve: Callable[..., Any], tmp_path: Path
) -> None:
    base = await serve(webim().create_app(tmp_path))
    ann, ann_state = await sign_up(base, "Ann")
    bob, bob_state = await sign_up(base, "Bob", "polling")
    ann_id, bob_id = ann_state["me"]["id"], bob_state["me"]["id"]
    assert ann_state["me"]["name"] == "Ann" and ann_state["me"]["online"] is True
    assert {u["name"] for u in bob_state["online"]} == {"Ann", "Bob"}
    await until(lambda: any(p["id"] == bob_id for p in ann.got("presence")), "Bob online")

    # Names are unique (any case); passwords are checked; a session is not a name.
    other = Tab(base, "polling")
    await other.open()
    assert await other.call("signup", "ann", "whatever1") == {"error": "The name ann is taken."}
    assert await other.call("login", "Ann", "wrong-one") == {"error": "Wrong name or password."}
    assert await other.call("signup", "x", "whatever1") == {
        "error": "A name has 2 to 24 letters, digits, spaces or . ' - _"
    }
    assert "error" in await other.call("signup", "Cy", "short")
    assert (await other.call("send", f"u:{bob_id}", "hi")) == {"error": "Please sign in."}
    await other.close()
    forged = Tab(base, "websocket")
    assert await forged.open(f"{ann_id}.9999999999.{'0' * 32}") is None
    await forged.close()

    # Ann's second tab, by her token: the same user, the same conversation.
    ann2 = Tab(base, "polling")
    resumed = await ann2.open(ann_state["token"])
    assert resumed["me"]["id"] == ann_id
    line = "Hi Bob \U0001f600 <b>not bold</b>"
    sent = await ann.call("send", f"u:{bob_id}", line)
    assert sent["message"]["text"] == line
    for tab in (ann, ann2, bob):
        await until(lambda tab=tab: tab.got("message"), "the message")  # type: ignore[misc]
        assert tab.got("message")[-1]["id"] == sent["message"]["id"]
    assert (await bob.call("history", f"u:{ann_id}"))["messages"][-1]["text"] == line
    assert (await ann2.call("history", f"u:{bob_id}"))["messages"][-1]["text"] == line
    assert await bob.call("read", f"u:{ann_id}", sent["message"]["id"]) is True

    # Too long: an error to the sender only, nothing to anyone.
    heard = len(bob.got("message"))
    too_long = await ann.call("send", f"u:{bob_id}", "x" * 2001)
    assert too_long == {"error": "That message has 2001 characters; the limit is 2000."}
    assert (await ann.call("send", f"u:{bob_id}", "   ")) == {"error": "Type a message first."}
    await round_trip(bob)
    assert len(bob.got("message")) == heard

    # Bob goes: offline, with a last seen time, for everyone.
    await bob.close()
    await until(
        lambda: any(p["id"] == bob_id and not p["online"] for p in ann.got("presence")),
        "Bob offline",
    )
    gone = [p for p in ann.got("presence") if p["id"] == bob_id][-1]
    assert gone["last_seen"] > 0
    # Two lines while Bob is away: waiting for him, counted as unread.
    for text in ("are you there?", "call me"):
        assert "message" in await ann.call("send", f"u:{bob_id}", text)
    bob = Tab(base, "websocket")
    back = await bob.open(bob_state["token"])
    (talk,) = [c for c in back["conversations"] if c["key"] == f"u:{ann_id}"]
    assert talk["unread"] == 2 and talk["last"]["text"] == "call me"
    texts = [m["text"] for m in (await bob.call("history", f"u:{ann_id}"))["messages"]]
    assert texts == [line, "are you there?", "call me"]
    assert await bob.call("read", f"u:{ann_id}", talk["last"]["id"]) is True
    await until(lambda: bob.got("read"), "the read mark, to Bob's tabs")
    again = Tab(base, "polling")
    (talk,) = [c for c in (await again.open(bob_state["token"]))["conversations"]]
    assert talk["unread"] == 0
    for tab in (ann, ann2, bob, again):
        await tab.close()


async def test_friends_groups_files_and_nobody_reads_what_is_not_theirs(
    serve: Callable[..., Any], tmp_path: Path
) -> None:
    base = await serve(webim().create_app(tmp_path))
    ann, a = await sign_up(base, "Ann")
    bob, b = await sign_up(base, "Bob", "polling")
    eve, e = await sign_up(base, "Eve")
    ann_id, bob_id, eve_id = a["me"]["id"], b["me"]["id"], e["me"]["id"]

    # Friends: a request, then an accept; both sides' state follows.
    assert await ann.call("befriend", "bob") == {"ok": True}
    await until(lambda: bob.got("state"), "Bob's state with the request")
    assert [u["name"] for u in bob.got("state")[-1]["requests"]["in"]] == ["Ann"]
    assert await ann.call("befriend", "Nobody") == {"error": "Nobody has that name."}
    assert await ann.call("befriend", ann_id) == {"error": "You cannot befriend yourself."}
    assert await eve.call("accept", ann_id) == {"error": "There is no such friend request."}
    assert await bob.call("accept", ann_id) == {"ok": True}
    await until(lambda: ann.got("state")[-1]["friends"], "Ann's new friend")
    (friend,) = ann.got("state")[-1]["friends"]
    assert friend["name"] == "Bob" and friend["online"] is True

    # A group: created, a friend invited (not a stranger), a message to it.
    created = await ann.call("create_group", "  Weekend   plans ")
    group = created["group"]
    assert await ann.call("invite", group, eve_id) == {"error": "You can invite only your friends."}
    assert await eve.call("invite", group, bob_id) == {"error": "You are not in that group."}
    assert await ann.call("invite", group, bob_id) == {"ok": True}
    await until(lambda: bob.got("state")[-1]["groups"], "Bob in the group")
    (in_group,) = bob.got("state")[-1]["groups"]
    assert in_group["name"] == "Weekend plans"
    assert [m["name"] for m in in_group["members"]] == ["Ann", "Bob"]
    sent = await bob.call("send", f"g:{group}", "Saturday?")
    await until(lambda: ann.got("message"), "the group message")
    assert ann.got("message")[-1]["id"] == sent["message"]["id"]

    # Eve sees none of it: not the group, not Ann and Bob's conversation.
    assert await eve.call("history", f"g:{group}") == {"error": "No such conversation."}
    assert await eve.call("send", f"g:{group}", "let me in") == {"error": "No such conversation."}
    assert (await eve.call("history", f"u:{ann_id}"))["messages"] == []
    for key in ("g:x", "u:", 7, None, "u:99999"):
        assert await eve.call("history", key) == {"error": "No such conversation."}
    await round_trip(eve)
    assert eve.got("message") == []

    # A file in binary chunks; the image is served to the group, not to Eve.
    picture = bytes(range(256)) * 400  # 102,400 bytes: two chunks
    start = await bob.call("upload", f"g:{group}", "cat.png", "image/png", len(picture))
    file_id, chunk = start["file"], start["chunk"]
    assert await bob.call("chunk", file_id, chunk, picture[:chunk]) == {
        "error": "That chunk does not follow the previous one."
    }
    assert await eve.call("chunk", file_id, 0, picture[:chunk]) == {"error": "No such upload."}
    assert await bob.call("chunk", file_id, 0, "text") == {
        "error": "A chunk is binary, at most 65536 bytes."
    }
    for offset in (0.0, False, 2**64, None):
        assert await bob.call("chunk", file_id, offset, picture[:chunk]) == {
            "error": "That chunk does not follow the previous one."
        }
    assert await bob.call("chunk", file_id, 0, picture[:chunk]) == {"received": chunk}
    done = await bob.call("chunk", file_id, chunk, picture[chunk:])
    assert done["received"] == len(picture) and done["message"]["kind"] == "image"
    await until(lambda: ann.got("message")[-1]["kind"] == "image", "the image message")
    url = f"{base}/webim/files/{file_id}"
    async with aiohttp.ClientSession() as http:
        async with http.get(url, params={"token": a["token"]}) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
            assert await resp.read() == picture
        forged = a["token"][:-1] + ("1" if a["token"].endswith("0") else "0")
        for token in (e["token"], "", forged):
            async with http.get(url, params={"token": token}) as resp:
                assert resp.status == 404
    too_big = await bob.call("upload", f"g:{group}", "big.bin", "application/zip", 600_000)
    assert too_big == {"error": "That file has 600000 bytes; the limit is 524288 (512 KiB)."}
    # Uploads under way are bounded per user: a fourth drops the oldest.
    started = [(await bob.call("upload", f"g:{group}", "a", "", 10))["file"] for _ in range(4)]
    assert await bob.call("chunk", started[0], 0, b"0123456789") == {"error": "No such upload."}
    assert "message" in await bob.call("chunk", started[1], 0, b"0123456789")
    assert await eve.call("upload", f"g:{group}", "x", "image/png", 10) == {
        "error": "No such conversation."
    }

    # Leaving: Bob's tabs leave the group's room, and he can no longer read it.
    assert await bob.call("leave_group", group) == {"ok": True}
    assert await bob.call("history", f"g:{group}") == {"error": "No such conversation."}
    heard = len(bob.got("message"))
    await ann.call("send", f"g:{group}", "after Bob left")
    await round_trip(bob)
    assert len(bob.got("message")) == heard
    assert await bob.call("unfriend", ann_id) == {"ok": True}
    await until(lambda: ann.got("state")[-1]["friends"] == [], "Ann without Bob")
    # Asking someone who asked you already makes you friends at once.
    assert await eve.call("befriend", "Ann") == {"ok": True}
    assert await ann.call("befriend", "Eve") == {"ok": True}
    await until(lambda: [u["name"] for u in eve.got("state")[-1]["friends"]] == ["Ann"], "friends")
    assert ann.got("state")[-1]["requests"] == {"in": [], "out": []}
    for tab in (ann, bob, eve):
        await tab.close()


async def test_two_servers_on_one_redis_and_one_database(
    serve: Callable[..., Any], tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path)
    await redis.start()
    try:
        bases = [
            await serve(webim().create_app(tmp_path, adapter=realtime.RedisAdapter(redis.url)))
            for _ in range(2)
        ]
        ann, a = await sign_up(bases[0], "Ann")
        bob, b = await sign_up(bases[1], "Bob", "polling")
        ann_id = a["me"]["id"]
        # Ann is on the other one: in Bob's list, or in the notice that follows.
        listed = {u["id"] for u in b["online"]}
        await until(lambda: ann_id in listed or bob.presence_of(ann_id) == [True], "Ann, to Bob")
        notices = len(bob.presence_of(ann_id))
        ann2 = Tab(bases[1], "websocket")
        await ann2.open(a["token"])  # her token works on either
        sent = await bob.call("send", f"u:{ann_id}", "across workers")
        for tab in (ann, ann2):
            await until(lambda tab=tab: tab.got("message"), "the message")  # type: ignore[misc]
            assert tab.got("message")[-1]["id"] == sent["message"]["id"]
        # Her two tabs, one on each server, close at once: she goes offline
        # once in the cluster (the presence counts her across both), with a
        # last seen; her second tab had announced nothing.
        await asyncio.gather(ann.close(), ann2.close())
        await until(lambda: bob.presence_of(ann_id)[notices:] == [False], "Ann offline")
        gone = bob.got("presence")[-1]
        assert gone["last_seen"] > 0
        back = Tab(bases[0], "polling")
        await back.open(a["token"])
        await until(lambda: bob.presence_of(ann_id)[notices + 1 :] == [True], "Ann back")
        assert bob.presence_of(ann_id)[notices:] == [False, True]  # nothing else, nothing twice
        await back.close()
        await bob.close()
    finally:
        await redis.stop()


BAD_VALUES: list[Any] = [
    None, True, -1, 2**64, 1.5, "", "u:", "g:1", "u:\u00b2", "x" * 5000, [], {"a": 1}, b"\x00",
]  # fmt: skip
EVENTS = (
    "signup", "login", "send", "history", "read", "befriend", "accept", "unfriend",
    "create_group", "invite", "leave_group", "upload", "chunk",
)  # fmt: skip


async def test_bad_arguments_get_an_answer_never_a_crash(
    serve: Callable[..., Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base = await serve(webim().create_app(tmp_path))
    tab, _ = await sign_up(base, "Ann")
    for event in EVENTS:
        for value in BAD_VALUES:
            for args in ((value,), (value, value), (value, value, value, value)):
                answer = await tab.call(event, *args)  # an answer, not a timeout
                if event == "create_group" and isinstance(value, str) and value.strip():
                    continue  # any text names a group
                assert answer is False or "error" in answer, (event, args, answer)
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []
    await tab.close()


def test_the_pages_are_ecmascript_3() -> None:
    node = shutil.which("node")
    assert node, "node is required (make install-test)"
    examples = ROOT / "examples"
    pages = [
        str(examples / path)
        for path in ("webim/static/webim.js", "static/page.js", "chat/static/chat.js")
    ]
    result = subprocess.run(
        [node, "check.js", *pages], cwd=ROOT / "client_js", check=True, capture_output=True
    )
    report = json.loads(result.stdout)
    for page in pages:
        assert report[page]["syntax"] is None, report[page]["syntax"]
        assert report[page]["builtins"] == [] and report[page]["trailing"] == [], report[page]


def test_what_one_user_can_make_the_store_keep_is_bounded(tmp_path: Path) -> None:
    from examples.webim.store import Store, StoreError

    store = Store(tmp_path)
    store.max_friends, store.max_requests, store.max_groups = 2, 1, 2
    ann, bob, cy, dan = (store.sign_up(name, b"s", b"d") for name in ("ann", "bob", "cy", "dan"))
    try:
        assert store.request_friend(ann, bob) is False
        with pytest.raises(StoreError, match="unanswered"):
            store.request_friend(ann, cy)  # one request waiting is the most
        store.accept_friend(bob, ann)
        assert store.request_friend(ann, cy) is False
        store.accept_friend(cy, ann)
        assert sorted(store.friends(ann)) == sorted([bob, cy])
        with pytest.raises(StoreError, match="at most 2 friends"):
            store.request_friend(ann, dan)  # ann has two friends already
        assert store.request_friend(dan, ann) is False
        with pytest.raises(StoreError, match="at most 2 friends"):
            store.accept_friend(ann, dan)
        first = store.create_group(ann, "one")
        second = store.create_group(ann, "two")
        with pytest.raises(StoreError, match="You are in 2 groups"):
            store.create_group(ann, "three")
        for name in ("bob's", "bob's too"):
            store.create_group(bob, name)
        with pytest.raises(StoreError, match="They are in 2 groups"):
            store.invite(ann, first, bob)
        store.invite(ann, second, cy)
        assert store.members(second) == sorted([ann, cy])
    finally:
        store.close()
