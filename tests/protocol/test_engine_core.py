"""The engine core in memory: requests in, decisions out, a fake clock.

No sockets, no sleeps: two peers wired together through ``handle_request``,
with time moved by hand through ``handle_timeouts``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from realtime.engine import Engine
from realtime.errors import Forbidden, InvalidArgumentType
from realtime.http import AcceptWebSocket, Handshake, HttpRequest, HttpResponse, LongPoll
from realtime.protocol.session import ITEM_OVERHEAD
from realtime.types import Connection, Data


class Recorder:
    """An EngineListener that records what reaches the layer above."""

    def __init__(self) -> None:
        self.opened: list[Connection] = []
        self.messages: list[Data] = []
        self.closed: list[str] = []
        self.on_message_hook: Callable[[Connection, Data], None] | None = None

    def on_open(self, conn: Connection) -> None:
        self.opened.append(conn)

    def on_message(self, conn: Connection, data: Data) -> None:
        self.messages.append(data)
        if self.on_message_hook is not None:
            self.on_message_hook(conn, data)

    def on_close(self, conn: Connection, reason: str) -> None:
        self.closed.append(reason)


class Clock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.now = 0.0

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.engine.handle_timeouts(self.now)


def request(
    method: str = "GET", body: bytes = b"", headers: dict[str, str] | None = None, **query: str
) -> HttpRequest:
    return HttpRequest(method, "/engine.io/", query, headers or {"host": "h"}, body)


def answer(decision: Any) -> HttpResponse:
    assert isinstance(decision, HttpResponse), decision
    return decision


def error_code(decision: Any) -> int:
    resp = answer(decision)
    code = int(json.loads(resp.body)["code"])
    assert resp.status == (403 if code == 4 else 400)  # Forbidden is 403, as engine.io says
    return code


@pytest.fixture
def setup() -> tuple[Engine, Recorder, Clock]:
    listener = Recorder()
    engine = Engine(ping_interval=25, ping_timeout=20, listener=listener, max_payload=1000)
    return engine, listener, Clock(engine)


def handshake(engine: Engine, clock: Clock, eio: str = "4", **extra: str) -> str:
    resp = answer(engine.handle_request(request(EIO=eio, transport="polling", **extra), clock.now))
    text = resp.body.decode()
    if text.startswith("___eio["):
        text = json.loads(text[text.index("(") + 1 : -2])
    start = text.index("{")
    return str(json.loads(text[start : text.rindex("}") + 1])["sid"])


def upgrade_socket(engine: Engine, clock: Clock, sid: str) -> AcceptWebSocket:
    """A WebSocket joining the polling session ``sid``: accepted, not yet probed."""
    ws_req = request(
        EIO="4", transport="websocket", sid=sid, headers={"host": "h", "upgrade": "websocket"}
    )
    decision = engine.handle_request(ws_req, clock.now)
    assert isinstance(decision, AcceptWebSocket) and decision.upgrade
    return decision


def get(engine: Engine, clock: Clock, sid: str, eio: str = "4", **extra: str) -> Any:
    decision = engine.handle_request(
        request(EIO=eio, transport="polling", sid=sid, **extra), clock.now
    )
    if isinstance(decision, LongPoll):
        return decision
    return answer(decision).body.decode()


def get_error(engine: Engine, clock: Clock, sid: str) -> int:
    """The Engine.IO error code a GET on ``sid`` is refused with."""
    return error_code(
        engine.handle_request(request(EIO="4", transport="polling", sid=sid), clock.now)
    )


def post(engine: Engine, clock: Clock, sid: str, body: str, eio: str = "4") -> Any:
    return engine.handle_request(
        request("POST", body.encode(), EIO=eio, transport="polling", sid=sid), clock.now
    )


def test_handshake_advertises_configuration(setup: tuple[Engine, Recorder, Clock]) -> None:
    engine, listener, _clock = setup
    resp = answer(engine.handle_request(request(EIO="4", transport="polling"), 0))
    assert resp.body.startswith(b"0{")
    data = json.loads(resp.body[1:])
    assert data["upgrades"] == ["websocket"]
    assert (data["pingInterval"], data["pingTimeout"], data["maxPayload"]) == (25000, 20000, 1000)
    assert len(data["sid"]) >= 20 and listener.opened[0].id == data["sid"]


def test_eio3_handshake_is_length_prefixed_without_max_payload(
    setup: tuple[Engine, Recorder, Clock],
) -> None:
    engine, _, _ = setup
    body = answer(engine.handle_request(request(EIO="3", transport="polling"), 0)).body.decode()
    length, _, packet = body.partition(":")
    assert int(length) == len(packet) and packet.startswith("0{")
    assert "maxPayload" not in json.loads(packet[1:])


@pytest.mark.parametrize(
    ("query", "method", "code"),
    [
        ({"EIO": "4", "transport": "carrier-pigeon"}, "GET", 0),
        ({"EIO": "4", "transport": "polling", "sid": "nope"}, "GET", 1),
        ({"EIO": "4", "transport": "polling"}, "POST", 2),
        ({"EIO": "4", "transport": "websocket"}, "GET", 3),
        ({"EIO": "5", "transport": "polling"}, "GET", 5),
        ({"transport": "polling"}, "GET", 5),
        ({"EIO": "4", "transport": "polling", "j": "x1"}, "GET", 3),
    ],
)
def test_errors_carry_codes(
    setup: tuple[Engine, Recorder, Clock], query: dict[str, str], method: str, code: int
) -> None:
    engine, listener, _ = setup
    assert error_code(engine.handle_request(request(method, **query), 0)) == code
    assert listener.opened == []


def test_poll_round_trip_and_long_poll(setup: tuple[Engine, Recorder, Clock]) -> None:
    engine, listener, clock = setup
    sid = handshake(engine, clock)
    assert answer(post(engine, clock, sid, "4hello\x1e4world")).body == b"ok"
    assert listener.messages == ["hello", "world"]
    parked = get(engine, clock, sid)
    assert isinstance(parked, LongPoll)
    listener.opened[0].send("back")
    listener.opened[0].send(b"\x01\x02")
    assert parked.session.has_output()
    assert engine.poll_response(parked.session, request()).body == b"4back\x1ebAQI="


def test_second_concurrent_get_closes_the_session(setup: tuple[Engine, Recorder, Clock]) -> None:
    engine, listener, clock = setup
    sid = handshake(engine, clock)
    assert isinstance(get(engine, clock, sid), LongPoll)
    assert get_error(engine, clock, sid) == 3
    assert listener.closed == ["parse error"]


def test_overlapping_get_answers_the_parked_one_with_close(
    setup: tuple[Engine, Recorder, Clock],
) -> None:
    engine, _, clock = setup
    sid = handshake(engine, clock)
    parked = get(engine, clock, sid)
    assert isinstance(parked, LongPoll)
    assert get_error(engine, clock, sid) == 3
    assert engine.poll_response(parked.session, request()).body == b"1"
    assert get_error(engine, clock, sid) == 1


def test_a_posted_close_answers_the_parked_get_with_noop_and_ends_the_session(
    setup: tuple[Engine, Recorder, Clock],
) -> None:
    # The official suite's case: the client closes by POST while its GET is
    # parked. The GET gets a NOOP, and every later request an unknown session.
    engine, listener, clock = setup
    sid = handshake(engine, clock)
    parked = get(engine, clock, sid)
    assert isinstance(parked, LongPoll)
    assert answer(post(engine, clock, sid, "1")).body == b"ok"
    assert engine.poll_response(parked.session, request()).body == b"6"
    assert listener.closed == ["transport close"]
    assert get_error(engine, clock, sid) == 1
    assert get_error(engine, clock, sid) == 1


def test_silent_polling_session_is_gone_exactly_at_interval_plus_timeout() -> None:
    # The runtime's timer may run after a request that arrives on time: the
    # request itself must see the deadline (clock.now moves without firing).
    engine = Engine(ping_interval=0.3, ping_timeout=0.2, listener=Recorder())
    clock = Clock(engine)
    sid = handshake(engine, clock)
    clock.now = 0.3
    assert get(engine, clock, sid) == "2"
    clock.now = 0.4999
    assert isinstance(get(engine, clock, sid), LongPoll)
    engine.sessions[sid].release_poll()
    clock.now = 0.5
    assert get_error(engine, clock, sid) == 1


def test_a_late_ping_timer_does_not_extend_the_timeout() -> None:
    engine = Engine(ping_interval=0.3, ping_timeout=0.2, listener=Recorder())
    clock = Clock(engine)
    sid = handshake(engine, clock)
    clock.advance(0.45)  # the timer runs 150 ms late: the ping leaves now
    assert engine.sessions[sid].has_output()
    clock.now = 0.5
    assert get_error(engine, clock, sid) == 1


def test_invalid_packet_closes_and_session_stops_answering(
    setup: tuple[Engine, Recorder, Clock],
) -> None:
    engine, listener, clock = setup
    sid = handshake(engine, clock)
    assert error_code(post(engine, clock, sid, "9garbage")) == 3
    assert listener.closed == ["parse error"]
    assert error_code(post(engine, clock, sid, "4late")) == 1
    assert listener.messages == []


def test_payload_over_max_closes_only_that_session(setup: tuple[Engine, Recorder, Clock]) -> None:
    engine, listener, clock = setup
    big, small = handshake(engine, clock), handshake(engine, clock)
    assert error_code(post(engine, clock, big, "4" + "x" * 1000)) == 3
    assert answer(post(engine, clock, small, "4fine")).body == b"ok"
    assert listener.closed == ["transport error"] and listener.messages == ["fine"]


def test_no_cap_on_packet_count_within_size(setup: tuple[Engine, Recorder, Clock]) -> None:
    engine, listener, clock = setup
    sid = handshake(engine, clock)
    assert answer(post(engine, clock, sid, "\x1e".join(["4x"] * 300))).body == b"ok"
    assert len(listener.messages) == 300


def test_eio4_server_pings_and_closes_silent_peer(setup: tuple[Engine, Recorder, Clock]) -> None:
    engine, listener, clock = setup
    sid = handshake(engine, clock)
    clock.advance(24.9)
    assert isinstance(get(engine, clock, sid), LongPoll)
    engine.sessions[sid].release_poll()
    clock.advance(0.1)
    assert get(engine, clock, sid) == "2"
    post(engine, clock, sid, "3")
    clock.advance(25)
    assert get(engine, clock, sid) == "2"
    clock.advance(19.9)
    assert listener.closed == []
    clock.advance(0.1)
    assert listener.closed == ["ping timeout"]
    assert get_error(engine, clock, sid) == 1


def test_eio3_client_pings_server_pongs(setup: tuple[Engine, Recorder, Clock]) -> None:
    engine, listener, clock = setup
    sid = handshake(engine, clock, eio="3")
    clock.advance(30)
    post(engine, clock, sid, "1:2", eio="3")
    assert get(engine, clock, sid, eio="3") == "1:3"
    clock.advance(44.9)  # 30 + 44.9 < 30 + 45
    assert listener.closed == []
    clock.advance(0.2)
    assert listener.closed == ["ping timeout"]


def test_eio3_binary_payload_for_xhr2_clients(setup: tuple[Engine, Recorder, Clock]) -> None:
    engine, listener, clock = setup
    sid = handshake(engine, clock, eio="3")
    listener.opened[0].send(b"\x07")
    listener.opened[0].send("t")
    body = engine.handle_request(request(EIO="3", transport="polling", sid=sid), clock.now)
    assert answer(body).body == b"\x01\x02\xff\x04\x07\x00\x02\xff4t"
    assert answer(body).headers["Content-Type"] == "application/octet-stream"
    listener.opened[0].send(b"\x07")
    b64 = engine.handle_request(request(EIO="3", transport="polling", sid=sid, b64="1"), clock.now)
    assert answer(b64).body == b"6:b4Bw=="


def test_upgrade_probe_releases_poll_and_keeps_order(
    setup: tuple[Engine, Recorder, Clock],
) -> None:
    engine, listener, clock = setup
    sid = handshake(engine, clock)
    conn = listener.opened[0]
    parked = get(engine, clock, sid)
    assert isinstance(parked, LongPoll)
    decision = upgrade_socket(engine, clock, sid)
    session = decision.session
    assert engine.receive_frame(session, "2probe", True, clock.now) == "3probe"
    # the parked GET is released with a NOOP so the client can pause
    assert engine.poll_response(parked.session, request()).body == b"6"
    conn.send("during-probe")
    assert engine.receive_frame(session, "5", True, clock.now) is None
    assert session.transport == "websocket" and conn.transport == "websocket"
    conn.send("after")
    assert [getattr(item, "data", item) for item in session.take()] == ["during-probe", "after"]
    assert engine.receive_frame(session, "4over-ws", False, clock.now) is None
    assert listener.messages == ["over-ws"]
    # polling on an upgraded session is refused
    assert get_error(engine, clock, sid) == 3


def test_upgrade_times_out_and_polling_continues(setup: tuple[Engine, Recorder, Clock]) -> None:
    engine, listener, clock = setup
    sid = handshake(engine, clock)
    decision = upgrade_socket(engine, clock, sid)
    engine.receive_frame(decision.session, "2probe", True, clock.now)
    clock.advance(10.1)
    engine.websocket_closed(decision.session, True, clock.now)
    assert listener.closed == [] and decision.session.transport == "polling"
    post(engine, clock, sid, "4still-here")
    assert listener.messages == ["still-here"]


def test_server_close_delivers_queue_then_close_packet(
    setup: tuple[Engine, Recorder, Clock],
) -> None:
    engine, listener, clock = setup
    sid = handshake(engine, clock)
    conn = listener.opened[0]
    conn.send("bye")
    conn.close()
    assert conn.closed and listener.closed == ["server disconnect"]
    conn.send("dropped")
    assert get(engine, clock, sid) == "4bye\x1e1"
    assert get_error(engine, clock, sid) == 1


def test_slow_reader_is_cut_off_at_max_buffer() -> None:
    listener = Recorder()
    # Each item counts its data and ITEM_OVERHEAD.
    engine = Engine(listener=listener, max_buffer=10 * (10 + ITEM_OVERHEAD))
    clock = Clock(engine)
    handshake(engine, clock)
    conn = listener.opened[0]
    for _ in range(10):
        conn.send("x" * 10)
    assert listener.closed == []
    conn.send("overflow")
    assert listener.closed == ["buffer overflow"] and engine.sessions == {}


@pytest.mark.parametrize("eio", ["3", "4"])
def test_jsonp_envelope(setup: tuple[Engine, Recorder, Clock], eio: str) -> None:
    engine, listener, clock = setup
    resp = answer(engine.handle_request(request(EIO=eio, transport="polling", j="3"), 0))
    assert resp.headers["Content-Type"].startswith("text/javascript")
    text = resp.body.decode()
    assert text.startswith('___eio[3]("') and text.endswith('");')
    sid = listener.opened[0].id
    listener.opened[0].send('q"\\\n\u2028😀')
    out = answer(
        engine.handle_request(request(EIO=eio, transport="polling", sid=sid, j="3"), clock.now)
    ).body.decode()
    assert "\u2028" not in out and "\\u2028" in out
    inner = json.loads(out[len("___eio[3](") : -2])
    expected = '4q"\\\n\u2028😀'
    assert inner == (expected if eio == "4" else f"{len(expected) + 1}:{expected}")


def test_cors(setup: tuple[Engine, Recorder, Clock]) -> None:
    engine, _, _ = setup
    foreign = {"host": "h", "origin": "http://evil.example"}
    same = {"host": "h", "origin": "http://h"}
    assert (
        error_code(engine.handle_request(request(headers=foreign, EIO="4", transport="polling"), 0))
        == 4
    )
    ok = answer(engine.handle_request(request(headers=same, EIO="4", transport="polling"), 0))
    assert ok.headers["Access-Control-Allow-Origin"] == "http://h"
    listed = Engine(cors_allowed_origins=["http://a.example"], listener=Recorder())
    resp = answer(
        listed.handle_request(
            request(
                headers={"host": "h", "origin": "http://a.example"}, EIO="4", transport="polling"
            ),
            0,
        )
    )
    assert resp.status == 200
    jsonp_foreign = {"host": "h", "referer": "http://evil.example/page"}
    assert (
        error_code(
            engine.handle_request(
                request(headers=jsonp_foreign, EIO="4", transport="polling", j="0"), 0
            )
        )
        == 4
    )


def test_get_during_probe_is_answered_at_once(setup: tuple[Engine, Recorder, Clock]) -> None:
    """A client finishing its last poll before pausing must not be parked."""
    engine, _, clock = setup
    sid = handshake(engine, clock)
    decision = upgrade_socket(engine, clock, sid)
    engine.receive_frame(decision.session, "2probe", True, clock.now)
    assert get(engine, clock, sid) == "6"


def test_jsonp_session_may_upgrade(setup: tuple[Engine, Recorder, Clock]) -> None:
    """A JSONP client that finds a WebSocket moves to it, as with engine.io."""
    engine, listener, clock = setup
    sid = handshake(engine, clock, j="0")
    decision = upgrade_socket(engine, clock, sid)
    assert engine.receive_frame(decision.session, "2probe", True, clock.now) == "3probe"
    engine.receive_frame(decision.session, "5", True, clock.now)
    assert listener.opened[0].transport == "websocket"


def test_poll_answers_carry_at_most_max_poll_packets(
    setup: tuple[Engine, Recorder, Clock],
) -> None:
    engine, listener, clock = setup
    sid = handshake(engine, clock)
    for i in range(20):
        listener.opened[0].send(str(i))
    first = get(engine, clock, sid).split("\x1e")
    second = get(engine, clock, sid).split("\x1e")
    assert first == [f"4{i}" for i in range(16)]
    assert second == [f"4{i}" for i in range(16, 20)]


def test_close_during_probe_is_heard_on_the_new_socket(
    setup: tuple[Engine, Recorder, Clock],
) -> None:
    """The client paused polling for the upgrade: the close must reach it over
    the WebSocket, by the socket closing, not over a poll that never comes."""
    engine, listener, clock = setup
    sid = handshake(engine, clock)
    decision = upgrade_socket(engine, clock, sid)
    session = decision.session
    woken: list[str] = []
    session.ws_waker = lambda: woken.append("ws")
    engine.receive_frame(session, "2probe", True, clock.now)
    listener.opened[0].send("last words")
    listener.opened[0].close()
    assert listener.closed == ["server disconnect"]
    engine.receive_frame(session, "5", True, clock.now)
    assert session.transport == "websocket" and woken
    # and no CLOSE packet:
    assert [getattr(item, "data", item) for item in session.take()] == ["last words"]


# -- refusals: Origin and allow_request ------------------------------------------------

FORBIDDEN = {"code": 4, "message": "Forbidden"}


def refusal(decision: Any) -> tuple[int, Any]:
    resp = answer(decision)
    return resp.status, json.loads(resp.body)


def test_a_refused_origin_is_told_only_forbidden(setup: tuple[Engine, Recorder, Clock]) -> None:
    engine, listener, _ = setup
    foreign = {"host": "h", "origin": "http://evil.example"}
    for query in ({"EIO": "4", "transport": "polling"}, {"EIO": "3", "transport": "polling"}):
        assert refusal(engine.handle_request(request(headers=foreign, **query), 0)) == (
            403,
            FORBIDDEN,
        )
    preflight = request("OPTIONS", headers=foreign)
    assert refusal(engine.handle_request(preflight, 0)) == (403, FORBIDDEN)
    assert listener.opened == [] and engine.sessions == {}


def test_allow_request_sees_the_handshake_and_refuses_with_403() -> None:
    seen: list[Handshake] = []

    def allow(handshake: Handshake) -> bool:
        seen.append(handshake)
        return handshake.query.get("token") == "good"

    listener = Recorder()
    engine = Engine(listener=listener, allow_request=allow, trusted_proxies=["10.0.0.1"])
    headers = {"host": "h", "x-forwarded-for": "203.0.113.7", "user-agent": "ua"}
    query = {"EIO": "4", "transport": "polling", "token": "bad"}
    bad = HttpRequest("GET", "/engine.io/", query, headers, b"", "10.0.0.1")
    assert refusal(engine.handle_request(bad, 0)) == (403, FORBIDDEN)
    assert engine.sessions == {} and listener.opened == []
    assert engine.counters.refusals == {403: 1}
    [shake] = seen
    assert shake.address == "203.0.113.7"  # the client, not its proxy
    assert shake.headers["user-agent"] == "ua" and shake.query["token"] == "bad"
    assert shake.auth == {}  # the Socket.IO auth comes later, with CONNECT
    sid = handshake(engine, Clock(engine), token="good")
    assert sid in engine.sessions and len(listener.opened) == 1
    # Called on handshakes only: the session's own requests are not judged again.
    assert len(seen) == 2
    get(engine, Clock(engine), sid)
    assert len(seen) == 2


def test_allow_request_that_raises_or_answers_later_refuses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(handshake: Handshake) -> bool:
        raise KeyError("bug")

    async def later(handshake: Handshake) -> bool:
        return True

    engine = Engine(listener=Recorder(), allow_request=broken)
    assert refusal(engine.handle_request(request(EIO="4", transport="polling"), 0)) == (
        403,
        FORBIDDEN,
    )
    assert "allow_request raised" in caplog.text and engine.sessions == {}
    # An async hook cannot answer in time: refused at construction...
    with pytest.raises(InvalidArgumentType):
        Engine(listener=Recorder(), allow_request=later)
    # ...and an awaitable returned by a plain function refuses the handshake.
    sneaky = Engine(listener=Recorder(), allow_request=lambda shake: later(shake))  # type: ignore[arg-type]
    assert refusal(sneaky.handle_request(request(EIO="4", transport="polling"), 0))[0] == 403
    assert sneaky.sessions == {}


def test_allow_request_raising_forbidden_tells_the_client_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Node's allowRequest answers cb("tenant suspended", false): the 403's
    # body carries the hook's reason; any other exception stays unexplained.
    def suspended(handshake: Handshake) -> bool:
        if handshake.query.get("tenant") == "acme":
            raise Forbidden("tenant acme is suspended")
        return True

    engine = Engine(listener=Recorder(), allow_request=suspended)
    refused = engine.handle_request(request(EIO="4", transport="polling", tenant="acme"), 0)
    assert refusal(refused) == (403, {"code": 4, "message": "tenant acme is suspended"})
    assert engine.sessions == {} and engine.counters.refusals == {403: 1}
    assert "tenant acme is suspended (allow_request=" in caplog.text
    admitted = engine.handle_request(request(EIO="4", transport="polling", tenant="other"), 0)
    assert answer(admitted).status == 200
    # a refused Origin still says only Forbidden
    assert Forbidden("origin not allowed").to_json() == FORBIDDEN


@pytest.mark.parametrize("serve_client", [True, False])
def test_bundled_clients_below_the_path_unless_serve_client_is_off(serve_client: bool) -> None:
    # Node's serveClient: pages load <path>/socket.io.js from the server itself.
    engine = Engine(path="/rt", serve_client=serve_client)
    for name in ("socket.io.js", "socket.io.min.js", "realtime.js", "realtime.min.js"):
        path = "/rt/" + name
        assert engine.owns_path(path) is serve_client
        if serve_client:
            served = answer(engine.handle_request(HttpRequest("GET", path, {}, {}), 0.0))
            assert served.status == 200
            assert served.headers["Content-Type"].startswith("application/javascript")
    assert not engine.owns_path("/socket.io/socket.io.js")  # another path's
    assert not engine.owns_path("/rt/socket.io.js.map")


def test_allow_request_answers_by_truthiness() -> None:
    # Any truthy answer admits, as in Node's allowRequest; the compiled build
    # must not insist on a bool.
    for answer_, admitted in (("yes", True), (1, True), (None, False), ("", False)):
        engine = Engine(listener=Recorder(), allow_request=lambda shake, a=answer_: a)  # type: ignore[misc]
        decision = engine.handle_request(request(EIO="4", transport="polling"), 0)
        assert (answer(decision).status == 200) is admitted, answer_
        assert bool(engine.sessions) is admitted
