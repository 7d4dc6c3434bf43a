"""python-socketio's user sessions, kept in ``socket.data``.

``await sio.get_session(sid)`` is the socket's ``data`` dict itself,
``await sio.save_session(sid, session)`` replaces it with a copy of
``session``, and ``async with sio.session(sid) as session:`` gets it and
saves it back when the block ends. A session lives as long as its socket:
an id no connected socket of the namespace has raises
:class:`~realtime.UnknownSocket` (a ``KeyError``, as python-socketio's).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import UnknownSocket

if TYPE_CHECKING:
    from .socket import Socket


def session_of(socket: Socket | None, sid: str, namespace: str) -> dict[str, Any]:
    if socket is None:
        raise UnknownSocket(f"no socket {sid!r} is connected to {namespace}: it has no session")
    return socket.data


def save(socket: Socket | None, sid: str, namespace: str, session: Mapping[str, Any]) -> None:
    session_of(socket, sid, namespace)  # the same error for an unknown id
    assert socket is not None
    socket.data = dict(session)


class SessionScope:
    """``async with sio.session(sid) as session:``: the session, saved back
    when the block ends without an exception."""

    __slots__ = ("_namespace", "_session", "_sid", "_socket")

    def __init__(self, socket: Socket | None, sid: str, namespace: str) -> None:
        self._socket = socket
        self._sid = sid
        self._namespace = namespace
        self._session: dict[str, Any] | None = None

    async def __aenter__(self) -> dict[str, Any]:
        self._session = session_of(self._socket, self._sid, self._namespace)
        return self._session

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None and self._session is not None:
            save(self._socket, self._sid, self._namespace, self._session)
