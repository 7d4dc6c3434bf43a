"""The support desk on ``--workers 2`` with the Redis adapter: agents and
customers on different workers find each other (who is online is read
across the cluster, conversations live in the shared SQLite file), a
customer queued on one worker goes to an agent who signs in on the other,
and a transfer crosses workers."""

from __future__ import annotations

import os
from pathlib import Path

from demos.desk_peers import PASSWORD, ROOT, Peer, agent, customer, new_company
from services import RedisServer, free_port, wait_until_serving

from .harness import start_workers, stop_workers


async def test_the_desk_on_two_workers_shares_agents_queue_and_conversations(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    port = free_port()
    # The checkout last on the path: examples/ from it, realtime from where the run says.
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)
    env = {
        **os.environ,
        "PYTHONPATH": path,
        "REALTIME_DEMO_REDIS_URL": redis_server.url,
        "REALTIME_DEMO_DATA": str(tmp_path / "data"),
    }
    proc, ports = await start_workers("examples.desk.app:app", port, 2, cwd=tmp_path, env=env)
    peers: list[Peer] = []
    try:
        for worker_port in ports.values():
            await wait_until_serving(worker_port, proc)
        w0, w1 = (f"http://127.0.0.1:{ports[name]}" for name in ("w0", "w1"))

        await new_company(w0, "acme")
        ada = await agent(w0, "acme", "Ada")
        peers.append(ada)
        assert (await ada.call("add_agent", {"name": "Bob", "password": PASSWORD}))["ok"]
        bob = await agent(w1, "acme", "Bob", "polling")
        peers.append(bob)
        assert await ada.last(
            "agents", lambda roster: [a["name"] for a in roster] == ["Ada", "Bob"]
        )

        # Cy on w1 goes to Ada on w0 (both idle: the agent made first).
        cy = await customer(w1, "acme", "Cy")
        peers.append(cy)
        (assigned,) = await ada.hear("assigned")
        assert await cy.last("status", state="open", agent="Ada")
        assert await cy.call("say", "Hello across workers") == {"ok": True}
        assert (await ada.last("message", sender="customer"))["text"] == "Hello across workers"
        assert await ada.last("summary", id=assigned["id"], unread=1)
        await cy.emit("typing", True)
        assert await ada.last("typing", on=True)
        assert await ada.call("reply", assigned["id"], "Hello from w0") == {"ok": True}
        assert (await cy.last("message", sender="agent"))["text"] == "Hello from w0"

        # A transfer from w0 to Bob on w1.
        bob_id = (await bob.call("ready"))["me"]["id"]
        assert await ada.call("transfer", assigned["id"], bob_id) == {"ok": True}
        assert await bob.last("assigned", id=assigned["id"])
        assert await cy.last("status", state="open", agent="Bob")
        history = (await bob.call("open", assigned["id"]))["history"]
        assert [m["text"] for m in history][1:3] == ["Hello across workers", "Hello from w0"]

        # A queue on w0, emptied by an agent who signs in on w1.
        await new_company(w1, "solo", admin="Sol")
        di = await customer(w0, "solo", "Di")
        peers.append(di)
        assert await di.last("status", state="waiting", position=1)
        sol = await agent(w1, "solo", "Sol")
        peers.append(sol)
        assert (await sol.hear("assigned"))[0]["customer"] == "Di"
        assert await di.last("status", state="open", agent="Sol")
        assert ada.heard["assigned"] == [assigned]  # Acme's agents heard nothing of Solo
    finally:
        for peer in peers:
            await peer.close()
        await stop_workers(proc)
    assert proc.returncode == 0
