"""Who is online: sockets counted per user, per namespace and per room.

``sio.presence.track(socket, user_id)`` says which user a socket belongs to
(after your own authentication, in a ``connect`` handler for instance). One
user with three tabs is one person online; the last of their sockets going
away makes them offline. ``@sio.presence.on("online")`` and ``("offline")``
handlers hear each change, ``fn(user_id, namespace)``, and ``last_seen``
tells when a user that is offline left.

Presence follows sockets as the server does: a socket that disconnects is
untracked by itself (the presence watches the server, :meth:`Server.watch`).
Per room, it is read from the adapter's membership when asked, so it needs
no bookkeeping of its own.

This is one process's view: with several nodes, each knows its own sockets'
users (a cluster-wide presence needs a shared store; not done yet).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from .bus.requests import BroadcastOptions
from .errors import RealtimeError

if TYPE_CHECKING:
    from .server import Server
    from .socket import Socket

MAX_LAST_SEEN: Final = 100_000
"""Users whose last-seen time is remembered, the least recent forgotten first."""

_EVENTS: Final = ("online", "offline")


class PresenceError(RealtimeError, ValueError):
    """A presence call with a bad argument (an empty user id, an unknown event)."""


class _Namespace:
    __slots__ = ("by_socket", "by_user", "last_seen")

    def __init__(self) -> None:
        self.by_socket: dict[str, str] = {}  # socket id -> user id
        self.by_user: dict[str, dict[str, None]] = {}  # user id -> its socket ids, in order
        self.last_seen: OrderedDict[str, float] = OrderedDict()


class Presence:
    """The presence of one server's users; ``sio.presence`` makes it."""

    def __init__(self, server: Server, *, max_last_seen: int = MAX_LAST_SEEN) -> None:
        if max_last_seen < 0:
            raise PresenceError("max_last_seen cannot be negative")
        self.server = server
        self.max_last_seen = max_last_seen
        self._spaces: dict[str, _Namespace] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {event: [] for event in _EVENTS}
        server.watch(self)

    # -- registering ---------------------------------------------------------------

    def on(self, event: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """``@sio.presence.on("online")``: ``fn(user_id, namespace)``, a
        ``def`` or an ``async def``, when a user's first socket is tracked
        (``"offline"``: when their last one goes)."""
        if event not in _EVENTS:
            raise PresenceError(f"presence events are {_EVENTS}, not {event!r}")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._handlers[event].append(fn)
            return fn

        return register

    # -- tracking ------------------------------------------------------------------

    def track(self, socket: Socket, user_id: str) -> bool:
        """``socket`` is ``user_id``'s; True when that makes the user online."""
        if not isinstance(user_id, str) or not user_id:
            raise PresenceError("a user id is a non-empty string")
        name = socket.namespace.name
        space = self._spaces.setdefault(name, _Namespace())
        previous = space.by_socket.get(socket.id)
        if previous == user_id:
            return False
        if previous is not None:
            self._drop(space, name, socket.id)
        space.by_socket[socket.id] = user_id
        sockets = space.by_user.setdefault(user_id, {})
        sockets[socket.id] = None
        if len(sockets) == 1:
            space.last_seen.pop(user_id, None)
            self._tell("online", user_id, name)
            return True
        return False

    def untrack(self, socket: Socket) -> bool:
        """Forget ``socket``; True when that made its user offline."""
        name = socket.namespace.name
        space = self._spaces.get(name)
        return space is not None and self._drop(space, name, socket.id)

    def _drop(self, space: _Namespace, name: str, sid: str) -> bool:
        user = space.by_socket.pop(sid, None)
        if user is None:
            return False
        sockets = space.by_user[user]
        del sockets[sid]
        if sockets:
            return False
        del space.by_user[user]
        space.last_seen[user] = time.time()
        space.last_seen.move_to_end(user)
        while len(space.last_seen) > self.max_last_seen:
            space.last_seen.popitem(last=False)
        self._tell("offline", user, name)
        return True

    def _tell(self, event: str, user: str, namespace: str) -> None:
        for handler in self._handlers[event]:
            self.server.runtime.spawn(handler, user, namespace)

    # -- reading -------------------------------------------------------------------

    def online(self, namespace: str = "/", room: str | None = None) -> list[str]:
        """The users online in ``namespace`` (in ``room`` of it), sorted."""
        space = self._spaces.get(namespace)
        if space is None:
            return []
        if room is None:
            return sorted(space.by_user)
        target = self.server.namespace_named(namespace)
        if target is None:
            return []
        members = target.adapter.sockets(BroadcastOptions(frozenset((room,))))
        return sorted({space.by_socket[sid] for sid in members if sid in space.by_socket})

    def count(self, namespace: str = "/", room: str | None = None) -> int:
        """How many users (not sockets) are online there."""
        if room is None:
            space = self._spaces.get(namespace)
            return len(space.by_user) if space is not None else 0
        return len(self.online(namespace, room))

    def is_online(self, user_id: str, namespace: str = "/") -> bool:
        space = self._spaces.get(namespace)
        return space is not None and user_id in space.by_user

    def socket_ids(self, user_id: str, namespace: str = "/") -> list[str]:
        """The user's sockets in ``namespace``, oldest first."""
        space = self._spaces.get(namespace)
        return list(space.by_user.get(user_id, ())) if space is not None else []

    def user_of(self, socket: Socket) -> str | None:
        space = self._spaces.get(socket.namespace.name)
        return space.by_socket.get(socket.id) if space is not None else None

    def last_seen(self, user_id: str, namespace: str = "/") -> float | None:
        """When (``time.time()``) the user's last socket went; None while
        they are online, or if they were never seen (or long forgotten)."""
        space = self._spaces.get(namespace)
        if space is None or user_id in space.by_user:
            return None
        return space.last_seen.get(user_id)

    # -- the server's watcher ------------------------------------------------------

    def namespace_created(self, namespace: Any) -> None:
        return None

    def socket_connected(self, socket: Any) -> None:
        return None

    def socket_upgraded(self, socket: Any) -> None:
        return None

    def socket_disconnected(self, socket: Any, reason: str) -> None:
        self.untrack(socket)
