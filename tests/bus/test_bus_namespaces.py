"""Namespace lookup: static names, regular expressions, predicates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from realtime.bus import NamespaceTable, normalize


def test_normalize() -> None:
    assert normalize("admin") == "/admin"
    assert normalize("/admin") == "/admin"
    assert normalize("/") == "/"


def test_static_lookup_only_finds_exact_names() -> None:
    table: NamespaceTable[str] = NamespaceTable()
    table.add("/admin", "admin")
    assert table.get("/admin") == "admin"
    assert table.get("/admin/") is None
    assert table.match("/admin", {}) is None  # match() is for dynamic entries only
    assert list(table) == ["admin"] and len(table) == 1


def test_regex_must_match_the_whole_name() -> None:
    table: NamespaceTable[str] = NamespaceTable()
    table.add_matcher(re.compile(r"/tenant-\w+"), "tenants")
    assert table.match("/tenant-acme", {}) == "tenants"
    assert table.match("/tenant-acme/evil", {}) is None
    assert table.match("/x/tenant-acme", {}) is None


def test_predicate_sees_name_and_auth_and_first_match_wins() -> None:
    table: NamespaceTable[str] = NamespaceTable()
    seen: list[tuple[str, Mapping[str, Any]]] = []

    def vip(name: str, auth: Mapping[str, Any]) -> bool:
        seen.append((name, auth))
        return auth.get("vip") is True

    table.add_matcher(vip, "vip")
    table.add_matcher(re.compile(r"/.*"), "anything")
    assert table.match("/room", {"vip": True}) == "vip"
    assert table.match("/room", {}) == "anything"
    assert seen == [("/room", {"vip": True}), ("/room", {})]


def test_predicate_errors_propagate() -> None:
    table: NamespaceTable[str] = NamespaceTable()

    def broken(name: str, auth: Mapping[str, Any]) -> bool:
        raise RuntimeError("bug")

    table.add_matcher(broken, "x")
    with pytest.raises(RuntimeError):
        table.match("/x", {})
