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
node and the UI sees every node's sockets (in development mode with their
client id and transport, kept in ``socket.data["_admin"]`` as the Node package
does) and every node's stats (each under its ``server_id``). In development
mode ``socket_updated`` tells of upgrades and of changes to ``socket.data``.
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
from collections.abc import Callable, Mapping
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
WATCH_LEASE: Final = 3 * STATS_INTERVAL
"""Seconds another node keeps sending its stats after a UI's node last said
that a UI watches (it says so with every stats tick)."""
_WATCHING: Final = "_admin_ui_watching"  # the server-side event that says so
MAX_SESSIONS: Final = 1_000
"""UI sessions remembered (a reload reuses its session instead of the password)."""

_FEATURES_WRITE: Final = ("EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT")


def _now_iso() -> str:
    # What JSON.stringify(new Date()) gives: the UI parses it back with new Date().
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AdminUI:
    """The instrumentation of one server; made by :meth:`Server.instrument`,
    which says what its arguments mean."""

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
        """The username and password the UI must give, or None."""
        self.development = mode == "development"
        """``mode='development'``: every socket, room change and event is reported."""
        self.server_id = server_id or _socket.gethostname()
        """The name the UI shows for this node (the host name by default)."""
        self.features = [] if read_only else list(_FEATURES_WRITE)
        """What the UI is told it may do (none of its commands when ``read_only``)."""
        self.features.append("AGGREGATED_EVENTS")
        if self.development:
            self.features.append("ALL_EVENTS")
        self._sessions: OrderedDict[str, None] = OrderedDict()
        self._listened: set[Namespace] = set()  # whose events the UI is sent
        self._started = time.monotonic()
        self._timer: Timer | None = None
        self._watched_until = 0.0  # a UI on another node watches until then
        self._last = self._totals()  # counted from now on
        self.namespace = server.of(namespace)
        """The namespace the UI connects to."""
        self.namespace.use(self._authenticate)
        self.namespace.on("connect", self._admin_connected)
        self.namespace.on("disconnect", self._admin_disconnected)
        self.namespace.on_server_side_emit(_WATCHING, self._watched_elsewhere)
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
        watched = self.server.runtime.now() < self._watched_until
        if not self.namespace.sockets and not watched and self._timer is not None:
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
        self._tell_others()

    def _tick(self, now: float) -> None:
        self._timer = None
        if self.namespace.sockets or now < self._watched_until:
            self._send_stats()
            self._arm()

    def _tell_others(self) -> None:
        """With a cluster adapter, the UI hears every node's stats, as from
        Node's, which send them whether or not anyone watches: here a node
        sends them only while some node has a UI connected, which says so
        to the others with each of its ticks (a lease of WATCH_LEASE)."""
        if self.namespace.sockets:
            self.namespace.server_side_emit(_WATCHING)

    def _watched_elsewhere(self) -> None:
        self._watched_until = self.server.runtime.now() + WATCH_LEASE
        if self._timer is None:
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
                data = remote.data if isinstance(remote.data, dict) else {}
                admin = data.get(_ADMIN_KEY)
                admin = admin if isinstance(admin, dict) else {}
                found.append(
                    {
                        "id": remote.id,
                        "clientId": str(admin.get("clientId", "")),
                        "transport": str(admin.get("transport", "")),
                        "nsp": namespace.name,
                        "data": _user_data(remote.data),
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
        # As the Node package does: the client id and transport travel in
        # ``data._admin``, so that another node's UI, which sees this socket
        # through fetch_sockets (only id, rooms, data and handshake), shows
        # them too; and changes to ``socket.data`` are told as socket_updated.
        data = dict(socket.data)
        data[_ADMIN_KEY] = {"clientId": socket.conn.id[:12], "transport": _transport(socket)}
        socket.data = _WatchedData(data, lambda: self._data_updated(socket))
        self.namespace.emit("socket_connected", _serialize(socket), _now_iso())

    def socket_upgraded(self, socket: Socket) -> None:
        if socket.namespace is self.namespace:
            return
        admin = socket.data.get(_ADMIN_KEY)
        if isinstance(admin, dict):
            admin["transport"] = "websocket"
        self.namespace.emit(
            "socket_updated",
            {"id": socket.id, "nsp": socket.namespace.name, "transport": "websocket"},
        )

    def _data_updated(self, socket: Socket) -> None:
        self.namespace.emit(
            "socket_updated",
            {"id": socket.id, "nsp": socket.namespace.name, "data": _user_data(socket.data)},
        )

    def socket_disconnected(self, socket: Socket, reason: str) -> None:
        if socket.namespace is self.namespace:
            return
        self.namespace.emit(
            "socket_disconnected", socket.namespace.name, socket.id, reason, _now_iso()
        )


_ADMIN_KEY: Final = "_admin"
"""Where development mode keeps a socket's client id and transport in its
``data``, as the Node package does (and hides it from the UI's data view)."""


class _WatchedData(dict[str, Any]):
    """``socket.data`` in development mode: a dict that tells the UI of every
    change to it (``socket_updated``), as the Node package's Proxy does.
    Changes inside a nested value, or a new dict assigned to ``socket.data``,
    go unnoticed."""

    __slots__ = ("_changed",)

    def __init__(self, data: Mapping[str, Any], changed: Callable[[], None]) -> None:
        super().__init__(data)
        self._changed = changed

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def __ior__(self, other: Any) -> _WatchedData:  # type: ignore[override,misc]
        super().update(other)
        self._changed()
        return self

    def setdefault(self, key: str, default: Any = None) -> Any:
        had = key in self
        value = super().setdefault(key, default)
        if not had:
            self._changed()
        return value

    def pop(self, key: str, *default: Any) -> Any:
        had = key in self
        value = super().pop(key, *default)
        if had:
            self._changed()
        return value

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self._changed()
        return item

    def clear(self) -> None:
        super().clear()
        self._changed()


def _serializable(data: Any) -> Any:
    plain = data is None or isinstance(data, (dict, list, str, int, float, bool))
    return data if plain else repr(data)


def _user_data(data: Any) -> Any:
    """``data`` as the UI shows it: without development mode's ``_admin``."""
    if isinstance(data, dict) and _ADMIN_KEY in data:
        return _serializable({k: v for k, v in data.items() if k != _ADMIN_KEY})
    return _serializable(data)


def _transport(socket: Socket) -> str:
    return "polling" if socket.conn.transport == "polling" else "websocket"


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
    return {
        "id": socket.id,
        "clientId": socket.conn.id[:12],
        "transport": _transport(socket),
        "nsp": socket.namespace.name,
        "data": _user_data(socket.data),
        "handshake": _handshake(socket.handshake),
        "rooms": sorted(socket.rooms),
    }
