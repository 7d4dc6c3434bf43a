"""Which namespace a CONNECT asks for.

Namespaces are named statically (``"/admin"``) or matched dynamically by a
regular expression or a predicate ``(name, auth) -> bool``. A dynamic match
creates a concrete namespace for that name, which is then registered
statically so that later sockets find it without matching again, until its
last socket leaves and it is removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")

Predicate = Callable[[str, Mapping[str, Any]], bool]
Matcher = re.Pattern[str] | Predicate


def normalize(name: str) -> str:
    """``"admin"`` and ``"/admin"`` name the same namespace."""
    return name if name.startswith("/") else "/" + name


def matches(matcher: Matcher, name: str, auth: Mapping[str, Any]) -> bool:
    if isinstance(matcher, re.Pattern):
        # fullmatch: a pattern written without anchors must not admit
        # "/tenant-a/anything" because it happens to contain "/tenant-a".
        return matcher.fullmatch(name) is not None
    return bool(matcher(name, auth))


class NamespaceTable(Generic[T]):
    """Static names first, then dynamic matchers in registration order."""

    def __init__(self) -> None:
        self._static: dict[str, T] = {}
        self._dynamic: list[tuple[Matcher, T]] = []

    def __len__(self) -> int:
        return len(self._static)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._static.values()))

    def get(self, name: str) -> T | None:
        return self._static.get(name)

    def add(self, name: str, value: T) -> None:
        self._static[name] = value

    def remove(self, name: str, value: T) -> bool:
        """Forget ``name`` if it still names ``value``; whether it did."""
        if self._static.get(name) is not value:
            return False
        del self._static[name]
        return True

    def add_matcher(self, matcher: Matcher, value: T) -> None:
        self._dynamic.append((matcher, value))

    def match(self, name: str, auth: Mapping[str, Any]) -> T | None:
        """The value of the first dynamic matcher admitting ``name``.

        A predicate that raises propagates: the caller refuses the socket.
        """
        for matcher, value in self._dynamic:
            if matches(matcher, name, auth):
                return value
        return None
