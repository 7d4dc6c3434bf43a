"""The engine in memory against random and hostile request sequences.

No sockets: requests are :class:`HttpRequest` values, WebSocket frames go
straight into ``receive_frame``, time moves by hand, and this file plays the
host (answering parked GETs when their session wakes). Properties:

* ``handle_request`` never raises and always decides (HttpResponse, LongPoll
  or AcceptWebSocket); every 400 names an Engine.IO error code;
* the listener hears of each connection once, and nothing after its close;
* a session that sent garbage is closed and answers ``400 code 1`` afterwards,
  while every other session keeps working, its messages in order;
* deeply nested JSON in a Socket.IO packet closes that connection, nothing more.

Tests named ``test_bug_*`` pin a bug found here; they fail until its fix lands.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from helpers_sio import TestRuntime
from hypothesis import example, given
from hypothesis import strategies as st

from realtime.engine import Engine
from realtime.http import AcceptWebSocket, CloseWebSocket, HttpRequest, HttpResponse, LongPoll
from realtime.protocol import engineio as eio
from realtime.protocol.engineio import Packet, PacketType
from realtime.protocol.session import Session, State
from realtime.protocol.socketio import DEFAULT_MAX_DEPTH, MAX_DEPTH_CEILING
from realtime.server import Server, Socket
from realtime.transports import jsonp, polling
from realtime.types import Connection, Data


class Recorder:
    """A listener that checks the order of its calls as it records them."""

    def __init__(self) -> None:
        self.open: dict[str, Connection] = {}
        self.messages: dict[str, list[Data]] = {}
        self.closed: dict[str, str] = {}

    def on_open(self, conn: Connection) -> None:
        assert conn.id not in self.open and conn.id not in self.closed, "opened twice"
        self.open[conn.id] = conn
        self.messages[conn.id] = []

    def on_message(self, conn: Connection, data: Data) -> None:
        assert conn.id in self.open and conn.id not in self.closed, "message after close"
        self.messages[conn.id].append(data)

    def on_close(self, conn: Connection, reason: str) -> None:
        assert conn.id in self.open and conn.id not in self.closed, "closed twice"
        self.closed[conn.id] = reason


class Clock:
    def __init__(self, engine: Engine, runtime: TestRuntime | None = None) -> None:
        self.engine, self.runtime = engine, runtime
        self.now = 1000.0 if runtime is None else runtime.clock

    def advance(self, seconds: float) -> None:
        self.now += seconds
        if self.runtime is not None:
            self.runtime.clock = self.now
        self.engine.handle_timeouts(self.now)


def request(
    method: str = "GET",
    body: bytes = b"",
    *,
    path: str = "/engine.io/",
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    **params: str,
) -> HttpRequest:
    return HttpRequest(
        method,
        path,
        {**(query or {}), **params},
        {"host": "h", **(headers or {})},
        body,
        "127.0.0.1",
    )


def error_code(decision: Any) -> int:
    assert isinstance(decision, HttpResponse) and decision.status == 400, decision
    return int(json.loads(decision.body)["code"])


def check_decision(decision: Any) -> None:
    """What every answer of the engine must look like."""
    assert isinstance(decision, (HttpResponse, LongPoll, AcceptWebSocket, CloseWebSocket)), decision
    if isinstance(decision, HttpResponse) and decision.status == 400:
        error = json.loads(decision.body)
        assert error["code"] in range(6) and isinstance(error["message"], str)
    if isinstance(decision, (LongPoll, AcceptWebSocket)):
        assert decision.session.state is State.OPEN


class Client:
    """A polling client (XHR or JSONP, either revision) driving the engine."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        eio_rev: str = "4",
        *,
        jsonp: bool = False,
        path: str = "/engine.io/",
    ) -> None:
        self.engine, self.clock, self.path = engine, clock, path
        self.eio, self.jsonp = eio_rev, jsonp
        answer = engine.handle_request(self._req("GET"), clock.now)
        [opened] = self._packets(answer)
        self.sid = str(json.loads(opened.data)["sid"])

    def _req(self, method: str, body: bytes = b"", **params: str) -> HttpRequest:
        query = {"EIO": self.eio, "transport": "polling", **params}
        if self.jsonp:
            query["j"] = "0"
        return request(method, body, path=self.path, query=query)

    def _packets(self, answer: Any) -> list[Packet]:
        assert isinstance(answer, HttpResponse) and answer.status == 200, answer
        body = answer.body
        if self.jsonp:
            text = body.decode()
            return polling.decode_text_body(
                json.loads(text[text.index("(") + 1 : -2]), int(self.eio)
            )
        return polling.decode_body(body, answer.headers.get("Content-Type", ""), int(self.eio))

    def post_raw(self, body: bytes) -> Any:
        if self.jsonp:
            body = b"d=" + body.replace(b"%", b"%25").replace(b"&", b"%26").replace(b"+", b"%2B")
        return self.engine.handle_request(self._req("POST", body, sid=self.sid), self.clock.now)

    def post(self, *datas: str) -> None:
        packets = [Packet(PacketType.MESSAGE, d) for d in datas]
        payload = (eio.encode_payload_v4 if self.eio == "4" else eio.encode_payload_v3)(packets)
        answer = self.post_raw(payload.encode())
        assert isinstance(answer, HttpResponse) and answer.body == b"ok", answer

    def get(self) -> Any:
        return self.engine.handle_request(self._req("GET", sid=self.sid), self.clock.now)

    def read(self) -> list[Packet]:
        """What a GET brings, ignoring NOOPs; the GET must not park."""
        return [p for p in self._packets(self.get()) if p.type is not PacketType.NOOP]


# -- random request sequences ------------------------------------------------------------

TEXT = st.text(max_size=12)
METHODS = st.sampled_from(["GET", "GET", "POST", "POST", "OPTIONS", "PUT", "HEAD", "get", "\x00"])
PATHS = st.sampled_from(["/engine.io/", "/engine.io", "/engine.io/realtime.js", "/x/realtime.js"])
EIOS = st.one_of(st.sampled_from(["4", "4", "3", "3", "5", "", "03", "٣"]), TEXT)
TRANSPORTS = st.one_of(st.sampled_from(["polling", "polling", "websocket", "", "flash"]), TEXT)
ORIGINS = st.sampled_from([None, None, "http://h", "http://evil", "http://[", "null", ""])
REFERERS = st.sampled_from([None, "http://h/page", "http://evil/", "http://[::1", "::"])
BODIES = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"4hi",
            b"4a\x1e4b",
            b"3:4hi",
            b"1",
            b"2",
            b"3",
            b"5",
            b"0",
            b"6",
            b"\x00\x02\xff4x",
            b"\x01\x02\xff\x04\x07",
            b"d=4x",
            b"d=3:4hi",
            b"b4AA==",
            b"4" + b"x" * 3000,
            b"40",
            b'42["echo",1]',
            b'421["echo",{"a":[1]}]',
            b'451-["echo",{"_placeholder":true,"num":0}]\x1ebAQI=',
            b"bAQI=",
            b"41",
            b'44"x"',
            b"40/nsp,",
            b"43[1]",
            b"42" + b"[" * 1000,
            b"12:40/a?x=1,",
        ]
    ),
)
FRAMES = st.one_of(
    st.sampled_from(["2probe", "5", "4x", "3", "2", "1", "6", "0", "b4AA==", "3probe"]),
    st.text(max_size=10),
    st.binary(max_size=10),
)


class Host:
    """Plays the aiohttp host and the runtime: remembers accepted WebSockets
    and answers parked GETs once their session has something to say. The
    engine's listener is a Recorder, or a Socket.IO server with an echo handler."""

    def __init__(self, socketio: bool) -> None:
        self.recorder = Recorder()
        options: dict[str, Any] = {"max_payload": 2000, "max_buffer": 5000, "upgrade_timeout": 10}
        if socketio:
            sio = Server(**options)
            sio.on("echo", lambda socket, *args: args)
            runtime = TestRuntime()
            sio.bind(runtime)
            self.engine, self.clock = sio.engine, Clock(sio.engine, runtime)
        else:
            self.engine = Engine(listener=self.recorder, **options)
            self.clock = Clock(self.engine)
        self.socketio = socketio
        self.parked: list[tuple[Session, HttpRequest]] = []
        self.sockets: list[tuple[Session, bool]] = []

    def handle(self, req: HttpRequest) -> None:
        decision = self.engine.handle_request(req, self.clock.now)
        check_decision(decision)
        if isinstance(decision, LongPoll):
            self.parked.append((decision.session, req))
        elif isinstance(decision, AcceptWebSocket):
            self.sockets.append((decision.session, decision.upgrade))

    def settle(self) -> None:
        still: list[tuple[Session, HttpRequest]] = []
        for session, req in self.parked:
            if session.has_output() or session.state is not State.OPEN:
                answer = self.engine.poll_response(session, req)
                assert isinstance(answer, HttpResponse) and answer.status == 200
            else:
                still.append((session, req))
        self.parked = still
        for sid, session in self.engine.sessions.items():
            assert sid == session.id and session.state is not State.CLOSED
        if not self.socketio:
            assert set(self.engine.sessions) <= set(self.recorder.open)

    def connections(self) -> dict[str, Connection]:
        if self.socketio:
            return dict(self.engine.sessions)
        return dict(self.recorder.open)


@pytest.mark.parametrize("socketio", [False, True], ids=["engine", "socketio"])
@given(data=st.data())
def test_random_request_sequences_never_raise(socketio: bool, data: st.DataObject) -> None:
    host = Host(socketio)
    engine, clock = host.engine, host.clock
    for _ in range(data.draw(st.integers(1, 30), label="steps")):
        action = data.draw(
            st.sampled_from(
                ["request", "request", "request", "frame", "ws-close", "time", "send", "give-up"]
            )
        )
        conns = host.connections()
        sids = sorted(conns)
        if action == "request":
            query: dict[str, str] = {"EIO": data.draw(EIOS), "transport": data.draw(TRANSPORTS)}
            known = bool(sids) and data.draw(st.booleans())
            if known:
                query["sid"] = data.draw(st.sampled_from(sids))
            elif data.draw(st.booleans()):
                query["sid"] = data.draw(TEXT)
            for key, values in (("j", ["0", "7", "", "x", "²", "12345678901"]), ("b64", ["1"])):
                if data.draw(st.booleans()):
                    query[key] = data.draw(st.sampled_from(values))
            query = {k: v for k, v in query.items() if data.draw(st.integers(0, 9)) > 0}
            headers = {
                k: v
                for k, v in (("origin", data.draw(ORIGINS)), ("referer", data.draw(REFERERS)))
                if v is not None
            }
            if data.draw(st.booleans()):
                headers["upgrade"] = data.draw(st.sampled_from(["websocket", "WebSocket", "h2c"]))
            host.handle(
                request(
                    data.draw(METHODS),
                    data.draw(BODIES),
                    path=data.draw(PATHS),
                    headers=headers,
                    query=query,
                )
            )
        elif action == "frame" and host.sockets:
            session, upgrade = data.draw(st.sampled_from(host.sockets))
            if session.state is not State.CLOSED:
                probing = upgrade and session.transport == "polling"
                reply = engine.receive_frame(session, data.draw(FRAMES), probing, clock.now)
                assert reply is None or isinstance(reply, (str, bytes))
        elif action == "ws-close" and host.sockets:
            session, upgrade = host.sockets.pop(data.draw(st.integers(0, len(host.sockets) - 1)))
            probing = upgrade and session.transport == "polling"
            engine.websocket_closed(session, probing, clock.now)
        elif action == "time":
            clock.advance(data.draw(st.sampled_from([0.5, 5.0, 11.0, 26.0, 50.0])))
        elif action == "send" and sids:
            conn = conns[data.draw(st.sampled_from(sids))]
            what = data.draw(st.one_of(TEXT, st.binary(max_size=8), st.just(None)))
            if what is None:
                conn.close()
            else:
                conn.send(what)
        elif action == "give-up" and host.parked:
            session, _ = host.parked.pop()
            session.release_poll()  # the client went away: the host releases it
        host.settle()


# -- garbage closes one session, and only that one ----------------------------------------


GARBAGE = st.one_of(
    st.binary(max_size=30),
    st.sampled_from(
        [
            b"9garbage",
            b"",
            b"4ok\x1e",
            b"0",
            b"5",
            b"0{}",
            b"99:4x",
            b"\x00\x09",
            b"b4!!",
            b"\x01\x01\xff\x09",
        ]
    ),
)


@given(
    st.sampled_from(["3", "4"]),
    st.booleans(),
    st.booleans(),
    GARBAGE,
)
@example("4", False, True, b"9garbage")
@example("3", True, True, b"5")
def test_garbage_closes_its_session_and_spares_the_others(
    eio_rev: str, use_jsonp: bool, queued: bool, garbage: bytes
) -> None:
    recorder = Recorder()
    engine = Engine(max_payload=2000, listener=recorder)
    clock = Clock(engine)
    others = [Client(engine, clock, rev, jsonp=j) for rev in ("3", "4") for j in (False, True)]
    victim = Client(engine, clock, eio_rev, jsonp=use_jsonp)
    tricky = {"3": "😀\x1e:", "4": "😀:"}  # EIO 4 payloads cannot carry \x1e
    for i, client in enumerate(others):
        client.post(f"before {i}", tricky[client.eio])
    if queued:
        recorder.open[victim.sid].send("not yet read")
    answer = victim.post_raw(garbage)
    assert isinstance(answer, HttpResponse)
    if victim.sid not in recorder.closed:
        # It decoded into harmless packets: then it was not garbage after all.
        assert answer.body == b"ok"
        return
    # A CLOSE packet ("1") is a goodbye rather than garbage; it ends the session too.
    assert recorder.closed[victim.sid] in ("parse error", "transport close")
    assert answer.status == 200 or error_code(answer) == 3
    assert error_code(victim.post_raw(b"4late" if eio_rev == "4" else b"5:4late")) == 1
    assert error_code(victim.get()) == 1
    assert victim.sid not in engine.sessions
    for i, client in enumerate(others):
        client.post(f"after {i}")
        recorder.open[client.sid].send(f"to {i}")
        recorder.open[client.sid].send(b"\x00bin")
        assert recorder.messages[client.sid] == [f"before {i}", tricky[client.eio], f"after {i}"]
        assert [p.data for p in client.read()] == [f"to {i}", b"\x00bin"]
        assert client.sid not in recorder.closed


def test_bug_garbage_from_a_session_with_queued_output_answers_unknown_session() -> None:
    """A session failed with output still queued lingered (CLOSING) for the
    close grace: its POSTs answered "ok" and its next GET got the queue, where
    engine.io forgets a broken session at once."""
    recorder = Recorder()
    engine = Engine(listener=recorder)
    clock = Clock(engine)
    victim = Client(engine, clock, "4")
    recorder.open[victim.sid].send("queued")
    assert error_code(victim.post_raw(b"9garbage")) == 3
    assert error_code(victim.post_raw(b"4more")) == 1
    assert error_code(victim.get()) == 1


def test_bug_upgrade_socket_that_never_probes_is_dropped() -> None:
    """A WebSocket joining a polling session that never sends ``2probe`` had no
    timer: it stayed open for good, and more could join the same session (each
    one holding a socket the connection limit does not count)."""
    recorder = Recorder()
    engine = Engine(upgrade_timeout=10, listener=recorder)
    clock = Clock(engine)
    client = Client(engine, clock, "4")
    upgrade = request(
        EIO="4", transport="websocket", sid=client.sid, headers={"upgrade": "websocket"}
    )
    first = engine.handle_request(upgrade, clock.now)
    assert isinstance(first, AcceptWebSocket) and first.upgrade
    woken: list[bool] = []
    first.session.ws_waker = lambda: woken.append(True)  # how the runtime's writer is told
    # One upgrade at a time: a second socket is accepted and closed at once.
    assert isinstance(engine.handle_request(upgrade, clock.now), CloseWebSocket)
    clock.advance(10.5)
    assert woken, "the probe socket's writer is woken to close it"
    engine.websocket_closed(first.session, True, clock.now)
    client.post("still polling")
    assert recorder.messages[client.sid] == ["still polling"]
    assert isinstance(engine.handle_request(upgrade, clock.now), AcceptWebSocket)


# -- deeply nested JSON through the Socket.IO server ------------------------------------


def sio_server(**options: Any) -> tuple[Server, TestRuntime, Clock, list[str]]:
    sio = Server(max_payload=1_000_000, **options)
    runtime = TestRuntime()
    sio.bind(runtime)
    closed: list[str] = []

    @sio.on("echo")
    def echo(socket: Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @sio.on("disconnect")
    def gone(socket: Socket, reason: str) -> None:
        closed.append(reason)

    return sio, runtime, Clock(sio.engine, runtime), closed


NESTED = [
    "2" + "[" * 100_000,
    '2["echo",' + "[" * 100_000 + "]" * 100_000 + "]",
    '2["echo",' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "]",
    '51-["echo",' + "[" * 100_000 + '{"_placeholder":true,"num":0}' + "]" * 100_000 + "]",
    "0/nsp," + '{"a":' * 100_000,
    # just past max_depth: the scanner could read it, the limit refuses it
    '2["echo",' + "[" * DEFAULT_MAX_DEPTH + "]" * DEFAULT_MAX_DEPTH + "]",
    '21/,["echo",' + "[" * DEFAULT_MAX_DEPTH + "]" * DEFAULT_MAX_DEPTH + "]",
    # numbers JSON has no way to write back: each echo would raise
    '21["echo",1e999]',
    '2["echo",[-1e999]]',
    '2["echo",{"n":NaN}]',
    '21/,["echo",Infinity]',
]


def test_deeply_nested_json_closes_only_that_connection() -> None:
    sio, _runtime, clock, closed = sio_server()
    engine = sio.engine
    bystanders = [Client(engine, clock, rev, path="/socket.io/") for rev in ("3", "4")]
    bystanders[1].post("0")
    for client in bystanders:
        assert str(client.read()[0].data).startswith("0")  # the CONNECT answer
    for i, nested in enumerate(NESTED):
        for rev in ("3", "4"):
            victim = Client(engine, clock, rev, path="/socket.io/")
            if rev == "4":
                victim.post("0")
            victim.read()
            victim.post(nested)
            assert victim.sid not in engine.sessions or [p.type for p in victim.read()] == [
                PacketType.CLOSE
            ]
            assert error_code(victim.get()) == 1
        for client in bystanders:
            client.post(f'2{i}["echo",[[[{i}]]]]')
            assert [p.data for p in client.read()] == [f"3{i}[[[[{i}]]]]"]
    assert closed.count("parse error") == len(NESTED) * 2


@pytest.mark.parametrize("max_depth", [DEFAULT_MAX_DEPTH, MAX_DEPTH_CEILING])
def test_deep_valid_json_reaches_the_handler_and_the_server_lives_on(max_depth: int) -> None:
    """Nesting within ``max_depth`` is an ordinary packet: it reaches the
    handler, its ack goes back, and the connection carries on."""
    sio, _runtime, clock, _closed = sio_server(max_depth=max_depth)
    client = Client(sio.engine, clock, "4", path="/socket.io/")
    client.post("0")
    client.read()
    depth = max_depth - 1  # and the event's own array
    client.post('21["echo",' + "[" * depth + "]" * depth + "]")
    [ack] = client.read()
    assert ack.data == "31[" + "[" * depth + "]" * depth + "]"
    assert sio.engine.sessions[client.sid].state is State.OPEN
    client.post('22["echo","fine"]')
    assert [p.data for p in client.read()] == ['32["fine"]']


def test_bug_jsonp_handshake_with_a_unicode_digit_index_is_refused() -> None:
    """``j=²`` opened a session whose every answer began ``___eio[²](``."""
    recorder = Recorder()
    engine = Engine(listener=recorder)
    answer = engine.handle_request(request(EIO="4", transport="polling", j="²"), 0)
    assert error_code(answer) == 3 and recorder.open == {}
    ok = engine.handle_request(request(EIO="4", transport="polling", j="12"), 0)
    assert isinstance(ok, HttpResponse) and ok.body.startswith(b"___eio[12](")
    assert jsonp.callback_index("12") == "12"


def test_bug_malformed_origin_or_referer_is_refused_not_raised() -> None:
    """urlsplit() raises ValueError on "http://[": that escaped handle_request
    (on the error path too, which reads the Origin again for CORS headers)."""
    engine = Engine(listener=Recorder())
    for headers in ({"origin": "http://["}, {"referer": "http://[::1"}):
        for query in (
            {"EIO": "4", "transport": "polling", "j": "0"},
            {"EIO": "4", "transport": "nope"},
        ):
            answer = engine.handle_request(request(headers=headers, query=query), 0)
            assert isinstance(answer, HttpResponse) and answer.status in (400, 403)
