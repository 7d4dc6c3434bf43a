"""The WebSocket link in memory: an engine, a fake clock, and the link's
answers, with no socket. Each test walks one path of the state table."""

from __future__ import annotations

import pytest

from realtime.engine import Engine
from realtime.http import AcceptWebSocket, HttpRequest, HttpResponse, LongPoll
from realtime.link import TRANSITIONS, LinkState, WebSocketLink
from realtime.protocol.engineio import Packet, PacketType
from realtime.protocol.poll import ParkedPoll, PollState
from realtime.protocol.session import Session
from realtime.types import Connection, Data

WS = {"host": "h", "upgrade": "websocket"}


class Quiet:
    """A listener that ignores what reaches the layer above."""

    def on_open(self, conn: Connection) -> None: ...

    def on_message(self, conn: Connection, data: Data) -> None: ...

    def on_close(self, conn: Connection, reason: str) -> None: ...


def new_engine(**options: float) -> Engine:
    return Engine(listener=Quiet(), **options)


def start(engine: Engine, transport: str) -> tuple[Session, WebSocketLink, list[int]]:
    """A session opened on ``transport``, and a link for a WebSocket: the
    session's own (transport websocket) or a probe joining it (polling)."""
    headers = WS if transport == "websocket" else {"host": "h"}
    first = engine.handle_request(
        HttpRequest("GET", "/engine.io/", {"EIO": "4", "transport": transport}, headers), 0.0
    )
    if transport == "websocket":
        assert isinstance(first, AcceptWebSocket)
        session = first.session
        decision = first
    else:
        assert isinstance(first, HttpResponse)
        session = next(iter(engine.sessions.values()))
        decision = engine.handle_request(
            HttpRequest(
                "GET", "/engine.io/", {"EIO": "4", "transport": "websocket", "sid": session.id}, WS
            ),
            0.0,
        )
        assert isinstance(decision, AcceptWebSocket) and decision.upgrade
    wakes: list[int] = []
    link = WebSocketLink(engine, session, decision.upgrade, lambda: wakes.append(1))
    return session, link, wakes


def test_every_state_has_its_moves_and_closed_has_none() -> None:
    assert set(TRANSITIONS) == set(LinkState)
    assert TRANSITIONS[LinkState.CLOSED] == frozenset()
    assert LinkState.PROBING not in TRANSITIONS[LinkState.OPEN]


def test_a_plain_socket_writes_the_open_packet_and_closes_with_the_session() -> None:
    engine = new_engine()
    session, link, _ = start(engine, "websocket")
    assert link.state is LinkState.OPEN and link.wants_output_now
    first = link.output()
    assert isinstance(first[0], Packet) and first[0].type is PacketType.OPEN
    session.close()
    assert link.output() == [] and link.closing  # no CLOSE packet on a WebSocket
    link.lost(1.0)
    assert link.state is LinkState.CLOSED


def test_the_upgrade_dance() -> None:
    engine = new_engine()
    session, link, _ = start(engine, "polling")
    assert link.state is LinkState.PROBING and not link.wants_output_now
    session.send("queued while probing")
    assert link.output() == []  # a probe writes nothing before its upgrade
    assert link.receive("2probe", 1.0) == "3probe"
    assert link.receive("5", 1.0) is None
    assert session.transport == "websocket"
    assert link.output() == ["queued while probing"]
    assert link.state is LinkState.OPEN


def test_a_probe_that_times_out_is_closed_and_polling_carries_on() -> None:
    engine = new_engine(upgrade_timeout=5)
    session, link, wakes = start(engine, "polling")
    engine.handle_timeouts(6.0)  # no probe within the upgrade timeout
    assert wakes  # its owner was told
    assert link.output() == [] and link.closing
    link.lost(6.0)
    assert session.transport == "polling" and not session.closed
    poll = engine.handle_request(
        HttpRequest(
            "GET",
            "/engine.io/",
            {"EIO": "4", "transport": "polling", "sid": session.id},
            {"host": "h"},
        ),
        6.0,
    )
    assert isinstance(poll, (LongPoll, HttpResponse))


def test_a_probe_socket_lost_mid_probe_leaves_the_session_polling() -> None:
    engine = new_engine()
    session, link, _ = start(engine, "polling")
    assert link.receive("2probe", 1.0) == "3probe"
    link.lost(1.5)
    assert session.transport == "polling" and not session.closed
    assert session.ws_waker is None


def test_losing_the_carrier_closes_the_session() -> None:
    engine = new_engine()
    session, link, _ = start(engine, "websocket")
    link.lost(1.0)
    assert session.closed and session.close_reason == "transport close"


def test_an_illegal_move_is_refused() -> None:
    engine = new_engine()
    _, link, _ = start(engine, "websocket")
    link.lost(1.0)
    with pytest.raises(AssertionError):
        link._move(LinkState.OPEN)


# -- the parked poll ------------------------------------------------------------------


def test_a_parked_poll_is_woken_once_and_released_by_its_host() -> None:
    poll = ParkedPoll()
    calls: list[str] = []
    poll.wake()  # nothing parked: nobody to tell
    poll.park()
    poll.attach(lambda: calls.append("wake"))
    poll.wake()
    poll.wake()  # output, then a close, in one turn: one answer
    assert calls == ["wake"] and poll.state is PollState.DUE and poll.parked
    poll.release()
    assert poll.state is PollState.IDLE and poll.waker is None
    with pytest.raises(AssertionError):
        poll._move(PollState.DUE)  # IDLE cannot become DUE


def test_a_waker_attached_after_the_answer_fell_due_is_called_at_once() -> None:
    poll = ParkedPoll()
    poll.park()
    poll.wake()
    calls: list[int] = []
    poll.attach(lambda: calls.append(1))
    assert calls == [1]


def test_a_stale_waker_does_not_forget_a_newer_one() -> None:
    poll = ParkedPoll()
    poll.park()
    poll.attach(old := lambda: None)
    poll.release(old)
    poll.park()
    poll.attach(new := lambda: None)
    poll.release(old)  # the first poll's host, late
    assert poll.waker is new


def test_the_engine_parks_and_a_second_get_ends_the_session() -> None:
    engine = new_engine()
    first = engine.handle_request(
        HttpRequest("GET", "/engine.io/", {"EIO": "4", "transport": "polling"}, {"host": "h"}), 0.0
    )
    assert isinstance(first, HttpResponse)
    session = next(iter(engine.sessions.values()))
    query = {"EIO": "4", "transport": "polling", "sid": session.id}
    session.receive_message("x", 0.0)  # nothing to send: the next GET parks
    parked = engine.handle_request(HttpRequest("GET", "/engine.io/", query, {"host": "h"}), 0.0)
    assert isinstance(parked, LongPoll) and session.poll.state is PollState.PARKED
    woken: list[int] = []
    session.park_poll(lambda: woken.append(1))
    again = engine.handle_request(HttpRequest("GET", "/engine.io/", query, {"host": "h"}), 0.0)
    assert isinstance(again, HttpResponse) and again.status == 400
    assert woken == [1] and session.poll.state is PollState.DUE  # answered with CLOSE
