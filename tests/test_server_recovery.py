"""Connection state recovery with in-memory peers and a hand-driven clock: the
wire format (pid, offsets), what is stored, what a returning client gets, the
window and the caps (measured as held packets and bytes, not time)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers_sio import FakeConnection, Gate, connect, make_server

import realtime
from realtime.bus.adapter import MemoryAdapter
from realtime.bus.recovery import ENTRY_OVERHEAD, RestoredSession, SessionStore
from realtime.server import Server, Socket


def _answer(data: Any) -> dict[str, Any]:
    assert isinstance(data, str) and data.startswith("0"), data
    parsed = json.loads(data[data.index("{") :])
    assert isinstance(parsed, dict)
    return parsed


def _events(items: list[Any]) -> list[list[Any]]:
    """The events among ``items`` (attachments skipped), arguments decoded."""
    out = []
    for item in items:
        if isinstance(item, bytes):
            continue
        assert isinstance(item, str) and item[0] in "25", item
        out.append(json.loads(item[item.index("[") :]))
    return out


class Peer:
    """A client as socket.io-client 4.x behaves: it keeps the pid of the
    CONNECT answer and the last string argument of each event (the offset)."""

    def __init__(self, sio: Server) -> None:
        self.sio = sio
        self.pid: str | None = None
        self.offset: str | None = None
        self.sid = ""
        self.recovered = False
        self.conn = self._open(None)

    def _open(self, auth: dict[str, Any] | None) -> FakeConnection:
        conn = connect(self.sio, auth=auth)
        items = conn.take()
        # What a recovered socket missed comes just before the answer (as
        # with Node); the client reads it once it has the answer.
        at = next(i for i, item in enumerate(items) if isinstance(item, str) and item[0] == "0")
        answer = _answer(items[at])
        conn.outbox[:0] = items[:at] + items[at + 1 :]
        self.recovered = self.pid is not None and answer.get("pid") == self.pid
        self.sid, self.pid = answer["sid"], answer.get("pid")
        return conn

    def read(self) -> list[list[Any]]:
        events = _events(self.conn.take())
        for args in events:
            if self.pid is not None and isinstance(args[-1], str):
                self.offset = args[-1]
        return events

    def drop(self, reason: str = "transport close") -> None:
        self.conn.lost(reason)

    def reconnect(self) -> list[list[Any]]:
        auth: dict[str, Any] = {"pid": self.pid}
        if self.offset is not None:
            auth["offset"] = self.offset
        self.conn = self._open(auth)
        return self.read()

    @property
    def socket(self) -> Socket:
        socket = self.sio.get_socket(self.sid)
        assert socket is not None
        return socket


def _store(sio: Server, nsp: str = "/") -> SessionStore:
    adapter = sio.of(nsp).adapter
    assert isinstance(adapter, MemoryAdapter) and adapter.sessions is not None
    return adapter.sessions


def _names(events: list[list[Any]]) -> list[Any]:
    return [args[:-1] for args in events]  # without the offsets


# -- the wire -----------------------------------------------------------------------


async def test_connect_answer_carries_a_pid_only_with_recovery() -> None:
    sio, _ = make_server(connection_state_recovery=True)
    answer = _answer(connect(sio).take()[0])
    assert set(answer) == {"sid", "pid"} and answer["pid"] != answer["sid"]
    plain, _ = make_server()
    assert set(_answer(connect(plain).take()[0])) == {"sid"}


async def test_revision_4_clients_have_no_recovery() -> None:
    sio, _ = make_server(connection_state_recovery=True)
    conn = connect(sio, protocol=3)
    assert conn.take() == ["0"]
    socket = sio.get_socket(conn.id)
    assert socket is not None and socket.pid is None
    conn.lost()
    assert _store(sio).sessions == 0


async def test_stored_broadcasts_carry_their_offset_last_and_others_do_not() -> None:
    sio, _ = make_server(connection_state_recovery=True)
    peer = Peer(sio)
    sio.emit("news", 1)
    sio.emit("news", 2, to=peer.sid)  # to a socket id: still a broadcast
    sio.volatile.emit("volatile", 3)
    peer.socket.emit("direct", 4)
    sio.emit("acked", 5, callback=lambda err, replies: None, timeout=5)
    items = peer.conn.take()
    first, second = _events(items[:2])
    assert first[:2] == ["news", 1] and second[:2] == ["news", 2]
    assert isinstance(first[2], str) and isinstance(second[2], str) and first[2] != second[2]
    assert items[2:4] == ['2["volatile",3]', '2["direct",4]']
    assert _events(items[4:]) == [["acked", 5]]
    assert _store(sio).log_held[0] == 2


# -- recovering ---------------------------------------------------------------------


async def test_a_returning_client_gets_its_socket_and_what_it_missed_in_order() -> None:
    sio, _ = make_server(connection_state_recovery=True)
    peer = Peer(sio)
    other = Peer(sio)
    peer.socket.join(["red", "team"])
    peer.socket.data["name"] = "ada"
    sio.emit("seen", to="red")
    assert _names(peer.read()) == [["seen"]]
    sid, pid = peer.sid, peer.pid
    peer.drop()
    sio.emit("m1", 1, to="red")
    sio.emit("elsewhere", to="blue")
    sio.emit("m2", b"\x00\x01", to="team")  # binary, two messages
    sio.emit("m3", {"k": [3]})
    sio.emit("skipped", to="red", skip=sid)
    missed = peer.reconnect()
    assert peer.recovered and peer.sid == sid and peer.pid == pid
    assert _names(missed) == [
        ["m1", 1],
        ["m2", {"_placeholder": True, "num": 0}],
        ["m3", {"k": [3]}],
    ]
    socket = peer.socket
    assert socket.recovered and socket.data == {"name": "ada"}
    assert socket.rooms == {sid, "red", "team"}
    sio.emit("after", to="red")  # the restored rooms reach it again
    assert _names(peer.read()) == [["after"]]
    assert [args[0] for args in other.read()] == ["m3"]  # never away, in no room
    assert _store(sio).sessions == 0


async def test_packets_in_flight_when_the_transport_died_are_replayed() -> None:
    sio, _ = make_server(connection_state_recovery=True)
    peer = Peer(sio)
    sio.emit("a")
    peer.read()  # the client saw "a"...
    sio.emit("b")
    sio.emit("c")
    peer.conn.take()  # ...but "b" and "c" died with the transport
    peer.drop("ping timeout")
    sio.emit("d")
    assert _names(peer.reconnect()) == [["b"], ["c"], ["d"]]
    assert peer.recovered


async def test_a_client_that_saw_no_stored_packet_recovers_from_its_connection() -> None:
    sio, _ = make_server(connection_state_recovery=True)
    sio.emit("before anyone")
    peer = Peer(sio)
    peer.drop()
    sio.emit("one")
    sio.emit("two")
    assert peer.offset is None
    assert _names(peer.reconnect()) == [["one"], ["two"]]
    assert peer.recovered


async def test_a_second_loss_after_recovery_replays_from_the_client_offset() -> None:
    sio, _ = make_server(connection_state_recovery=True)
    peer = Peer(sio)
    peer.drop()
    sio.emit("one")
    peer.conn = connect(sio, auth={"pid": peer.pid})  # recovered, but lost again unread
    peer.conn.take()
    peer.drop()
    sio.emit("two")
    assert _names(peer.reconnect()) == [["one"], ["two"]]
    assert peer.recovered


@pytest.mark.parametrize(
    "leave",
    [
        lambda peer: peer.conn.receive("1"),  # client namespace disconnect
        lambda peer: peer.socket.disconnect(),  # server namespace disconnect
        lambda peer: peer.conn.receive("9junk"),  # parse error
    ],
)
async def test_a_socket_that_left_on_purpose_is_not_kept(leave: Any) -> None:
    sio, _ = make_server(connection_state_recovery=True)
    peer = Peer(sio)
    sid = peer.sid
    leave(peer)
    peer.conn.lost()
    assert _store(sio).sessions == 0
    peer.reconnect()
    assert not peer.recovered and peer.sid != sid


@pytest.mark.parametrize(
    "auth",
    [
        {"pid": "unknown", "offset": "x"},
        {"pid": "PID", "offset": "no-such-offset"},
        {"pid": "PID", "offset": 7},
        {"pid": 7},
    ],
)
async def test_an_unknown_pid_or_bad_offset_gets_a_fresh_socket(auth: dict[str, Any]) -> None:
    sio, _ = make_server(connection_state_recovery=True)
    peer = Peer(sio)
    sid = peer.sid
    peer.drop()
    if auth.get("pid") == "PID":
        auth["pid"] = peer.pid
    answer = _answer(connect(sio, auth=auth).take()[0])
    assert answer["sid"] != sid and answer["pid"] != peer.pid


async def test_an_offset_from_the_future_is_refused() -> None:
    sio, _ = make_server(connection_state_recovery=True)
    peer = Peer(sio)
    sio.emit("x")
    peer.read()
    assert peer.offset is not None
    peer.drop()
    prefix, _, seq = peer.offset.rpartition("-")
    peer.offset = f"{prefix}-{int(seq) + 5}"
    peer.reconnect()
    assert not peer.recovered


async def test_a_session_is_restored_once() -> None:
    sio, _ = make_server(connection_state_recovery=True)
    peer = Peer(sio)
    sid, pid = peer.sid, peer.pid
    peer.drop()
    first = _answer(connect(sio, auth={"pid": pid}).take()[0])
    second = _answer(connect(sio, auth={"pid": pid}).take()[0])
    assert first["sid"] == sid and second["sid"] != sid


# -- handlers and middlewares -------------------------------------------------------


@pytest.mark.parametrize("skip", [True, False])
async def test_middlewares_are_skipped_on_recovery_when_asked(skip: bool) -> None:
    options = realtime.ConnectionStateRecovery(skip_middlewares=skip)
    sio, runtime = make_server(connection_state_recovery=options)
    seen: list[tuple[str, bool]] = []

    @sio.use
    def middleware(socket: Socket, auth: Any) -> None:
        seen.append(("middleware", socket.recovered))

    @sio.on("connect")
    def on_connect(socket: Socket, auth: Any) -> None:
        seen.append(("connect", socket.recovered))

    peer = Peer(sio)
    peer.drop()
    peer.reconnect()
    await runtime.settle()
    assert peer.recovered
    again = [("middleware", True)] if not skip else []
    # As Node's "connection" event: the connect handler runs again, and can tell.
    assert seen == [("middleware", False), ("connect", False), *again, ("connect", True)]


async def test_disconnect_handler_hears_the_loss_and_nothing_at_recovery() -> None:
    sio, runtime = make_server(connection_state_recovery=True)
    heard: list[str] = []

    @sio.on("disconnect")
    def on_disconnect(socket: Socket, reason: str) -> None:
        heard.append(reason)

    peer = Peer(sio)
    peer.drop()
    peer.reconnect()
    await runtime.settle()
    assert heard == ["transport close"] and peer.socket.connected


async def test_an_adapter_that_answers_later_still_restores() -> None:
    gate = Gate()

    class SlowAdapter(MemoryAdapter):
        async def restore_session(self, pid: str, offset: str | None) -> RestoredSession | None:
            await gate.wait()
            return await super().restore_session(pid, offset)

    sio, runtime = make_server(connection_state_recovery=True, adapter=SlowAdapter)
    peer = Peer(sio)
    sid = peer.sid
    peer.drop()
    sio.emit("missed")
    conn = connect(sio, auth={"pid": peer.pid})
    await runtime.settle()
    assert conn.take() == []  # not answered before the adapter is
    gate.open()
    await runtime.settle()
    items = conn.take()
    assert _answer(items[-1])["sid"] == sid
    assert _names(_events(items[:-1])) == [["missed"]]


async def test_an_adapter_without_sessions_offers_no_recovery() -> None:
    class Forgetful(MemoryAdapter):
        def enable_recovery(self, options: realtime.ConnectionStateRecovery) -> bool:
            return False

    sio, _ = make_server(connection_state_recovery=True, adapter=Forgetful)
    assert set(_answer(connect(sio).take()[0])) == {"sid"}
    assert sio.of("/").recovery is None


# -- the window and the caps --------------------------------------------------------


async def test_a_session_expires_after_the_window() -> None:
    options = realtime.ConnectionStateRecovery(max_disconnection_duration=30)
    sio, runtime = make_server(connection_state_recovery=options)
    peer = Peer(sio)
    sid = peer.sid
    peer.drop()
    runtime.advance(29, sio.engine.deadlines)
    assert _store(sio).sessions == 1
    runtime.advance(2, sio.engine.deadlines)
    assert _store(sio).sessions == 0
    peer.reconnect()
    assert not peer.recovered and peer.sid != sid


async def test_restoring_cancels_the_expiry_timer() -> None:
    sio, runtime = make_server(connection_state_recovery=True)
    peer = Peer(sio)
    peer.drop()
    peer.reconnect()
    assert peer.recovered
    # Past the window nothing fires: the session's timer went with it.
    assert runtime.advance(500, sio.engine.deadlines) == 0
    assert peer.socket.connected


async def test_a_session_that_would_lose_a_missed_packet_is_dropped() -> None:
    options = realtime.ConnectionStateRecovery(max_packets=3)
    sio, _ = make_server(connection_state_recovery=options)
    peer = Peer(sio)
    store = _store(sio)
    peer.drop()
    for n in range(3):
        sio.emit("m", n)
        assert store.session_held(str(peer.pid)) == (n + 1, store.log_held[1])
    assert store.log_held[0] == 3
    sio.emit("m", 3)  # a fourth missed packet cannot be kept
    assert store.session_held(str(peer.pid)) is None and store.dropped == 1
    assert store.log_held[0] == 3  # the log keeps its cap too
    peer.reconnect()
    assert not peer.recovered


async def test_the_byte_cap_counts_encoded_size_and_overhead() -> None:
    size = len('2["m","' + "x" * 100 + '","abcdefgh-1"]') + ENTRY_OVERHEAD
    options = realtime.ConnectionStateRecovery(max_bytes=2 * size)
    sio, _ = make_server(connection_state_recovery=options)
    peer = Peer(sio)
    store = _store(sio)
    peer.drop()
    sio.emit("m", "x" * 100)
    sio.emit("m", "x" * 100)
    assert store.session_held(str(peer.pid)) == (2, 2 * size)
    sio.emit("m", "x" * 100)
    assert store.sessions == 0 and store.dropped == 1
    assert store.log_held == (2, 2 * size)


async def test_old_packets_the_client_saw_go_first_without_losing_the_session() -> None:
    options = realtime.ConnectionStateRecovery(max_packets=3)
    sio, _ = make_server(connection_state_recovery=options)
    peer = Peer(sio)
    for n in range(5):
        sio.emit("seen", n)
    peer.read()
    peer.drop()
    sio.emit("m", 1)
    sio.emit("m", 2)
    assert _store(sio).session_held(str(peer.pid)) == (3, _store(sio).log_held[1])
    assert _names(peer.reconnect()) == [["m", 1], ["m", 2]]
    assert peer.recovered


async def test_a_client_whose_offset_fell_out_of_the_log_gets_a_fresh_socket() -> None:
    options = realtime.ConnectionStateRecovery(max_packets=2)
    sio, _ = make_server(connection_state_recovery=options)
    peer = Peer(sio)
    sio.emit("seen")
    peer.read()
    sio.emit("lost", 1)
    sio.emit("lost", 2)
    sio.emit("lost", 3)  # three in flight, the log keeps two
    peer.conn.take()
    peer.drop()
    peer.reconnect()
    assert not peer.recovered


async def test_disconnected_sessions_hold_only_their_rooms_packets() -> None:
    sio, _ = make_server(connection_state_recovery=True)
    peers = [Peer(sio) for _ in range(3)]
    peers[0].socket.join("a")
    peers[1].socket.join("b")
    for peer in peers:
        peer.drop()
    sio.emit("to a", to="a")
    sio.emit("to a and b", to=["a", "b"])
    sio.emit("not b", skip="b")
    store = _store(sio)
    held = [store.session_held(str(peer.pid)) for peer in peers]
    assert [h[0] if h else None for h in held] == [3, 1, 1]


def test_options_are_checked() -> None:
    with pytest.raises(ValueError):
        realtime.ConnectionStateRecovery(max_disconnection_duration=0)
    with pytest.raises(ValueError):
        realtime.ConnectionStateRecovery(max_packets=0)


async def test_the_redis_adapter_offers_recovery_in_every_namespace() -> None:
    # Nothing connects before the server is bound: no Redis needed to see it
    # (tests/cluster/test_recovery_cluster.py recovers across nodes).
    adapter = realtime.RedisAdapter("redis://127.0.0.1:1/0")
    sio = Server(adapter=adapter, connection_state_recovery=True)
    assert sio.of("/").recovery is not None and sio.of("/other").recovery is not None


async def test_past_max_sessions_the_one_waiting_longest_is_dropped() -> None:
    options = realtime.ConnectionStateRecovery(max_sessions=2)
    sio, _ = make_server(connection_state_recovery=options)
    peers = [Peer(sio) for _ in range(3)]
    for peer in peers:
        peer.drop()
    store = _store(sio)
    assert store.sessions == 2 and store.dropped == 1
    assert store.session_held(str(peers[0].pid)) is None
    recovered = []
    for peer in peers:
        peer.reconnect()
        recovered.append(peer.recovered)
    assert recovered == [False, True, True]


async def test_a_restored_socket_lost_before_its_confirmation_is_kept_again() -> None:
    sio, runtime = make_server(connection_state_recovery=True)
    gate = Gate()

    @sio.on("connect")
    async def on_connect(socket: Socket, auth: Any) -> None:
        if socket.recovered:
            await gate.wait()  # the connect handler of the restored socket is slow

    first = connect(sio)
    await runtime.settle()
    answer = _answer(first.take()[0])
    first.lost()
    sio.emit("one")
    again = connect(sio, auth={"pid": answer["pid"]})
    await runtime.settle()
    assert again.take() == []  # not confirmed yet
    again.lost()  # gone again while its connect handler waits
    gate.open()
    await runtime.settle()
    sio.emit("two")
    last = connect(sio, auth={"pid": answer["pid"]})
    await runtime.settle()
    items = last.take()
    assert _answer(items[-1])["sid"] == answer["sid"]
    assert _names(_events(items[:-1])) == [["one"], ["two"]]


async def test_an_offset_older_than_the_socket_replays_nothing_from_before_it() -> None:
    # socket.io-client keeps its last offset when it gets a fresh session.
    options = realtime.ConnectionStateRecovery(max_disconnection_duration=10)
    sio, runtime = make_server(connection_state_recovery=options)
    peer = Peer(sio)
    sio.emit("old")
    peer.read()
    stale = peer.offset
    peer.drop()
    runtime.advance(11, sio.engine.deadlines)  # expired: the next socket is fresh
    peer.reconnect()
    assert not peer.recovered
    sio.emit("before the loss")  # stored after the fresh socket connected
    peer.conn.take()
    peer.offset = stale
    peer.drop()
    sio.emit("away")
    assert _names(peer.reconnect()) == [["before the loss"], ["away"]]
    assert peer.recovered


async def test_the_metrics_show_waiting_sessions_log_bytes_and_drops() -> None:
    from realtime.metrics import LoopLag, ServerCollector

    options = realtime.ConnectionStateRecovery(max_packets=1)
    sio, _ = make_server(connection_state_recovery=options)
    peers = [Peer(sio) for _ in range(2)]
    peers[0].socket.join("quiet")
    for peer in peers:
        peer.drop()
    sio.emit("m", to="quiet")  # fits peer 0's session (one packet); peer 1 is in no such room
    sio.emit("m", to="quiet")  # a second missed packet: peer 0's session goes

    def sample(name: str) -> float:
        for family in ServerCollector(lambda: [sio], LoopLag()).collect():
            for s in family.samples:
                if s.name == name:
                    return float(s.value)
        raise AssertionError(f"{name} not collected")

    assert sample("realtime_recovery_sessions") == 1
    assert sample("realtime_recovery_sessions_dropped_total") == 1
    assert sample("realtime_recovery_log_bytes") == _store(sio).log_held[1] > 0
