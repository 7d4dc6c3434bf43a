"""The support desk's records in SQLite: companies, agents, conversations
and their messages.

Everything that more than one worker must agree on lives here (or in the
server's rooms), never in a dict of one process: two workers open the same
file, in WAL mode, and write in short ``BEGIN IMMEDIATE`` transactions, so a
waiting conversation is handed to one agent only even when two workers try.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

# scrypt's cost: 16 MiB and about 50 ms per hash, so a stolen file does not
# give its passwords away cheaply.
SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS companies (
    slug TEXT PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS agents (
    id INTEGER PRIMARY KEY, company TEXT NOT NULL REFERENCES companies(slug),
    name TEXT NOT NULL, password TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0,
    away_since REAL, UNIQUE (company, name));
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY, company TEXT NOT NULL REFERENCES companies(slug),
    customer TEXT NOT NULL, customer_name TEXT NOT NULL,
    agent INTEGER REFERENCES agents(id), status TEXT NOT NULL,
    created REAL NOT NULL, agent_read INTEGER NOT NULL DEFAULT 0,
    UNIQUE (company, customer));
CREATE INDEX IF NOT EXISTS conversations_by_agent ON conversations (company, agent, status);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, conversation INTEGER NOT NULL REFERENCES conversations(id),
    sender TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL, time REAL NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation, id);
CREATE TABLE IF NOT EXISTS sign_in_failures (
    company TEXT NOT NULL, name TEXT NOT NULL, failures INTEGER NOT NULL, last REAL NOT NULL,
    PRIMARY KEY (company, name));
"""

# A conversation as the agent's list shows it: unread counts the customer's
# lines after the last one the agent saw.
SUMMARY: Final = (
    "SELECT c.*,"
    " (SELECT COUNT(*) FROM messages m WHERE m.conversation = c.id"
    "   AND m.sender = 'customer' AND m.id > c.agent_read) AS unread,"
    " (SELECT m.text FROM messages m WHERE m.conversation = c.id"
    "   ORDER BY m.id DESC LIMIT 1) AS last,"
    " (SELECT MAX(m.id) FROM messages m WHERE m.conversation = c.id) AS latest"
    " FROM conversations c"
)

WAITING: Final = "waiting"
OPEN: Final = "open"
CLOSED: Final = "closed"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        mine = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(mine.hex(), digest)


@dataclass(frozen=True)
class Agent:
    id: int
    company: str
    name: str
    password: str
    admin: bool

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "admin": self.admin}


@dataclass(frozen=True)
class Conversation:
    id: int
    company: str
    customer: str
    customer_name: str
    agent: int | None
    status: str


class Store:
    """One process's connection to the desk's database file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: every write below says where its transaction begins.
        # Made by whoever builds the app, used by the server's event loop
        # thread only (passwords are hashed in other threads, without it).
        self.db = sqlite3.connect(
            str(path), isolation_level=None, timeout=10, check_same_thread=False
        )
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def secret(self) -> bytes:
        """The key that signs tokens: one per database, so that every worker
        (and the server after a restart) accepts the tokens of the others."""
        self.db.execute(
            "INSERT OR IGNORE INTO settings (key, value) VALUES ('secret', ?)",
            (secrets.token_bytes(32),),
        )
        row = self.db.execute("SELECT value FROM settings WHERE key = 'secret'").fetchone()
        return bytes(row["value"])

    # -- companies and agents --------------------------------------------------

    def company(self, slug: str) -> str | None:
        row = self.db.execute("SELECT name FROM companies WHERE slug = ?", (slug,)).fetchone()
        return str(row["name"]) if row is not None else None

    def create_company(
        self, slug: str, name: str, admin: str, password_hash: str, max_companies: int
    ) -> str | None:
        """None when done, else why not."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            (count,) = self.db.execute("SELECT COUNT(*) FROM companies").fetchone()
            if count >= max_companies:
                return "This server has as many companies as it takes."
            if self.company(slug) is not None:
                return "That address is taken."
            self.db.execute(
                "INSERT INTO companies (slug, name, created) VALUES (?, ?, ?)",
                (slug, name, time.time()),
            )
            self.db.execute(
                "INSERT INTO agents (company, name, password, admin) VALUES (?, ?, ?, 1)",
                (slug, admin, password_hash),
            )
            return None
        finally:
            self.db.execute("COMMIT")

    def add_agent(
        self, company: str, name: str, password_hash: str, max_agents: int
    ) -> Agent | str:
        """The new agent, or why not."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            (count,) = self.db.execute(
                "SELECT COUNT(*) FROM agents WHERE company = ?", (company,)
            ).fetchone()
            if count >= max_agents:
                return f"A company has at most {max_agents} agents."
            try:
                cursor = self.db.execute(
                    "INSERT INTO agents (company, name, password) VALUES (?, ?, ?)",
                    (company, name, password_hash),
                )
            except sqlite3.IntegrityError:
                return "An agent of that name exists."
            return Agent(int(cursor.lastrowid or 0), company, name, password_hash, False)
        finally:
            self.db.execute("COMMIT")

    def _agent(self, row: sqlite3.Row | None) -> Agent | None:
        if row is None:
            return None
        return Agent(row["id"], row["company"], row["name"], row["password"], bool(row["admin"]))

    def agent_named(self, company: str, name: str) -> Agent | None:
        return self._agent(
            self.db.execute(
                "SELECT * FROM agents WHERE company = ? AND name = ?", (company, name)
            ).fetchone()
        )

    def agent(self, company: str, agent_id: int) -> Agent | None:
        return self._agent(
            self.db.execute(
                "SELECT * FROM agents WHERE company = ? AND id = ?", (company, agent_id)
            ).fetchone()
        )

    def sign_in_failures(self, company: str, name: str) -> tuple[int, float]:
        """Wrong passwords given for that name in a row, and when the last was."""
        row = self.db.execute(
            "SELECT failures, last FROM sign_in_failures WHERE company = ? AND name = ?",
            (company, name),
        ).fetchone()
        return (row["failures"], row["last"]) if row is not None else (0, 0.0)

    def signed_in(self, company: str, name: str, ok: bool) -> None:
        if ok:
            self.db.execute(
                "DELETE FROM sign_in_failures WHERE company = ? AND name = ?", (company, name)
            )
            return
        self.db.execute(
            "INSERT INTO sign_in_failures (company, name, failures, last) VALUES (?, ?, 1, ?)"
            " ON CONFLICT (company, name) DO UPDATE SET failures = failures + 1, last = ?",
            (company, name, time.time(), time.time()),
        )

    # -- conversations -----------------------------------------------------------

    def _conversation(self, row: sqlite3.Row | None) -> Conversation | None:
        if row is None:
            return None
        return Conversation(
            row["id"], row["company"], row["customer"], row["customer_name"],
            row["agent"], row["status"],
        )  # fmt: skip

    def conversation(self, conversation_id: int) -> Conversation | None:
        return self._conversation(
            self.db.execute(
                "SELECT * FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
        )

    def conversation_of(self, company: str, customer: str) -> Conversation | None:
        return self._conversation(
            self.db.execute(
                "SELECT * FROM conversations WHERE company = ? AND customer = ?",
                (company, customer),
            ).fetchone()
        )

    def start(self, company: str, customer: str, name: str) -> Conversation:
        """The customer's conversation, made or reopened (waiting for an agent)
        unless it is going on."""
        self.db.execute(
            "INSERT INTO conversations (company, customer, customer_name, status, created)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (company, customer) DO UPDATE SET"
            " customer_name = excluded.customer_name,"
            " status = CASE status WHEN 'closed' THEN 'waiting' ELSE status END,"
            " agent = CASE status WHEN 'closed' THEN NULL ELSE agent END",
            (company, customer, name, WAITING, time.time()),
        )
        found = self.conversation_of(company, customer)
        assert found is not None
        return found

    def assign(self, conversation_id: int, agent_id: int, *, only_waiting: bool) -> bool:
        """Give the conversation to the agent; with ``only_waiting``, only if
        nobody took it meanwhile (another worker, say)."""
        query = "UPDATE conversations SET agent = ?, status = 'open' WHERE id = ?"
        if only_waiting:
            query += " AND status = 'waiting'"
        else:
            query += " AND status = 'open'"
        return self.db.execute(query, (agent_id, conversation_id)).rowcount == 1

    def close_conversation(self, conversation_id: int) -> None:
        self.db.execute(
            "UPDATE conversations SET status = 'closed' WHERE id = ?", (conversation_id,)
        )

    def set_away(self, company: str, agent_id: int, since: float | None) -> None:
        """When the agent's last page went (None: they are back)."""
        self.db.execute(
            "UPDATE agents SET away_since = ? WHERE company = ? AND id = ?",
            (since, company, agent_id),
        )

    def away(self, company: str, before: float) -> list[int]:
        """The agents away since ``before`` or earlier who still have open conversations."""
        rows = self.db.execute(
            "SELECT id FROM agents WHERE company = ? AND away_since <= ? AND EXISTS"
            " (SELECT 1 FROM conversations c WHERE c.agent = agents.id AND c.status = 'open')",
            (company, before),
        ).fetchall()
        return [row["id"] for row in rows]

    def requeue(self, company: str, agent_id: int) -> int:
        """The agent's open conversations back in the queue; how many."""
        cursor = self.db.execute(
            "UPDATE conversations SET status = 'waiting', agent = NULL"
            " WHERE company = ? AND agent = ? AND status = 'open'",
            (company, agent_id),
        )
        return cursor.rowcount

    def loads(self, company: str, agent_ids: list[int]) -> dict[int, int]:
        """Open conversations per agent (the busier, the more)."""
        counts = dict.fromkeys(agent_ids, 0)
        for row in self.db.execute(
            "SELECT agent, COUNT(*) AS n FROM conversations"
            " WHERE company = ? AND status = 'open' GROUP BY agent",
            (company,),
        ):
            if row["agent"] in counts:
                counts[row["agent"]] = row["n"]
        return counts

    def waiting(self, company: str) -> list[Conversation]:
        rows = self.db.execute(
            "SELECT * FROM conversations WHERE company = ? AND status = 'waiting'"
            " ORDER BY created, id",
            (company,),
        ).fetchall()
        return [c for c in map(self._conversation, rows) if c is not None]

    def summaries(self, company: str, agent_id: int | None) -> list[dict[str, Any]]:
        """The agent's open conversations (every open one for None) with
        their unread counts and last lines, the most recent first."""
        where = "c.company = ? AND c.status = 'open'"
        params: tuple[Any, ...] = (company,)
        if agent_id is not None:
            where += " AND c.agent = ?"
            params += (agent_id,)
        rows = self.db.execute(
            f"{SUMMARY} WHERE {where} ORDER BY latest DESC, c.id DESC", params
        ).fetchall()
        return [self.summary_of(row) for row in rows]

    def summary(self, conversation_id: int) -> dict[str, Any]:
        row = self.db.execute(f"{SUMMARY} WHERE c.id = ?", (conversation_id,)).fetchone()
        return self.summary_of(row)

    @staticmethod
    def summary_of(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "customer": row["customer_name"],
            "agent": row["agent"],
            "status": row["status"],
            "unread": row["unread"],
            "last": row["last"] or "",
        }

    def mark_read(self, conversation_id: int) -> None:
        self.db.execute(
            "UPDATE conversations SET agent_read ="
            " (SELECT COALESCE(MAX(id), 0) FROM messages WHERE conversation = ?) WHERE id = ?",
            (conversation_id, conversation_id),
        )

    # -- messages ------------------------------------------------------------------

    def add_message(
        self, conversation_id: int, sender: str, author: str, text: str
    ) -> dict[str, Any]:
        cursor = self.db.execute(
            "INSERT INTO messages (conversation, sender, author, text, time)"
            " VALUES (?, ?, ?, ?, ?)",
            (conversation_id, sender, author, text, time.time()),
        )
        row = self.db.execute("SELECT * FROM messages WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return self.message_of(row)

    def history(self, conversation_id: int, limit: int) -> list[dict[str, Any]]:
        """The last ``limit`` messages, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM (SELECT * FROM messages WHERE conversation = ?"
            " ORDER BY id DESC LIMIT ?) ORDER BY id",
            (conversation_id, limit),
        ).fetchall()
        return [self.message_of(row) for row in rows]

    @staticmethod
    def message_of(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "conversation": row["conversation"],
            "sender": row["sender"],
            "author": row["author"],
            "text": row["text"],
            "time": int(row["time"] * 1000),
        }
