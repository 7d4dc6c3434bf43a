"""The WebIM's state in SQLite: accounts, friends, groups, messages, read
marks and files. Every worker of a server opens the same file (WAL mode, so
readers never wait for a writer), which is what lets the WebIM run on
``--workers 2``: nothing a second worker needs lives in one process's memory.

A conversation is named from its reader's side: ``"u:7"`` is my conversation
with user 7, ``"g:3"`` is group 3. Whoever asks for one gets only their own.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    salt BLOB NOT NULL, hash BLOB NOT NULL, created REAL NOT NULL, last_seen REAL);
CREATE TABLE IF NOT EXISTS requests (
    sender INTEGER NOT NULL, recipient INTEGER NOT NULL, PRIMARY KEY (sender, recipient));
CREATE TABLE IF NOT EXISTS friends (
    user INTEGER NOT NULL, friend INTEGER NOT NULL, PRIMARY KEY (user, friend));
CREATE TABLE IF NOT EXISTS groups (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, owner INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS members (
    grp INTEGER NOT NULL, user INTEGER NOT NULL, PRIMARY KEY (grp, user));
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sender INTEGER NOT NULL,
    recipient INTEGER, grp INTEGER, kind TEXT NOT NULL, body TEXT NOT NULL,
    file TEXT, time REAL NOT NULL);
CREATE INDEX IF NOT EXISTS messages_pair ON messages (sender, recipient);
CREATE INDEX IF NOT EXISTS messages_group ON messages (grp);
CREATE TABLE IF NOT EXISTS reads (
    user INTEGER NOT NULL, conversation TEXT NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY (user, conversation));
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, owner INTEGER NOT NULL, conversation TEXT NOT NULL,
    name TEXT NOT NULL, mime TEXT NOT NULL, size INTEGER NOT NULL,
    received INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0);
"""

# scrypt's cost: 16 MiB and some tens of milliseconds per login, enough to make
# guessing expensive and small enough for a demo on a shared machine.
SCRYPT: Final = {"n": 2**14, "r": 8, "p": 1}
MAX_UNFINISHED: Final = 3
"""Uploads one user may have under way; starting another drops their oldest."""
PAGE: Final = 200
"""Messages a history read returns at most (the latest)."""
MAX_FRIENDS: Final = 1000
"""Friends one user may have."""
MAX_REQUESTS: Final = 200
"""Friend requests one user may have waiting for an answer."""
MAX_GROUPS: Final = 200
"""Groups one user may be in."""


class StoreError(Exception):
    """A refused operation; its text is shown to the user who asked."""


def password_hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)


def conversation_key(kind: str, other: int) -> str:
    return f"{kind}:{other}"


MAX_ID: Final = 2**53
"""Ids, offsets and read marks above this are refused: SQLite's integers end at
2**63, and the page's numbers are exact only up to 2**53."""
_CONVERSATION: Final = re.compile(r"^[ug]:[0-9]{1,15}$")


def row_id(value: Any) -> int | None:
    """``value`` when it is a usable id (or offset, or read mark): an int, not
    a bool, from 0 to :data:`MAX_ID`."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID:
        return value
    return None


def parse_conversation(key: Any) -> tuple[str, int] | None:
    if not isinstance(key, str) or not _CONVERSATION.match(key):
        return None
    return key[0], int(key[2:])


class Store:
    """One connection per server process to ``data_dir/webim.sqlite``."""

    def __init__(self, data_dir: Path) -> None:
        # What one user can make the server keep, each bounded (attributes, so
        # that a test or an application can set its own).
        self.max_friends = MAX_FRIENDS
        self.max_requests = MAX_REQUESTS
        self.max_groups = MAX_GROUPS
        data_dir.mkdir(parents=True, exist_ok=True)
        self.files = data_dir / "webim-files"
        self.files.mkdir(exist_ok=True)
        self.db = sqlite3.connect(
            data_dir / "webim.sqlite", timeout=10, isolation_level=None, check_same_thread=False
        )
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Statements that land together or not at all (the connection
        otherwise commits each statement by itself)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(sql, args).fetchone()
        return row

    def _count(self, sql: str, *args: Any) -> int:
        row = self._one(sql, *args)
        assert row is not None
        return int(row[0])

    def _room_for_friend(self, *users: int) -> None:
        for user in users:
            if self._count("SELECT COUNT(*) FROM friends WHERE user = ?", user) >= self.max_friends:
                raise StoreError(f"One may have at most {self.max_friends} friends.")

    def _room_in_groups(self, user: int, who: str) -> None:
        if self._count("SELECT COUNT(*) FROM members WHERE user = ?", user) >= self.max_groups:
            raise StoreError(f"{who} in {self.max_groups} groups, the most one may be in.")

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return list(self.db.execute(sql, args).fetchall())

    def secret(self) -> bytes:
        """The key that signs session tokens, made by the first worker to ask
        and then read by every other (so a token works on any worker)."""
        self.db.execute(
            "INSERT OR IGNORE INTO settings VALUES ('secret', ?)", (secrets.token_bytes(32),)
        )
        row = self._one("SELECT value FROM settings WHERE key = 'secret'")
        assert row is not None
        return bytes(row["value"])

    # -- accounts ------------------------------------------------------------------

    def sign_up(self, name: str, salt: bytes, digest: bytes) -> int:
        """A new account; ``digest`` is :func:`password_hash` of its password and ``salt``."""
        try:
            cursor = self.db.execute(
                "INSERT INTO users (name, salt, hash, created) VALUES (?, ?, ?, ?)",
                (name, salt, digest, time.time()),
            )
        except sqlite3.IntegrityError:
            raise StoreError(f"The name {name} is taken.") from None
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def credentials(self, name: str) -> tuple[int, bytes, bytes] | None:
        """``(user, salt, digest)`` of the account called ``name``."""
        row = self._one("SELECT id, salt, hash FROM users WHERE name = ?", name)
        return (int(row["id"]), bytes(row["salt"]), bytes(row["hash"])) if row else None

    def user(self, user: int) -> dict[str, Any] | None:
        row = self._one("SELECT id, name, last_seen FROM users WHERE id = ?", user)
        return dict(row) if row is not None else None

    def user_named(self, name: str) -> dict[str, Any] | None:
        row = self._one("SELECT id, name, last_seen FROM users WHERE name = ?", name)
        return dict(row) if row is not None else None

    def users(self, ids: list[int]) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(ids))
        rows = self._all(f"SELECT id, name, last_seen FROM users WHERE id IN ({marks})", *ids)
        return sorted((dict(r) for r in rows), key=lambda u: str(u["name"]).lower())

    def seen(self, user: int) -> float:
        now = time.time()
        self.db.execute("UPDATE users SET last_seen = ? WHERE id = ?", (now, user))
        return now

    # -- friends -------------------------------------------------------------------

    def friends(self, user: int) -> list[int]:
        return [r[0] for r in self._all("SELECT friend FROM friends WHERE user = ?", user)]

    def are_friends(self, user: int, other: int) -> bool:
        return (
            self._one("SELECT 1 FROM friends WHERE user = ? AND friend = ?", user, other)
            is not None
        )

    def requests_to(self, user: int) -> list[int]:
        return [r[0] for r in self._all("SELECT sender FROM requests WHERE recipient = ?", user)]

    def requests_from(self, user: int) -> list[int]:
        return [r[0] for r in self._all("SELECT recipient FROM requests WHERE sender = ?", user)]

    def request_friend(self, user: int, other: int) -> bool:
        """True when that made them friends (the other had asked already)."""
        if user == other:
            raise StoreError("You cannot befriend yourself.")
        if self.are_friends(user, other):
            raise StoreError("You are friends already.")
        if self._one("SELECT 1 FROM requests WHERE sender = ? AND recipient = ?", other, user):
            self.accept_friend(user, other)
            return True
        self._room_for_friend(user)
        waiting = self._count("SELECT COUNT(*) FROM requests WHERE sender = ?", user)
        if waiting >= self.max_requests:
            raise StoreError(f"{waiting} of your friend requests are still unanswered.")
        self.db.execute("INSERT OR IGNORE INTO requests VALUES (?, ?)", (user, other))
        return False

    def accept_friend(self, user: int, other: int) -> None:
        self._room_for_friend(user, other)
        with self.transaction():
            gone = self.db.execute(
                "DELETE FROM requests WHERE sender = ? AND recipient = ?", (other, user)
            )
            if gone.rowcount == 0:
                raise StoreError("There is no such friend request.")
            self.db.execute(
                "DELETE FROM requests WHERE sender = ? AND recipient = ?", (user, other)
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO friends VALUES (?, ?)", ((user, other), (other, user))
            )

    def remove_friend(self, user: int, other: int) -> None:
        with self.transaction():
            self.db.execute(
                "DELETE FROM friends WHERE (user = ? AND friend = ?) OR (user = ? AND friend = ?)",
                (user, other, other, user),
            )
            self.db.execute(
                "DELETE FROM requests WHERE (sender = ? AND recipient = ?)"
                " OR (sender = ? AND recipient = ?)",
                (user, other, other, user),
            )

    # -- groups --------------------------------------------------------------------

    def create_group(self, user: int, name: str) -> int:
        self._room_in_groups(user, "You are")
        with self.transaction():
            cursor = self.db.execute("INSERT INTO groups (name, owner) VALUES (?, ?)", (name, user))
            assert cursor.lastrowid is not None
            self.db.execute("INSERT INTO members VALUES (?, ?)", (cursor.lastrowid, user))
        return cursor.lastrowid

    def is_member(self, group: int, user: int) -> bool:
        return (
            self._one("SELECT 1 FROM members WHERE grp = ? AND user = ?", group, user) is not None
        )

    def members(self, group: int) -> list[int]:
        return [r[0] for r in self._all("SELECT user FROM members WHERE grp = ?", group)]

    def groups_of(self, user: int) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT g.id, g.name FROM groups g JOIN members m ON m.grp = g.id"
            " WHERE m.user = ? ORDER BY g.name COLLATE NOCASE",
            user,
        )
        return [dict(r) for r in rows]

    def group(self, group: int) -> dict[str, Any] | None:
        row = self._one("SELECT id, name FROM groups WHERE id = ?", group)
        return dict(row) if row is not None else None

    def invite(self, user: int, group: int, other: int) -> None:
        if not self.is_member(group, user):
            raise StoreError("You are not in that group.")
        if not self.are_friends(user, other):
            raise StoreError("You can invite only your friends.")
        if self.is_member(group, other):
            raise StoreError("They are in the group already.")
        self._room_in_groups(other, "They are")
        self.db.execute("INSERT INTO members VALUES (?, ?)", (group, other))

    def leave(self, user: int, group: int) -> None:
        gone = self.db.execute("DELETE FROM members WHERE grp = ? AND user = ?", (group, user))
        if gone.rowcount == 0:
            raise StoreError("You are not in that group.")

    # -- messages ------------------------------------------------------------------

    def may_read(self, user: int, key: str) -> bool:
        parsed = parse_conversation(key)
        if parsed is None:
            return False
        kind, other = parsed
        if kind == "g":
            return self.is_member(other, user)
        return self.user(other) is not None

    def add_message(
        self, sender: int, key: str, kind: str, body: str, file: str | None = None
    ) -> dict[str, Any]:
        parsed = parse_conversation(key)
        assert parsed is not None
        what, other = parsed
        recipient, group = (other, None) if what == "u" else (None, other)
        now = time.time()
        cursor = self.db.execute(
            "INSERT INTO messages (sender, recipient, grp, kind, body, file, time)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (sender, recipient, group, kind, body, file, now),
        )
        assert cursor.lastrowid is not None
        return self._message(cursor.lastrowid)

    def _message(self, message_id: int) -> dict[str, Any]:
        row = self._one(_MESSAGE + " WHERE m.id = ?", message_id)
        assert row is not None
        return _message_dict(row)

    def history(self, user: int, key: str) -> list[dict[str, Any]]:
        kind, other = parse_conversation(key) or ("", 0)
        if kind == "g":
            rows = self._all(_MESSAGE + " WHERE m.grp = ? ORDER BY m.id DESC LIMIT ?", other, PAGE)
        else:
            rows = self._all(
                _MESSAGE + " WHERE (m.sender = ? AND m.recipient = ?)"
                " OR (m.sender = ? AND m.recipient = ?) ORDER BY m.id DESC LIMIT ?",
                user, other, other, user, PAGE,
            )  # fmt: skip
        return [_message_dict(r) for r in reversed(rows)]

    def mark_read(self, user: int, key: str, last: int) -> None:
        self.db.execute(
            "INSERT INTO reads VALUES (?, ?, ?) ON CONFLICT (user, conversation)"
            " DO UPDATE SET last = max(last, excluded.last)",
            (user, key, last),
        )

    def conversations(self, user: int) -> list[dict[str, Any]]:
        """Everyone I have messages with and every group I am in, each with
        its unread count and last message, the most recent first."""
        rows = self._all(
            """
            SELECT CASE WHEN sender = ?1 THEN recipient ELSE sender END AS other,
                   max(id) AS last_id,
                   sum(CASE WHEN sender != ?1 AND id > coalesce(
                       (SELECT last FROM reads WHERE user = ?1 AND conversation =
                        'u:' || (CASE WHEN sender = ?1 THEN recipient ELSE sender END)), 0)
                       THEN 1 ELSE 0 END) AS unread
            FROM messages WHERE grp IS NULL AND (sender = ?1 OR recipient = ?1)
            GROUP BY other
            """,
            user,
        )
        found = [("u:" + str(r["other"]), r["last_id"], r["unread"]) for r in rows]
        for group in self.groups_of(user):
            key = "g:" + str(group["id"])
            row = self._one(
                "SELECT max(id) AS last_id, sum(CASE WHEN sender != ? AND id > coalesce("
                "(SELECT last FROM reads WHERE user = ? AND conversation = ?), 0)"
                " THEN 1 ELSE 0 END) AS unread FROM messages WHERE grp = ?",
                user, user, key, group["id"],
            )  # fmt: skip
            found.append((key, row["last_id"] if row else None, (row["unread"] if row else 0) or 0))
        result = []
        for key, last_id, unread in found:
            entry: dict[str, Any] = {"key": key, "unread": unread or 0, "last": None}
            if last_id is not None:
                entry["last"] = self._message(last_id)
            result.append(entry)
        result.sort(key=lambda c: -(c["last"]["id"] if c["last"] else 0))
        return result

    # -- files ---------------------------------------------------------------------

    def start_file(self, owner: int, key: str, name: str, mime: str, size: int) -> str:
        unfinished = self._all(
            "SELECT id FROM files WHERE owner = ? AND done = 0 ORDER BY rowid DESC", owner
        )
        for row in unfinished[MAX_UNFINISHED - 1 :]:
            self.db.execute("DELETE FROM files WHERE id = ?", (row["id"],))
            (self.files / row["id"]).unlink(missing_ok=True)
        file_id = secrets.token_urlsafe(12)
        self.db.execute(
            "INSERT INTO files (id, owner, conversation, name, mime, size)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (file_id, owner, key, name, mime, size),
        )
        (self.files / file_id).write_bytes(b"")
        return file_id

    def file(self, file_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM files WHERE id = ?", file_id)
        return dict(row) if row is not None else None

    def add_chunk(self, file_id: str, offset: int, chunk: bytes) -> int:
        """Append ``chunk`` at ``offset``; the bytes received so far."""
        with (self.files / file_id).open("r+b") as out:
            out.seek(offset)
            out.write(chunk)
        received = offset + len(chunk)
        self.db.execute("UPDATE files SET received = ? WHERE id = ?", (received, file_id))
        return received

    def finish_file(self, file_id: str) -> None:
        self.db.execute("UPDATE files SET done = 1 WHERE id = ?", (file_id,))

    def file_path(self, file_id: str) -> Path:
        return self.files / file_id

    def may_fetch(self, user: int, file: dict[str, Any]) -> bool:
        """Whether ``user`` is in the conversation the file was sent to."""
        kind, other = parse_conversation(file["conversation"]) or ("", 0)
        if kind == "g":
            return self.is_member(other, user)
        return user in (file["owner"], other)


_MESSAGE: Final = (
    "SELECT m.id, m.sender, u.name AS sender_name, m.recipient, m.grp, m.kind, m.body,"
    " m.file, m.time, f.name AS file_name, f.mime, f.size"
    " FROM messages m JOIN users u ON u.id = m.sender LEFT JOIN files f ON f.id = m.file"
)


def _message_dict(row: sqlite3.Row) -> dict[str, Any]:
    message = {
        "id": row["id"],
        "from": {"id": row["sender"], "name": row["sender_name"]},
        "to": row["recipient"],
        "group": row["grp"],
        "kind": row["kind"],
        "text": row["body"],
        "time": int(row["time"] * 1000),
    }
    if row["file"] is not None:
        message["file"] = {
            "id": row["file"], "name": row["file_name"], "mime": row["mime"], "size": row["size"],
        }  # fmt: skip
    return message
