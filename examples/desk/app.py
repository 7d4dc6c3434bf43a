"""A multi-tenant support desk on realtime, at ``/desk/``.

Run it alone with ``python -m realtime examples.desk.app:app --port 8000``
(or all the demos: ``make demo``) and open http://127.0.0.1:8000/desk/.

Each company has its page, ``/desk/<company>/``, and its own namespace,
``/desk/<company>``, a child of one dynamic namespace: rooms and broadcasts
of one company never reach another's sockets. Customers are anonymous (a
signed token in ``localStorage`` keeps them the same person across
reloads); agents sign in at ``/desk/<company>/agent`` with a name and a
password (scrypt-hashed), and an admin adds agents there.

A customer's conversation goes to the least busy agent online, or waits in
a queue until one signs in; an agent handles many at once (a list with
unread counts), can transfer one to a colleague online, and sees its history
(SQLite, ``store.py``) when it is opened again, after a restart too.

Every piece of shared state is in SQLite or in the server's rooms, so the
desk runs on several workers with the Redis adapter: who is online is read
from the room ``agents`` across the cluster (``fetch_sockets``), and each
message goes to the rooms ``customer:<id>`` and ``agent:<id>``, wherever
their sockets are.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

import realtime
from examples.desk.store import (
    CLOSED,
    OPEN,
    WAITING,
    Agent,
    Conversation,
    Store,
    check_password,
    hash_password,
)
from examples.pages import add_shared_script

STATIC = Path(__file__).with_name("static")
DEFAULT_DATA = Path(__file__).resolve().parents[1] / "data"
LOBBY = "/desk"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$")
COMPANY_NAMESPACE = re.compile(r"^/desk/([a-z0-9][a-z0-9-]{1,30}[a-z0-9])$")
RESERVED = frozenset({"static", "api"})
AGENTS = "agents"  # the room of every agent's sockets, in a company's namespace


@dataclass(frozen=True)
class DeskLimits:
    """What one person may send; every bound has a default."""

    max_text: int = 2000  # characters in one message
    max_name: int = 40  # characters in a name
    max_password: int = 200  # characters (scrypt's work grows with it)
    min_password: int = 8
    max_companies: int = 1000  # on one server
    max_agents: int = 100  # in one company
    max_waiting: int = 500  # conversations in one company's queue
    history: int = 200  # messages shown when a conversation opens
    # Seconds an agent may be gone (a reload, a network cut) before their
    # open conversations go back to the queue, to the agents online.
    requeue_after: float = 30.0
    # Wrong passwords in a row for one agent before sign-ins by that name
    # wait ``lockout`` seconds: each guess costs the server an scrypt hash.
    max_failures: int = 5
    lockout: float = 60.0


def clean(value: Any, limit: int) -> str:
    """One line, trimmed; empty when not text or longer than ``limit``."""
    if not isinstance(value, str):
        return ""
    value = " ".join(value.split())
    return value if len(value) <= limit else ""


class Signer:
    """Tokens that say who a browser is in one company: ``kind.company.id``
    and an HMAC of it, so one company's token is nothing in another's."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def _mac(self, body: str) -> str:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, kind: str, company: str, ident: str) -> str:
        body = f"{kind}.{company}.{ident}"
        return f"{body}.{self._mac(body)}"

    def verify(self, token: Any, kind: str, company: str) -> str | None:
        if not isinstance(token, str) or token.count(".") != 3:
            return None
        found, where, ident, mac = token.split(".")
        if found != kind or where != company or not ident:
            return None
        return ident if hmac.compare_digest(mac, self._mac(f"{kind}.{company}.{ident}")) else None


def company_of(socket: realtime.Socket) -> str:
    found = COMPANY_NAMESPACE.match(socket.namespace.name)
    assert found is not None  # the namespace's pattern admitted it
    return found[1]


def install(
    sio: realtime.Server,
    app: web.Application,
    data_dir: Path | None = None,
    *,
    limits: DeskLimits = DeskLimits(),
) -> Store:
    """The desk on ``sio`` (namespaces ``/desk`` and ``/desk/<company>``) and
    its pages under ``/desk/`` in ``app``; records in ``data_dir/desk.sqlite3``
    (``REALTIME_DEMO_DATA``, else ``examples/data``)."""
    folder = data_dir or Path(os.environ.get("REALTIME_DEMO_DATA") or DEFAULT_DATA)
    store = Store(folder / "desk.sqlite3")
    signer = Signer(store.secret())
    unknown_hash = hash_password(secrets.token_hex(16))  # what a name nobody has is checked against
    lobby = sio.of(LOBBY)

    def known_company(name: str, auth: Any) -> bool:
        found = COMPANY_NAMESPACE.match(name)
        return found is not None and store.company(found[1]) is not None

    known_company.__name__ = "/desk/<company>"
    desk = sio.of(known_company)

    def company_space(company: str) -> Any:
        """The company's namespace on this worker. Handlers run in it, so it
        is there for them; it goes with its last socket on this worker."""
        namespace = sio.namespace_named(f"/desk/{company}")
        assert namespace is not None
        return namespace

    # -- the lobby: a new company --------------------------------------------------
    # Every handler takes ``*extra``: arguments past those it reads are
    # ignored, not a TypeError that would leave the caller without an answer.

    @lobby.on("create_company")
    async def create_company(
        socket: realtime.Socket, form: Any = None, *extra: Any
    ) -> dict[str, Any]:
        form = form if isinstance(form, dict) else {}
        slug = form.get("slug") if isinstance(form.get("slug"), str) else ""
        name = clean(form.get("name"), limits.max_name)
        admin = clean(form.get("admin"), limits.max_name)
        password = form.get("password")
        if not SLUG.match(slug) or slug in RESERVED:
            return {"error": "The address is 3 to 32 of a-z, 0-9 and -, not starting with -."}
        if not name or not admin:
            return {"error": f"Company and admin names are 1 to {limits.max_name} characters."}
        problem = password_problem(password)
        if problem:
            return {"error": problem}
        hashed = await asyncio.to_thread(hash_password, password)
        refused = store.create_company(slug, name, admin, hashed, limits.max_companies)
        if refused:
            return {"error": refused}
        return {"ok": True, "url": f"/desk/{slug}/agent"}

    def password_problem(password: Any) -> str | None:
        if not isinstance(password, str) or not (
            limits.min_password <= len(password) <= limits.max_password
        ):
            return f"A password is {limits.min_password} to {limits.max_password} characters."
        return None

    # -- connecting: customers and agents ----------------------------------------

    @desk.on("connect")
    async def connect(socket: realtime.Socket, auth: Any) -> None:
        auth = auth if isinstance(auth, dict) else {}
        company = company_of(socket)
        if auth.get("as") == "agent":
            agent = await authenticate(company, auth)
            if not isinstance(agent, Agent):
                # ``sign_in``: the page asks for the password again, no retrying.
                raise realtime.ConnectionRefused(agent, {"sign_in": True})
            socket.data.update(role="agent", agent=agent.id, name=agent.name, admin=agent.admin)
            socket.emit(
                "signed_in",
                {"token": signer.sign("agent", company, str(agent.id)), "me": agent.public()},
            )
            return
        customer = signer.verify(auth.get("token"), "customer", company)
        if customer is None:
            customer = secrets.token_hex(8)
        socket.data.update(role="customer", customer=customer)
        socket.join(f"customer:{customer}")
        socket.emit(
            "identity",
            {
                "token": signer.sign("customer", company, customer),
                "company": store.company(company),
            },
        )

    async def authenticate(company: str, auth: dict[str, Any]) -> Agent | str:
        """The agent, or why not."""
        wrong = "Wrong name or password."
        if "token" in auth:
            ident = signer.verify(auth["token"], "agent", company)
            found = store.agent(company, int(ident)) if ident and ident.isdigit() else None
            return found or wrong
        name = clean(auth.get("name"), limits.max_name)
        password = auth.get("password")
        if not name or password_problem(password):
            return wrong
        agent = store.agent_named(company, name)
        if agent is None:
            # A hash all the same, so that the answer's time does not tell
            # which names are agents'.
            await asyncio.to_thread(check_password, str(password), unknown_hash)
            return wrong
        failures, last = store.sign_in_failures(company, name)
        wait = last + limits.lockout - time.time()
        if failures >= limits.max_failures and wait > 0:
            return f"Too many wrong passwords: try again in {math.ceil(wait)} seconds."
        matches = await asyncio.to_thread(check_password, str(password), agent.password)
        store.signed_in(company, name, matches)
        return agent if matches else wrong

    def agent_of(socket: realtime.Socket) -> Agent | None:
        if socket.data.get("role") != "agent":
            return None
        return store.agent(company_of(socket), socket.data["agent"])

    # -- who is online, and who gets a conversation -------------------------------

    async def online_agents(company: str) -> dict[int, str]:
        """Agent id -> name, for every agent with a page open on any worker."""
        sockets = await company_space(company).in_(AGENTS).fetch_sockets()
        return {s.data["agent"]: s.data["name"] for s in sockets if "agent" in s.data}

    def roster(online: dict[int, str]) -> list[dict[str, Any]]:
        return [{"id": i, "name": n} for i, n in sorted(online.items(), key=lambda p: p[1])]

    async def tell_agents_online(company: str) -> None:
        online = await online_agents(company)
        company_space(company).emit("agents", roster(online), to=AGENTS)

    def system_line(conversation: Conversation, text: str) -> None:
        line = store.add_message(conversation.id, "system", "", text)
        company_space(conversation.company).emit(
            "message", line, to=rooms_of(conversation, conversation.agent)
        )

    def rooms_of(conversation: Conversation, agent: int | None) -> list[str]:
        rooms = [f"customer:{conversation.customer}"]
        if agent is not None:
            rooms.append(f"agent:{agent}")
        return rooms

    def tell_customer(conversation: Conversation, queue: list[int] | None = None) -> None:
        """Where the customer's conversation stands: waiting (at which place
        in the ``queue`` of conversation ids), with which agent, or closed."""
        found = store.conversation(conversation.id)
        assert found is not None
        status: dict[str, Any] = {"state": found.status}
        if found.status == OPEN and found.agent is not None:
            agent = store.agent(found.company, found.agent)
            status["agent"] = agent.name if agent else "?"
        if found.status == WAITING:
            if queue is None:
                queue = [waiting.id for waiting in store.waiting(found.company)]
            status["position"] = queue.index(found.id) + 1
        company_space(found.company).emit("status", status, to=f"customer:{found.customer}")

    def tell_queue(company: str) -> None:
        waiting = store.waiting(company)
        queue = [conversation.id for conversation in waiting]
        for conversation in waiting:
            tell_customer(conversation, queue)

    def hand_over(conversation: Conversation, agent_id: int, agent_name: str) -> None:
        space = company_space(conversation.company)
        space.emit("assigned", store.summary(conversation.id), to=f"agent:{agent_id}")
        system_line(store.conversation(conversation.id) or conversation, f"{agent_name} joined.")
        tell_customer(conversation)

    async def assign_waiting(company: str) -> None:
        """Each waiting conversation, oldest first, to the least busy agent;
        first, those of agents away for ``requeue_after`` back to the queue."""
        online = await online_agents(company)
        for agent_id in store.away(company, time.time() - limits.requeue_after):
            if agent_id not in online:
                store.requeue(company, agent_id)
        for conversation in store.waiting(company) if online else []:
            loads = store.loads(company, list(online))
            agent = min(online, key=lambda a: (loads[a], a))
            if store.assign(conversation.id, agent, only_waiting=True):
                hand_over(conversation, agent, online[agent])
        tell_queue(company)

    async def agent_online(user: str, namespace: str) -> None:
        found = COMPANY_NAMESPACE.match(namespace)
        if found and sio.namespace_named(namespace) is not None:  # (not left at once)
            await tell_agents_online(found[1])
            await assign_waiting(found[1])

    async def agent_offline(user: str, namespace: str) -> None:
        found = COMPANY_NAMESPACE.match(namespace)
        if not found:
            return
        company = found[1]
        # In SQLite, so that whichever worker assigns next sees it; an agent
        # on another worker still is online there, and ``ready`` clears it.
        store.set_away(company, int(user), time.time())
        if sio.namespace_named(namespace) is None:
            return  # nobody of the company left on this worker to tell or to take over
        await tell_agents_online(company)
        # A timer, not a sleeping handler: the server's shutdown waits for handlers.
        company_space(company).schedule(
            limits.requeue_after, lambda: sio.runtime.spawn(requeue_if_gone, namespace)
        )

    async def requeue_if_gone(namespace: str) -> None:
        found = COMPANY_NAMESPACE.match(namespace)
        if found and sio.namespace_named(namespace) is not None:
            await assign_waiting(found[1])

    sio.presence.on("online")(agent_online)
    sio.presence.on("offline")(agent_offline)

    # -- the customer's side -------------------------------------------------------

    def customer_view(company: str, customer: str) -> dict[str, Any]:
        conversation = store.conversation_of(company, customer)
        if conversation is None:
            return {"state": None, "history": []}
        history = store.history(conversation.id, limits.history)
        return {
            "state": conversation.status,
            "name": conversation.customer_name,
            "history": history,
        }

    @desk.on("resume")
    def resume(socket: realtime.Socket, *extra: Any) -> dict[str, Any]:
        """A customer's page, (re)connected: their conversation so far."""
        if socket.data.get("role") != "customer":
            return {"error": "Not a customer."}
        view = customer_view(company_of(socket), socket.data["customer"])
        conversation = store.conversation_of(company_of(socket), socket.data["customer"])
        if conversation is not None and conversation.status != CLOSED:
            tell_customer(conversation)
        return view

    @desk.on("start")
    async def start(socket: realtime.Socket, name: Any = None, *extra: Any) -> dict[str, Any]:
        if socket.data.get("role") != "customer":
            return {"error": "Not a customer."}
        name = clean(name, limits.max_name)
        if not name:
            return {"error": f"Please give a name (up to {limits.max_name} characters)."}
        company = company_of(socket)
        known = store.conversation_of(company, socket.data["customer"])
        if (known is None or known.status == CLOSED) and queue_full(company):
            return {"error": "Too many customers are waiting; please try again later."}
        conversation = store.start(company, socket.data["customer"], name)
        if conversation.status == WAITING:
            await assign_waiting(company)
        else:
            tell_customer(conversation)
        return customer_view(company, socket.data["customer"])

    def queue_full(company: str) -> bool:
        return len(store.waiting(company)) >= limits.max_waiting

    def text_problem(text: Any) -> str | None:
        if not isinstance(text, str) or not text.strip():
            return "Nothing to send."
        if len(text) > limits.max_text:
            return f"Messages are at most {limits.max_text} characters; this one has {len(text)}."
        return None

    @desk.on("say")
    async def say(
        socket: realtime.Socket, text: Any = None, cid: Any = None, *extra: Any
    ) -> dict[str, Any]:
        if socket.data.get("role") != "customer":
            return {"error": "Not a customer."}
        problem = text_problem(text)
        if problem:
            return {"error": problem}
        company = company_of(socket)
        conversation = store.conversation_of(company, socket.data["customer"])
        if conversation is None:
            return {"error": "Start a conversation first."}
        if conversation.status == CLOSED:
            # Writing again reopens it: back in the queue, then to an agent.
            if queue_full(company):
                return {"error": "Too many customers are waiting; please try again later."}
            store.start(company, conversation.customer, conversation.customer_name)
            await assign_waiting(company)
            conversation = store.conversation_of(company, conversation.customer) or conversation
        line = store.add_message(conversation.id, "customer", conversation.customer_name, text)
        line["cid"] = cid if isinstance(cid, str) else None
        socket.namespace.emit("message", line, to=rooms_of(conversation, conversation.agent))
        if conversation.agent is not None:
            socket.namespace.emit(
                "summary", store.summary(conversation.id), to=f"agent:{conversation.agent}"
            )
        return {"ok": True}

    @desk.on("typing")
    def typing(
        socket: realtime.Socket, on: Any = False, conversation_id: Any = None, *extra: Any
    ) -> None:
        if socket.data.get("role") == "customer":
            conversation = store.conversation_of(company_of(socket), socket.data["customer"])
            if conversation is not None and conversation.agent is not None:
                signal: dict[str, Any] = {"conversation": conversation.id, "on": on is True}
                socket.namespace.to(f"agent:{conversation.agent}").volatile.emit("typing", signal)
            return
        found = mine(socket, conversation_id)
        if not isinstance(found, str):
            agent, conversation = found
            signal = {"conversation": conversation.id, "on": on is True, "who": agent.name}
            to = f"customer:{conversation.customer}"
            socket.namespace.to(to).volatile.emit("typing", signal)

    # -- the agent's side ------------------------------------------------------------

    def mine(
        socket: realtime.Socket, conversation_id: Any, *, admin_may: bool = False
    ) -> tuple[Agent, Conversation] | str:
        """The socket's agent and their conversation of that id, or why not."""
        agent = agent_of(socket)
        if agent is None:
            return "Sign in as an agent first."
        if type(conversation_id) is not int or not 0 < conversation_id < 2**63:
            return "No such conversation."  # (SQLite's integers are 64-bit)
        conversation = store.conversation(conversation_id)
        if conversation is None or conversation.company != agent.company:
            return "No such conversation."
        if conversation.agent != agent.id and not (admin_may and agent.admin):
            return "That conversation is another agent's."
        return agent, conversation

    @desk.on("ready")
    async def ready(socket: realtime.Socket, *extra: Any) -> dict[str, Any]:
        """An agent's page, (re)connected: it is online from now on."""
        agent = agent_of(socket)
        if agent is None:
            return {"error": "Sign in as an agent first."}
        socket.join([AGENTS, f"agent:{agent.id}"])
        store.set_away(agent.company, agent.id, None)
        sio.presence.track(socket, str(agent.id))
        online = await online_agents(agent.company)
        return {
            "me": agent.public(),
            "company": store.company(agent.company),
            "conversations": store.summaries(agent.company, agent.id),
            "agents": roster(online),
        }

    @desk.on("open")
    def open_conversation(
        socket: realtime.Socket, conversation_id: Any = None, *extra: Any
    ) -> dict[str, Any]:
        found = mine(socket, conversation_id, admin_may=True)
        if isinstance(found, str):
            return {"error": found}
        agent, conversation = found
        if conversation.agent == agent.id:
            read(socket, conversation.id)
        return {
            "conversation": store.summary(conversation.id),
            "history": store.history(conversation.id, limits.history),
        }

    @desk.on("read")
    def read(socket: realtime.Socket, conversation_id: Any = None, *extra: Any) -> bool:
        found = mine(socket, conversation_id)
        if isinstance(found, str):
            return False
        _, conversation = found
        store.mark_read(conversation.id)
        socket.namespace.emit(
            "summary", store.summary(conversation.id), to=f"agent:{conversation.agent}"
        )
        return True

    @desk.on("reply")
    def reply(
        socket: realtime.Socket,
        conversation_id: Any = None,
        text: Any = None,
        cid: Any = None,
        *extra: Any,
    ) -> dict[str, Any]:
        found = mine(socket, conversation_id)
        if isinstance(found, str):
            return {"error": found}
        agent, conversation = found
        problem = text_problem(text)
        if problem:
            return {"error": problem}
        if conversation.status != OPEN:
            return {"error": "That conversation is closed."}
        line = store.add_message(conversation.id, "agent", agent.name, text)
        line["cid"] = cid if isinstance(cid, str) else None
        socket.namespace.emit("message", line, to=rooms_of(conversation, agent.id))
        store.mark_read(conversation.id)
        socket.namespace.emit("summary", store.summary(conversation.id), to=f"agent:{agent.id}")
        return {"ok": True}

    @desk.on("transfer")
    async def transfer(
        socket: realtime.Socket, conversation_id: Any = None, to_agent: Any = None, *extra: Any
    ) -> dict[str, Any]:
        found = mine(socket, conversation_id)
        if isinstance(found, str):
            return {"error": found}
        agent, conversation = found
        online = await online_agents(agent.company)
        if to_agent == agent.id or to_agent not in online:
            return {"error": "Transfer to another agent who is online."}
        if not store.assign(conversation.id, to_agent, only_waiting=False):
            return {"error": "That conversation is closed."}
        socket.namespace.emit("removed", {"id": conversation.id}, to=f"agent:{agent.id}")
        hand_over(conversation, to_agent, online[to_agent])
        return {"ok": True}

    @desk.on("close")
    def close(socket: realtime.Socket, conversation_id: Any = None, *extra: Any) -> dict[str, Any]:
        found = mine(socket, conversation_id)
        if isinstance(found, str):
            return {"error": found}
        agent, conversation = found
        system_line(conversation, f"{agent.name} closed the conversation.")
        store.close_conversation(conversation.id)
        socket.namespace.emit("removed", {"id": conversation.id}, to=f"agent:{agent.id}")
        tell_customer(conversation)
        return {"ok": True}

    @desk.on("add_agent")
    async def add_agent(socket: realtime.Socket, form: Any = None, *extra: Any) -> dict[str, Any]:
        admin = agent_of(socket)
        if admin is None or not admin.admin:
            return {"error": "Only the company's admin adds agents."}
        form = form if isinstance(form, dict) else {}
        name = clean(form.get("name"), limits.max_name)
        if not name:
            return {"error": f"A name is 1 to {limits.max_name} characters."}
        password = form.get("password")
        problem = password_problem(password)
        if problem:
            return {"error": problem}
        hashed = await asyncio.to_thread(hash_password, password)
        added = store.add_agent(admin.company, name, hashed, limits.max_agents)
        if isinstance(added, str):
            return {"error": added}
        return {"ok": True, "agent": added.public()}

    # -- pages -----------------------------------------------------------------------

    def page(name: str) -> Any:
        async def serve(request: web.Request) -> web.StreamResponse:
            company = request.match_info.get("company")
            if company is not None and store.company(company) is None:
                raise web.HTTPNotFound(text=f"No company at /desk/{company}/.")
            return web.FileResponse(STATIC / name)

        return serve

    async def to_lobby(request: web.Request) -> web.Response:
        raise web.HTTPFound("/desk/")

    async def to_company(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/desk/{request.match_info['company']}/")

    app.router.add_get("/desk", to_lobby)
    app.router.add_get("/desk/", page("lobby.html"))
    add_shared_script(app, "/desk/static/")
    app.router.add_static("/desk/static/", STATIC)
    app.router.add_get("/desk/{company}", to_company)
    app.router.add_get("/desk/{company}/", page("customer.html"))
    app.router.add_get("/desk/{company}/agent", page("agent.html"))
    return store


def create_app(**options: Any) -> web.Application:
    """The desk alone: its own server (``options`` go to it, ``data_dir``
    and ``limits`` to :func:`install`)."""
    data_dir = options.pop("data_dir", None)
    limits = options.pop("limits", DeskLimits())
    sio = realtime.Server(**options)
    app = web.Application()
    install(sio, app, data_dir, limits=limits)

    async def home(request: web.Request) -> web.Response:
        raise web.HTTPFound("/desk/")

    app.router.add_get("/", home)
    sio.attach(app)
    return app


def redis_options() -> dict[str, Any]:
    """``REALTIME_DEMO_REDIS_URL=redis://...``: the Redis adapter, for ``--workers``."""
    url = os.environ.get("REALTIME_DEMO_REDIS_URL")
    return {"adapter": realtime.RedisAdapter(url)} if url else {}


def __getattr__(name: str) -> Any:
    # ``app`` is made when asked for (``realtime examples.desk.app:app``),
    # not on import: importing the desk must not open its database.
    if name == "app":
        made = globals()["app"] = create_app(**redis_options())
        return made
    raise AttributeError(name)


if __name__ == "__main__":
    realtime.run(create_app(**redis_options()), host="127.0.0.1", port=8000)
