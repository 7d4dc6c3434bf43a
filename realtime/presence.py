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

Who is online is counted by a store: this process's (:class:`LocalPresence`),
or, on the Redis adapter, the cluster's (:mod:`realtime.redis_presence`):
then ``online``, ``count``, ``is_online`` and ``last_seen`` are
cluster-wide, the handlers run once in the cluster (on the node that saw
the change), per room it stays this node's view, and the True of
:meth:`Presence.track` / :meth:`Presence.untrack` speaks of this node (the
user's first socket here, their last one here).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, Final, Protocol

from .bus.adapter import AdapterFactory
from .bus.requests import BroadcastOptions
from .errors import PresenceError

if TYPE_CHECKING:
    from .server import Server
    from .socket import Socket

MAX_LAST_SEEN: Final = 100_000
"""Users whose last-seen time is remembered, the least recent forgotten first."""

_EVENTS: Final = ("online", "offline")


Tell = Callable[[str, str, str], None]
"""``tell(event, user_id, namespace)``: a store's way to fire a handler."""


class PresenceStore(Protocol):
    """Where the users online are counted. The presence keeps each socket's
    user; a store hears only when a user gets their first socket on this
    node, or loses their last one, and tells the presence (``tell``) when
    that makes them online or offline where it counts."""

    def arrived(self, namespace: str, user_id: str) -> None: ...

    def left(self, namespace: str, user_id: str) -> None: ...

    def users(self, namespace: str) -> Collection[str]:
        """The users online in ``namespace``."""

    def last_seen(self, namespace: str, user_id: str) -> float | None:
        """When the offline ``user_id`` left (``time.time()``), if known."""


def forget_oldest(seen: OrderedDict[str, float], limit: int) -> None:
    while len(seen) > limit:
        seen.popitem(last=False)


class LocalPresence:
    """The users online in this process."""

    def __init__(self, tell: Tell, max_last_seen: int) -> None:
        self._tell = tell
        self.max_last_seen = max_last_seen
        self._users: dict[str, dict[str, None]] = {}  # namespace -> its users, in order
        self._seen: dict[str, OrderedDict[str, float]] = {}

    def arrived(self, namespace: str, user_id: str) -> None:
        self._users.setdefault(namespace, {})[user_id] = None
        self._seen.setdefault(namespace, OrderedDict()).pop(user_id, None)
        self._tell("online", user_id, namespace)

    def left(self, namespace: str, user_id: str) -> None:
        self._users[namespace].pop(user_id, None)
        seen = self._seen.setdefault(namespace, OrderedDict())
        seen[user_id] = time.time()
        seen.move_to_end(user_id)
        forget_oldest(seen, self.max_last_seen)
        self._tell("offline", user_id, namespace)

    def users(self, namespace: str) -> Collection[str]:
        return self._users.get(namespace, {}).keys()

    def last_seen(self, namespace: str, user_id: str) -> float | None:
        seen = self._seen.get(namespace)
        return seen.get(user_id) if seen is not None else None


class _Namespace:
    __slots__ = ("by_socket", "by_user")

    def __init__(self) -> None:
        self.by_socket: dict[str, str] = {}  # socket id -> user id
        self.by_user: dict[str, dict[str, None]] = {}  # user id -> its socket ids, in order


class Presence:
    """The presence of one server's users; ``sio.presence`` makes it.
    ``max_last_seen``: users whose last-seen time is kept, the least recent
    forgotten first."""

    def __init__(self, server: Server, *, max_last_seen: int = MAX_LAST_SEEN) -> None:
        if max_last_seen < 0:
            raise PresenceError("max_last_seen cannot be negative")
        self.server = server
        self.max_last_seen = max_last_seen
        self._spaces: dict[str, _Namespace] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {event: [] for event in _EVENTS}
        cluster = server.adapter_factory
        store = None
        if isinstance(cluster, AdapterFactory):
            store = cluster.presence_store(self._tell, max_last_seen)
        self.store: PresenceStore = store or LocalPresence(self._tell, max_last_seen)
        """Who counts who is online: this process, or the cluster on the Redis adapter."""
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
        """``socket`` is ``user_id``'s; True when it is the user's first
        socket in this process. Without a cluster that makes them online; on
        the Redis adapter they may have one on another node already (the
        cluster decides, and the ``online`` handlers say it, once)."""
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
            self.store.arrived(name, user_id)
            return True
        return False

    def untrack(self, socket: Socket) -> bool:
        """Forget ``socket``; True when it was its user's last socket in this
        process (on the Redis adapter, offline only if none is on another
        node: the ``offline`` handlers say it)."""
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
        self.store.left(name, user)
        return True

    def _tell(self, event: str, user: str, namespace: str) -> None:
        for handler in self._handlers[event]:
            self.server.runtime.spawn(handler, user, namespace)

    # -- reading -------------------------------------------------------------------

    def online(self, namespace: str = "/", room: str | None = None) -> list[str]:
        """The users online in ``namespace`` (in ``room`` of it, on this
        node), sorted."""
        if room is None:
            return sorted(self.store.users(namespace))
        space = self._spaces.get(namespace)
        if space is None:
            return []
        target = self.server.namespace_named(namespace)
        if target is None:
            return []
        members = target.adapter.sockets(BroadcastOptions(frozenset((room,))))
        return sorted({space.by_socket[sid] for sid in members if sid in space.by_socket})

    def count(self, namespace: str = "/", room: str | None = None) -> int:
        """How many users (not sockets) are online there."""
        if room is None:
            return len(self.store.users(namespace))
        return len(self.online(namespace, room))

    def is_online(self, user_id: str, namespace: str = "/") -> bool:
        """True while ``user_id`` has a tracked socket in ``namespace`` (cluster-wide on the
        Redis adapter)."""
        return user_id in self.store.users(namespace)

    def socket_ids(self, user_id: str, namespace: str = "/") -> list[str]:
        """The user's sockets in ``namespace`` on this node, oldest first."""
        space = self._spaces.get(namespace)
        return list(space.by_user.get(user_id, ())) if space is not None else []

    def user_of(self, socket: Socket) -> str | None:
        """The user ``socket`` is tracked as, or None."""
        space = self._spaces.get(socket.namespace.name)
        return space.by_socket.get(socket.id) if space is not None else None

    def last_seen(self, user_id: str, namespace: str = "/") -> float | None:
        """When (``time.time()``) the user's last socket went; None while
        they are online, or if they were never seen (or long forgotten)."""
        if self.is_online(user_id, namespace):
            return None
        return self.store.last_seen(namespace, user_id)

    # -- the server's watcher ------------------------------------------------------

    def namespace_created(self, namespace: Any) -> None:
        return None

    def namespace_removed(self, namespace: Any) -> None:
        return None

    def socket_connected(self, socket: Any) -> None:
        return None

    def socket_upgraded(self, socket: Any) -> None:
        return None

    def socket_disconnected(self, socket: Any, reason: str) -> None:
        self.untrack(socket)
