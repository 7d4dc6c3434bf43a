"""The official Socket.IO Admin UI (@socket.io/admin-ui 0.5) on a realtime server.

``sio.instrument(auth={"username": "admin", "password": "..."})`` opens the
``/admin`` namespace that the UI (https://admin.socket.io, or the package's
``ui/dist`` served anywhere) connects to, and speaks its protocol:

- to the UI: ``config`` (the features this server offers), ``server_stats``
  every two seconds while a UI is connected (clients, polling clients,
  namespaces, and per-second counts of connections, disconnections, packets
  and bytes), and in development mode ``all_sockets``, ``socket_connected``,
  ``socket_disconnected``, ``room_joined``, ``room_left``,
  ``event_received`` and ``event_sent``;
- from the UI (unless ``read_only``): ``emit``, ``join``, ``leave`` and
  ``_disconnect``, each on a namespace and optionally a room of it.

Everything goes through the public API: commands through the broadcast
operator and ``fetch_sockets``, so with the Redis adapter they reach every
node and the UI sees every node's stats (each under its ``server_id``).
Production mode (the default) adds nothing to the message path; development
mode adds an outgoing listener per namespace, which makes every broadcast
decode its packet once more for the UI.
"""

from __future__ import annotations

import hmac
import os
import secrets
import socket as _socket
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

from .errors import ConnectionRefused, InvalidArgument
from .namespace import BroadcastOperator

if TYPE_CHECKING:
    from .namespace import Namespace
    from .protocol.deadlines import Timer
    from .server import Server
    from .socket import Socket

STATS_INTERVAL: Final = 2.0
"""Seconds between two ``server_stats``, as in the Node package."""
MAX_SESSIONS: Final = 1_000
"""UI sessions remembered (a reload reuses its session instead of the password)."""

_FEATURES_WRITE: Final = ("EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT")


def _now_iso() -> str:
    # What JSON.stringify(new Date()) gives: the UI parses it back with new Date().
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AdminUI:
    """The instrumentation of one server; made by :meth:`Server.instrument`."""

    def __init__(
        self,
        server: Server,
        *,
        auth: Mapping[str, str] | None,
        namespace: str = "/admin",
        read_only: bool = False,
        mode: str = "production",
        server_id: str | None = None,
    ) -> None:
        if mode not in ("production", "development"):
            raise InvalidArgument(f"mode is 'production' or 'development', not {mode!r}")
        if auth is not None and not {"username", "password"} <= set(auth):
            raise InvalidArgument("auth needs a username and a password (or auth=None)")
        self.server = server
        self.auth = dict(auth) if auth is not None else None
        self.development = mode == "development"
        self.server_id = server_id or _socket.gethostname()
        self.features = [] if read_only else list(_FEATURES_WRITE)
        self.features.append("AGGREGATED_EVENTS")
        if self.development:
            self.features.append("ALL_EVENTS")
        self._sessions: OrderedDict[str, None] = OrderedDict()
        self._listened: set[Namespace] = set()  # whose events the UI is sent
        self._started = time.monotonic()
        self._timer: Timer | None = None
        self._last = self._totals()  # counted from now on
        self.namespace = server.of(namespace)
        self.namespace.use(self._authenticate)
        self.namespace.on("connect", self._admin_connected)
        self.namespace.on("disconnect", self._admin_disconnected)
        if not read_only:
            self.namespace.on("emit", self._emit)
            self.namespace.on("join", self._join)
            self.namespace.on("leave", self._leave)
            self.namespace.on("_disconnect", self._disconnect)
        if self.development:
            server.watch(self)
            for existing in server.namespaces():
                self.namespace_created(existing)

    # -- the UI's own sockets ----------------------------------------------------------

    def _authenticate(self, socket: Socket, auth: dict[str, Any]) -> None:
        if self.auth is None:
            return
        session = auth.get("sessionId")
        if isinstance(session, str) and session in self._sessions:
            self._sessions.move_to_end(session)
            return
        username, password = auth.get("username"), auth.get("password")
        if (
            isinstance(username, str)
            and isinstance(password, str)
            and hmac.compare_digest(username.encode(), self.auth["username"].encode())
            and hmac.compare_digest(password.encode(), self.auth["password"].encode())
        ):
            session = secrets.token_hex(8)
            self._sessions[session] = None
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
            socket.emit("session", session)
            return
        raise ConnectionRefused("invalid credentials")

    async def _admin_connected(self, socket: Socket, auth: dict[str, Any]) -> None:
        socket.emit("config", {"supportedFeatures": self.features})
        if self.development:
            socket.emit("all_sockets", await self._all_sockets())
        self._send_stats()
        if self._timer is None:
            self._arm()

    def _admin_disconnected(self, socket: Socket, reason: str) -> None:
        if not self.namespace.sockets and self._timer is not None:
            self._timer.cancel()  # nobody watches: no stats to compute
            self._timer = None

    # -- commands ------------------------------------------------------------------

    def _operator(self, nsp: Any, room: Any) -> BroadcastOperator | None:
        if not isinstance(nsp, str):
            return None
        namespace = self.server.namespace_named(nsp)
        if namespace is None:
            return None
        operator = BroadcastOperator(namespace)
        return operator.to(room) if isinstance(room, str) and room else operator

    def _emit(self, socket: Socket, nsp: Any, room: Any, event: Any, *args: Any) -> None:
        operator = self._operator(nsp, room)
        if operator is not None and isinstance(event, str):
            operator.emit(event, *args)

    def _join(self, socket: Socket, nsp: Any, room: Any, where: Any = None) -> None:
        operator = self._operator(nsp, where)
        if operator is not None and isinstance(room, str):
            operator.join(room)

    def _leave(self, socket: Socket, nsp: Any, room: Any, where: Any = None) -> None:
        operator = self._operator(nsp, where)
        if operator is not None and isinstance(room, str):
            operator.leave(room)

    def _disconnect(self, socket: Socket, nsp: Any, close: Any = False, where: Any = None) -> None:
        operator = self._operator(nsp, where)
        if operator is not None:
            operator.disconnect_sockets(bool(close))

    # -- statistics -------------------------------------------------------------------

    def _arm(self) -> None:
        runtime = self.server.runtime
        self._timer = self.server.engine.deadlines.schedule(
            runtime.now() + STATS_INTERVAL, self._tick
        )

    def _tick(self, now: float) -> None:
        self._timer = None
        if self.namespace.sockets:
            self._send_stats()
            self._arm()

    def _totals(self) -> dict[tuple[str, str | None], int]:
        counters = self.server.engine.counters
        totals: dict[tuple[str, str | None], int] = {
            ("rawConnection", None): counters.handshakes,
            ("packetsIn", None): counters.messages_in,
            ("packetsOut", None): counters.messages_out,
            ("bytesIn", None): counters.bytes_in,
            ("bytesOut", None): counters.bytes_out,
        }
        for reason, count in counters.closes.items():
            totals["rawDisconnection", reason] = count
        return totals

    def _aggregated_events(self) -> list[dict[str, Any]]:
        """What happened since the last stats, as the UI charts it: counts per
        second (the whole interval is credited to the second it ends in)."""
        totals = self._totals()
        stamp = int(time.time()) * 1000
        events: list[dict[str, Any]] = []
        for (kind, sub_type), total in totals.items():
            delta = total - self._last.get((kind, sub_type), 0)
            if delta > 0:
                event: dict[str, Any] = {"timestamp": stamp, "type": kind, "count": delta}
                if sub_type is not None:
                    event["subType"] = sub_type
                events.append(event)
        self._last = totals
        return events

    def _send_stats(self) -> None:
        sessions = self.server.engine.sessions
        polling = sum(1 for s in list(sessions.values()) if s.transport == "polling")
        self.namespace.emit(
            "server_stats",
            {
                "serverId": self.server_id,
                "hostname": _socket.gethostname(),
                "pid": os.getpid(),
                "uptime": round(time.monotonic() - self._started, 3),
                "clientsCount": len(sessions),
                "pollingClientsCount": polling,
                "aggregatedEvents": self._aggregated_events(),
                "namespaces": [
                    {"name": ns.name, "socketsCount": len(ns.sockets)}
                    for ns in self.server.namespaces()
                ],
            },
        )

    async def _all_sockets(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for namespace in self.server.namespaces():
            for remote in await BroadcastOperator(namespace).fetch_sockets():
                local = self.server.get_socket(remote.id, namespace.name)
                if local is not None:
                    found.append(_serialize(local))
                    continue
                found.append(
                    {
                        "id": remote.id,
                        "clientId": "",
                        "transport": "",
                        "nsp": namespace.name,
                        "data": _serializable(remote.data),
                        "handshake": _handshake(remote.handshake),
                        "rooms": sorted(remote.rooms),
                    }
                )
        return found

    # -- development mode: the server's watcher --------------------------------------

    def namespace_created(self, namespace: Namespace) -> None:
        if namespace is self.namespace or namespace.dynamic:
            return
        name = namespace.name
        admin = self.namespace

        def membership(room: str, sid: str, joined: bool) -> None:
            event = "room_joined" if joined else "room_left"
            admin.emit(event, name, room, sid, _now_iso())

        namespace.adapter.on_membership = membership
        # A dynamic child shares its parent's listeners: they are added once
        # per parent, not once per child (children come and go).
        owner = namespace.parent or namespace
        if owner in self._listened:
            return
        self._listened.add(owner)

        def received(socket: Socket, event: str, *args: Any) -> None:
            where = socket.namespace.name
            admin.emit("event_received", where, socket.id, [event, *args], _now_iso())

        def sent(socket: Socket, event: str, *args: Any) -> None:
            admin.emit("event_sent", socket.namespace.name, socket.id, [event, *args], _now_iso())

        owner.on_any(received)
        owner.on_any_outgoing(sent)

    def namespace_removed(self, namespace: Namespace) -> None:
        return None  # its adapter, and the membership watcher with it, are gone

    def socket_connected(self, socket: Socket) -> None:
        if socket.namespace is self.namespace:
            return
        self.namespace.emit("socket_connected", _serialize(socket), _now_iso())

    def socket_disconnected(self, socket: Socket, reason: str) -> None:
        if socket.namespace is self.namespace:
            return
        self.namespace.emit(
            "socket_disconnected", socket.namespace.name, socket.id, reason, _now_iso()
        )


def _serializable(data: Any) -> Any:
    plain = data is None or isinstance(data, (dict, list, str, int, float, bool))
    return data if plain else repr(data)


def _handshake(handshake: Any) -> dict[str, Any]:
    headers = dict(getattr(handshake, "headers", {}) or {})
    address = (
        headers.get("cf-connecting-ip")
        or headers.get("x-forwarded-for")
        or getattr(handshake, "address", None)
    )
    return {
        "address": address,
        "headers": headers,
        "query": dict(getattr(handshake, "query", {}) or {}),
        "issued": int(time.time() * 1000),
        "secure": False,
        "time": _now_iso(),
        "url": "",
        "xdomain": "origin" in headers,
    }


def _serialize(socket: Socket) -> dict[str, Any]:
    conn = socket.conn
    transport = "polling" if conn.transport == "polling" else "websocket"
    return {
        "id": socket.id,
        "clientId": conn.id[:12],
        "transport": transport,
        "nsp": socket.namespace.name,
        "data": _serializable(socket.data),
        "handshake": _handshake(socket.handshake),
        "rooms": sorted(socket.rooms),
    }
