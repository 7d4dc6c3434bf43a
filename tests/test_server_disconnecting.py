"""The disconnecting handler (rooms still readable) and disconnect reasons
named as Node names them."""

from __future__ import annotations

from typing import Any

import pytest
from helpers_sio import Gate, connect, make_server, sid_of

from realtime.reasons import REASONS, node_reason
from realtime.server import Server, Socket


def _record(sio: Server, nsp: str = "/") -> list[tuple[str, str, Any]]:
    seen: list[tuple[str, str, Any]] = []

    @sio.on("disconnecting", namespace=nsp)
    def disconnecting(socket: Socket, reason: str) -> None:
        seen.append(("disconnecting", reason, set(socket.rooms)))

    @sio.on("disconnect", namespace=nsp)
    def disconnect(socket: Socket, reason: str) -> None:
        seen.append(("disconnect", reason, set(socket.rooms)))

    return seen


async def test_disconnecting_reads_the_rooms_and_comes_first() -> None:
    sio, runtime = make_server()
    seen = _record(sio)
    conn = connect(sio)
    sid = sid_of(conn.take()[0])
    socket = sio.get_socket(sid)
    assert socket is not None
    socket.join(["lobby", "team"])
    conn.receive("1")  # the client leaves the namespace
    await runtime.settle()
    assert seen == [
        ("disconnecting", "client namespace disconnect", {sid, "lobby", "team"}),
        ("disconnect", "client namespace disconnect", set()),
    ]
    assert sio.in_("lobby").sockets() == []  # gone from the rooms all the same


async def test_an_async_disconnecting_handler_reads_the_rooms_across_awaits() -> None:
    sio, runtime = make_server()
    gate = Gate()
    seen: list[Any] = []

    @sio.on("disconnecting")
    async def disconnecting(socket: Socket, reason: str) -> None:
        await gate.wait()
        seen.append(set(socket.rooms))

    conn = connect(sio)
    sid = sid_of(conn.take()[0])
    socket = sio.get_socket(sid)
    assert socket is not None
    socket.join("lobby")
    conn.lost()
    await runtime.settle()
    gate.open()
    await runtime.settle()
    assert seen == [{sid, "lobby"}]
    assert socket.rooms == frozenset()  # after the handler: no rooms


@pytest.mark.parametrize(
    ("act", "reason"),
    [
        (lambda conn, socket, sio: conn.lost("transport close"), "transport close"),
        (lambda conn, socket, sio: conn.lost("transport error"), "transport error"),
        (lambda conn, socket, sio: conn.lost("ping timeout"), "ping timeout"),
        (lambda conn, socket, sio: conn.receive("9junk"), "parse error"),
        (lambda conn, socket, sio: conn.receive("1"), "client namespace disconnect"),
        (lambda conn, socket, sio: socket.disconnect(), "server namespace disconnect"),
        (lambda conn, socket, sio: conn.close(), "forced close"),
        (lambda conn, socket, sio: conn.close("buffer overflow"), "forced close"),
        (lambda conn, socket, sio: sio.shutdown(), "server shutting down"),
    ],
)
async def test_each_way_out_has_nodes_name(act: Any, reason: str) -> None:
    sio, runtime = make_server()
    seen = _record(sio)
    conn = connect(sio)
    socket = sio.get_socket(sid_of(conn.take()[0]))
    act(conn, socket, sio)
    await runtime.settle()
    assert [(kind, why) for kind, why, _ in seen] == [
        ("disconnecting", reason),
        ("disconnect", reason),
    ]


async def test_closing_from_one_namespace_is_a_forced_server_close_for_the_others() -> None:
    sio, runtime = make_server()
    seen = _record(sio, "/admin")
    sio.of("/admin")
    conn = connect(sio)
    main = sio.get_socket(sid_of(conn.take()[0]))
    conn.receive("0/admin,")
    conn.take()
    assert main is not None
    main.disconnect(close=True)
    await runtime.settle()
    assert [why for _, why, _ in seen] == ["forced server close"] * 2


def test_every_reason_of_our_own_has_a_node_name() -> None:
    for ours in ("server disconnect", "buffer overflow", "event backlog", "connect timeout", "?"):
        assert node_reason(ours) in REASONS
    assert node_reason("event backlog") == "forced server close"
    assert all(node_reason(r) == r for r in REASONS)
