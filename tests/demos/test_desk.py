"""The support desk's protocol with python-socketio clients: a queue while
no agent is online, the least busy agent, unread counts, a transfer, the
history after a restart, bad input, and companies kept apart."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import aiohttp
import pytest
import socketio
from demos.desk_peers import (
    PASSWORD,
    ROOT,
    Peer,
    ServedDesk,
    agent,
    customer,
    desk_module,
    lobby_call,
    new_company,
)

# The client's fixture: node, with the ES3 checker's packages installed.
from test_client_build import node as node_with_acorn  # noqa: F401


async def test_queue_least_busy_agent_unread_transfer_and_history_after_a_restart(
    tmp_path: Path,
) -> None:
    served = ServedDesk(desk_module().create_app(data_dir=tmp_path))
    base = await served.start()
    peers: list[Peer] = []
    try:
        await new_company(base, "acme")
        # Nobody online: the first customer waits, first in the queue.
        cy = await customer(base, "acme", "Cy", "polling")
        peers.append(cy)
        assert await cy.last("status", state="waiting") == {"state": "waiting", "position": 1}

        ada = await agent(base, "acme", "Ada")
        peers.append(ada)
        (assigned,) = await ada.hear("assigned")
        cy_conversation = assigned["id"]
        assert assigned["customer"] == "Cy"
        assert await cy.last("status", state="open") == {"state": "open", "agent": "Ada"}

        added = await ada.call("add_agent", {"name": "Bob", "password": PASSWORD})
        assert added["ok"] is True and added["agent"]["name"] == "Bob"
        bob = await agent(base, "acme", "Bob", "polling")
        peers.append(bob)

        # Ada has one conversation, Bob none: the next goes to Bob, then a tie
        # goes to the agent made first.
        di = await customer(base, "acme", "Di")
        peers.append(di)
        (di_assigned,) = await bob.hear("assigned")
        assert di_assigned["customer"] == "Di"
        # The admin may read any of the company's conversations, not answer them.
        assert (await ada.call("open", di_assigned["id"]))["conversation"]["customer"] == "Di"
        assert await ada.call("reply", di_assigned["id"], "hi") == {
            "error": "That conversation is another agent's."
        }
        for bad in (None, True, "1", [1], {"id": 1}, 10**30):
            assert await ada.call("open", bad) == {"error": "No such conversation."}
        assert await ada.call("add_agent", "Bob") == {"error": "A name is 1 to 40 characters."}
        ed = await customer(base, "acme", "Ed")
        peers.append(ed)
        assert [a["customer"] for a in await ada.hear("assigned", 2)] == ["Cy", "Ed"]

        # Cy writes: Ada hears it with an unread count, Bob does not.
        assert await cy.call("say", "Hello, my order is late", "c1") == {"ok": True}
        line = await ada.last("message", sender="customer")
        assert (line["text"], line["cid"], line["conversation"]) == (
            "Hello, my order is late",
            "c1",
            cy_conversation,
        )
        assert (await ada.last("summary", id=cy_conversation, unread=1))["last"] == line["text"]
        await cy.emit("typing", True)
        assert await ada.last("typing", on=True) == {"conversation": cy_conversation, "on": True}

        # Too long: an error to Cy alone, nothing stored or sent.
        too_long = await cy.call("say", "x" * 2001)
        assert too_long == {"error": "Messages are at most 2000 characters; this one has 2001."}
        assert await cy.call("say", "   ") == {"error": "Nothing to send."}
        assert await bob.call("open", cy_conversation) == {
            "error": "That conversation is another agent's."
        }
        assert await bob.call("reply", cy_conversation, "hi") == {
            "error": "That conversation is another agent's."
        }
        assert await cy.call("reply", cy_conversation, "hi") == {
            "error": "Sign in as an agent first."
        }
        assert await bob.call("add_agent", {"name": "Eve", "password": PASSWORD}) == {
            "error": "Only the company's admin adds agents."
        }

        opened = await ada.call("open", cy_conversation)
        assert opened["conversation"]["unread"] == 0
        assert [m["text"] for m in opened["history"]] == ["Ada joined.", "Hello, my order is late"]
        assert await ada.last("summary", id=cy_conversation, unread=0)
        assert await ada.call("reply", cy_conversation, "Let me look", "a1") == {"ok": True}
        assert (await cy.last("message", sender="agent"))["text"] == "Let me look"
        await ada.emit("typing", True, cy_conversation)
        assert (await cy.last("typing", on=True))["who"] == "Ada"

        # Other customers and agents hear nothing of Cy's conversation.
        for other in (di, ed, bob):
            assert [m for m in other.heard["message"] if m["conversation"] == cy_conversation] == []
            assert [t for t in other.heard["typing"] if t["conversation"] == cy_conversation] == []

        # Transfer to Bob: Ada loses it, Bob gets it, Cy is told.
        assert await ada.call("transfer", cy_conversation, 999) == {
            "error": "Transfer to another agent who is online."
        }
        bob_id = (await bob.call("ready"))["me"]["id"]
        assert await ada.call("transfer", cy_conversation, bob_id) == {"ok": True}
        assert await ada.last("removed", id=cy_conversation)
        assert await bob.last("assigned", id=cy_conversation)
        assert await cy.last("status", state="open", agent="Bob")
        assert await ada.call("reply", cy_conversation, "still mine?") == {
            "error": "That conversation is another agent's."
        }
        token = (await bob.hear("signed_in"))[0]["token"]
        customer_token = (await cy.hear("identity"))[0]["token"]
        for peer in peers:
            await peer.close()
        peers.clear()
        await served.stop()

        # A new server on the same data: Bob's token still works, the history is there.
        served = ServedDesk(desk_module().create_app(data_dir=tmp_path))
        base = await served.start()
        bob = Peer(base, "acme")
        peers.append(bob)
        await bob.connect({"as": "agent", "token": token})
        ready = await bob.call("ready")
        assert cy_conversation in [c["id"] for c in ready["conversations"]]
        history = (await bob.call("open", cy_conversation))["history"]
        assert [m["text"] for m in history] == [
            "Ada joined.",
            "Hello, my order is late",
            "Let me look",
            "Bob joined.",
        ]
        cy = Peer(base, "acme")
        peers.append(cy)
        await cy.connect({"as": "customer", "token": customer_token}, "polling")
        resumed = await cy.call("resume")
        assert resumed["state"] == "open" and len(resumed["history"]) == 4
        assert await bob.call("close", cy_conversation) == {"ok": True}
        assert await cy.last("status", state="closed")
        assert cy_conversation not in [c["id"] for c in (await bob.call("ready"))["conversations"]]
        # Writing again reopens it, with its history, for the agent online.
        assert await cy.call("say", "One more thing") == {"ok": True}
        assert await cy.last("status", state="open", agent="Bob")
        reopened = (await bob.call("open", cy_conversation))["history"]
        assert [m["text"] for m in reopened][-3:] == [
            "Bob closed the conversation.",
            "Bob joined.",
            "One more thing",
        ]
    finally:
        for peer in peers:
            await peer.close()
        await served.stop()


async def test_companies_are_kept_apart_and_bad_sign_ins_are_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    served = ServedDesk(desk_module().create_app(data_dir=tmp_path))
    base = await served.start()
    peers: list[Peer] = []
    try:
        await new_company(base, "acme")
        await new_company(base, "globex", admin="Gus")
        taken = {"slug": "acme", "name": "Again", "admin": "Al", "password": PASSWORD}
        assert await lobby_call(base, "create_company", taken) == {
            "error": "That address is taken."
        }
        short = {**taken, "slug": "initech", "password": "short"}
        assert "8 to 200" in (await lobby_call(base, "create_company", short))["error"]
        bad = {**taken, "slug": "../x"}
        assert "a-z" in (await lobby_call(base, "create_company", bad))["error"]

        ada = await agent(base, "acme", "Ada")
        peers.append(ada)
        cy = await customer(base, "acme", "Cy")
        peers.append(cy)
        (assigned,) = await ada.hear("assigned")
        token = (await ada.hear("signed_in"))[0]["token"]
        customer_token = (await cy.hear("identity"))[0]["token"]

        # Acme's agent token, a wrong password, an unknown company: refused.
        for company, auth in (
            ("globex", {"as": "agent", "token": token}),
            ("globex", {"as": "agent", "name": "Ada", "password": PASSWORD}),
            ("acme", {"as": "agent", "name": "Ada", "password": "wrong password"}),
            ("acme", {"as": "agent", "token": token[:-1] + ("1" if token[-1] == "0" else "0")}),
        ):
            intruder = Peer(base, company)
            with pytest.raises(socketio.exceptions.ConnectionError):
                await intruder.connect(auth)
            assert intruder.heard["connect_error"] == [
                {"message": "Wrong name or password.", "data": {"sign_in": True}}
            ]
            await intruder.close()
        # Five wrong passwords in a row: sign-ins by that name wait, the right password too.
        for attempt in range(5):
            guess = Peer(base, "acme")
            with pytest.raises(socketio.exceptions.ConnectionError):
                await guess.connect(
                    {"as": "agent", "name": "Ada", "password": f"wrong guess {attempt}"}
                )
            await guess.close()
        locked = Peer(base, "acme")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await locked.connect({"as": "agent", "name": "Ada", "password": PASSWORD})
        (refusal,) = locked.heard["connect_error"]
        assert refusal["message"].startswith("Too many wrong passwords: try again in ")
        await locked.close()
        again = Peer(base, "acme")  # a token needs no password: still in
        peers.append(again)
        await again.connect({"as": "agent", "token": token})

        nowhere = Peer(base, "nowhere")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await nowhere.connect({"as": "customer"})
        assert nowhere.heard["connect_error"] == [{"message": "Invalid namespace"}]
        await nowhere.close()

        # Acme's customer token at Globex is a new person there, with nothing.
        stranger = Peer(base, "globex")
        peers.append(stranger)
        await stranger.connect({"as": "customer", "token": customer_token})
        assert (await stranger.hear("identity"))[0]["token"] != customer_token
        assert await stranger.call("resume") == {"state": None, "history": []}

        # Globex's admin cannot open Acme's conversation, nor hear Acme's talk.
        gus = await agent(base, "globex", "Gus")
        peers.append(gus)
        assert await gus.call("open", assigned["id"]) == {"error": "No such conversation."}
        assert await gus.call("open", "1; DROP TABLE") == {"error": "No such conversation."}
        assert await cy.call("say", "for Acme only") == {"ok": True}
        await ada.last("message", text="for Acme only")
        assert gus.heard["message"] == [] and gus.heard["assigned"] == []
        assert stranger.heard["message"] == []

        # Junk for every event, from either side: an answer each time, no crash.
        junk = [(), (None,), (True,), (-1,), (2**70,), ("x" * 100,), ([1], {"a": None}), ({},)]
        events = ("resume", "start", "say", "ready", "open", "read", "reply", "transfer")
        for peer in (gus, stranger):
            for event in (*events, "close", "add_agent"):
                for args in junk:
                    answer = await peer.call(event, *args)
                    assert answer is not None, (event, args)
        assert [r for r in caplog.records if r.levelname == "ERROR"] == []
        assert await cy.call("say", "still here") == {"ok": True}

        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/desk/nowhere/") as resp:
                assert resp.status == 404
            for path, expected in (
                ("/desk/", "/desk/static/lobby.js"),
                ("/desk/acme/", "/desk/static/customer.js"),
                ("/desk/acme/agent", "/desk/static/agent.js"),
                ("/desk/static/page.js", "var page"),
            ):
                async with http.get(base + path) as resp:
                    assert resp.status == 200, path
                    assert expected in await resp.text(), path
    finally:
        for peer in peers:
            await peer.close()
        await served.stop()


def test_the_pages_scripts_are_ecmascript_3(node_with_acorn: str) -> None:  # noqa: F811
    # IE6 on JSONP runs them as they are: no ES5 syntax, built-ins or trailing commas.
    files = sorted(str(p) for p in (ROOT / "examples" / "desk" / "static").glob("*.js"))
    assert len(files) == 4
    result = subprocess.run(
        [node_with_acorn, "check.js", *files],
        cwd=ROOT / "client_js",
        check=True,
        capture_output=True,
    )
    report = json.loads(result.stdout)
    for file in files:
        assert report[file]["syntax"] is None, (file, report[file]["syntax"])
        assert report[file]["builtins"] == [], (file, report[file]["builtins"])
        assert report[file]["trailing"] == [], (file, report[file]["trailing"])


async def test_an_agent_gone_for_good_hands_their_customers_back_to_a_bounded_queue(
    tmp_path: Path,
) -> None:
    limits = desk_module().DeskLimits(requeue_after=0, max_waiting=1)
    served = ServedDesk(desk_module().create_app(data_dir=tmp_path, limits=limits))
    base = await served.start()
    peers: list[Peer] = []
    try:
        await new_company(base, "acme")
        ada = await agent(base, "acme", "Ada")
        assert (await ada.call("add_agent", {"name": "Bob", "password": PASSWORD}))["ok"]
        bob = await agent(base, "acme", "Bob")
        peers.append(bob)
        cy = await customer(base, "acme", "Cy")
        peers.append(cy)
        (assigned,) = await ada.hear("assigned")
        await ada.close()  # Ada goes: Cy to Bob
        assert await bob.last("assigned", id=assigned["id"])
        assert await cy.last("status", state="open", agent="Bob")
        await bob.close()  # nobody left: Cy waits
        assert await cy.last("status", state="waiting", position=1)
        di = Peer(base, "acme")  # the queue is full
        peers.append(di)
        await di.connect({"as": "customer"})
        assert await di.call("start", "Di") == {
            "error": "Too many customers are waiting; please try again later."
        }
        ada = await agent(base, "acme", "Ada")  # back: Cy to Ada
        peers.append(ada)
        assert await ada.last("assigned", id=assigned["id"])
        assert await cy.last("status", state="open", agent="Ada")
        history = (await ada.call("open", assigned["id"]))["history"]
        assert [m["text"] for m in history] == ["Ada joined.", "Bob joined.", "Ada joined."]

        # Everyone gone (the company's namespace with them), then Bob back: the
        # conversation Ada left is his when he signs in.
        for peer in peers:
            await peer.close()
        peers.clear()
        bob = await agent(base, "acme", "Bob")
        peers.append(bob)
        assert await bob.last("assigned", id=assigned["id"])
    finally:
        for peer in peers:
            await peer.close()
        await served.stop()
