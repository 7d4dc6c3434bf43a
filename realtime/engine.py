"""The Engine.IO server core: the session table, request routing and the rules
of each transport. Pure: an :class:`HttpRequest` and ``now`` in, a
:class:`Decision` out; the runtime carries decisions out and feeds frames in.

Used directly (``realtime.Engine``) it delivers raw text and binary messages
to handlers registered with :meth:`Engine.on`; under :class:`realtime.Server`
the Socket.IO layer is its listener.
"""

from __future__ import annotations

import inspect
import json
import math
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from logging import DEBUG
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urlsplit

from . import assets
from ._log import log_once, logger
from .errors import (
    BadHandshakeMethod,
    BadRequest,
    DecodeError,
    Forbidden,
    InvalidArgument,
    InvalidArgumentType,
    InvalidState,
    Overloaded,
    PayloadTooLarge,
    ProtocolError,
    UnknownSession,
    UnknownTransport,
    UnsupportedProtocolVersion,
)
from .http import (
    AcceptWebSocket,
    CloseWebSocket,
    Decision,
    Forward,
    Handshake,
    HttpRequest,
    HttpResponse,
    LongPoll,
)
from .protocol import engineio as eio
from .protocol.counters import Counters
from .protocol.deadlines import Deadlines
from .protocol.engineio import Packet, PacketType
from .protocol.limits import AddressTable, client_address
from .protocol.session import Session, SessionConfig, State, Upgrade
from .transports import jsonp, polling
from .transports.deflate import (
    DeflateAgreement,
    PerMessageDeflate,
    negotiate,
    per_message_deflate_setting,
)
from .transports.http_compression import (
    HttpCompression,
    compress_answer,
    http_compression_setting,
)

if TYPE_CHECKING:
    from .types import Connection, Data, EngineListener, Runtime, TaskRunner, TransportName

CorsSetting = None | str | Sequence[str] | Callable[[str], bool]
Handler = TypeVar("Handler", bound=Callable[..., Any])

_TRANSPORTS: Final[tuple[TransportName, ...]] = ("polling", "websocket")

CORS_ALLOWED_HEADERS: Final = ("Content-Type", "Authorization")
"""Request headers a preflight allows by default: what the official clients
send (a text or binary body; a token in ``extraHeaders``)."""


RequestCheck = Callable[[Handshake], object]
"""``allow_request``: given the headers, query and client address of a
handshake, whether to accept it (Node's ``allowRequest``), read by truthiness.
It answers at once: an asynchronous check belongs in a ``connect`` handler or
middleware. (``object``, not ``bool``: the compiled build checks a declared
return type at the call, and a hook may answer any truthy value.)"""

# Why a Forbidden was raised, for the log; the client is told only "Forbidden".
ORIGIN_REFUSED: Final = "origin not allowed"
REFUSED_BY_HOOK: Final = "refused by allow_request"


def _checked_request_hook(hook: RequestCheck | None) -> RequestCheck | None:
    if hook is not None and (not callable(hook) or inspect.iscoroutinefunction(hook)):
        raise InvalidArgumentType(
            "allow_request is a plain function (handshake) -> bool; "
            "check asynchronously in a connect handler or middleware instead"
        )
    return hook


class Engine:
    """An Engine.IO server for revisions 3 and 4 on one endpoint.

    ``allow_request``: a function of the handshake (headers, query, client
    address) that refuses it by returning False: the client gets 403 with
    Engine.IO's ``{"code":4,"message":"Forbidden"}``, as for a refused Origin;
    or by raising ``realtime.Forbidden(reason)``, which tells the client
    ``reason`` instead.
    ``listener``: what the engine tells of connections (a Server passes
    itself). Every other option, with its default: docs/server.md#options.
    """

    def __init__(
        self,
        *,
        ping_interval: float = 25,
        ping_timeout: float = 20,
        max_payload: int = 1_000_000,
        cors_allowed_origins: CorsSetting = None,
        cors_credentials: bool = False,
        cors_allowed_headers: Iterable[str] = CORS_ALLOWED_HEADERS,
        allow_request: RequestCheck | None = None,
        transports: Iterable[str] = _TRANSPORTS,
        path: str = "/engine.io",
        upgrade_timeout: float = 10,
        max_buffer: int = 16_000_000,
        max_connections: int = 100_000,
        max_poll_packets: int | None = 16,
        max_post_packets: int | None = 10_000,
        max_connections_per_address: int | None = 1_000,
        handshakes_per_second: float | None = 50.0,
        handshake_burst: int = 200,
        trusted_proxies: Iterable[str] = (),
        log_connections: bool = False,
        node_id: str | None = None,
        peers: Mapping[str, str] | None = None,
        max_fragments: int = 1024,
        http_compression: bool | HttpCompression | Mapping[str, Any] = True,
        per_message_deflate: bool | PerMessageDeflate | Mapping[str, Any] = False,
        serve_client: bool = True,
        listener: EngineListener | None = None,
    ) -> None:
        self.transports: tuple[TransportName, ...] = tuple(
            t for t in _TRANSPORTS if t in set(transports)
        )
        """The transports served, in the order of the ``transports`` option's choices."""
        unknown = set(transports) - set(_TRANSPORTS)
        if unknown or not self.transports:
            raise InvalidArgument(
                f"transports must be among {_TRANSPORTS}, got {tuple(transports)}"
            )
        if min(ping_interval, ping_timeout, max_payload, max_fragments) <= 0:
            raise InvalidArgument(
                "ping_interval, ping_timeout, max_payload and max_fragments must be positive"
            )
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_payload = max_payload
        self.max_fragments = max_fragments  # frames one WebSocket message may arrive in
        # gzip/deflate of polling answers from this many bytes on, as engine.io's.
        self.http_compression = http_compression_setting(http_compression)
        # permessage-deflate on WebSockets we frame, off unless asked, as in engine.io.
        self.per_message_deflate = per_message_deflate_setting(per_message_deflate)
        self.max_connections = max_connections
        # Per client address: open sessions, and a token bucket of handshakes.
        self.addresses = AddressTable(
            max_connections=max_connections_per_address,
            handshake_rate=handshakes_per_second,
            handshake_burst=handshake_burst,
        )
        # Peers whose X-Forwarded-For names the client; nobody else's is believed.
        self.trusted_proxies = frozenset(trusted_proxies)
        # One INFO line per connection when it ends: who, how, how long, why.
        self.log_connections = log_connections
        # No sticky sessions: a sid names the node that owns it; a request
        # for another node's session goes to that node (docs/deployment.md).
        self.node_id = node_id
        self.peers: dict[str, tuple[str, int]] = _parse_peers(node_id, peers)
        """Every node's ``(host, port)`` by name, from the ``peers`` option."""
        # python-engineio's client refuses a polling payload of more than 16
        # packets; longer queues go out over several polls.
        self.max_poll_packets = max_poll_packets
        # Packets one POST may carry: each is handled as it is decoded, and
        # this bounds the work (and the events) one request can ask for.
        if max_post_packets is not None and max_post_packets < 1:
            raise InvalidArgument("max_post_packets must be at least 1 (or None: no cap)")
        self.max_post_packets = max_post_packets
        # Called with a session that has just moved from polling to WebSocket.
        self.on_upgrade: Callable[[Session], None] | None = None
        if cors_credentials and (cors_allowed_origins is None or cors_allowed_origins == "*"):
            raise InvalidArgument(
                "cors_credentials needs cors_allowed_origins to name the origins (a list, one"
                " origin or a callable): credentials for every origin would let any page act"
                " as its visitors"
            )
        self.cors_allowed_origins = cors_allowed_origins
        self.cors_credentials = cors_credentials
        self.allow_request = _checked_request_hook(allow_request)
        """The ``allow_request`` hook, checked to take a request (None: every request is
        allowed)."""
        self._cors_allow_headers = ", ".join(cors_allowed_headers)
        # The bundled clients below the path, as Node's serveClient: pages
        # load <path>/socket.io.js from the server they talk to.
        self.serve_client = serve_client
        self.path = "/" + path.strip("/")
        """The path served, with one leading slash and none trailing."""
        self._path_slash = self.path + "/"
        self.session_config = SessionConfig(
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            upgrade_timeout=upgrade_timeout,
            max_buffer=max_buffer,
            close_grace=min(ping_timeout, 10.0),
        )
        """The timings and buffer bound every session is made with."""
        self.sessions: dict[str, Session] = {}
        """The open Engine.IO sessions of this node, by session id."""
        self.deadlines = Deadlines(on_earlier=self._deadlines_moved)
        """Every timer of the engine and the server above it (pings, timeouts, ack deadlines)."""
        self.counters = Counters()
        """Plain counters of what the engine did, read by the metrics."""
        self.runtime: Runtime | None = None
        """The runtime serving the engine (None before :meth:`bind`)."""
        self.listener: EngineListener = listener or _HandlerListener(self)
        """What the engine calls as connections open, speak and close (the Server)."""

    # -- wiring -----------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """Hosts accept a Server or an Engine; both answer ``.engine``."""
        return self

    def bind(self, runtime: Runtime) -> None:
        """Called by the host integration (or the Server) before serving."""
        self.runtime = runtime

    def now(self) -> float:
        """The runtime's clock, in seconds (0.0 before :meth:`bind`)."""
        return self.runtime.now() if self.runtime is not None else 0.0

    def _deadlines_moved(self) -> None:
        if self.runtime is not None:
            self.runtime.deadlines_changed()

    def forget(self, session: Session) -> None:
        """Drop a closed ``session`` from the session table (and log its close when
        ``log_connections`` is set)."""
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]
            self.addresses.closed(session.remote_addr or "")
            if self.log_connections:
                transport = "jsonp" if session.jsonp else session.transport
                logger.info(
                    "%s: EIO%d %s from %s, %.1f s, closed: %s",
                    session.id,
                    session.protocol,
                    transport,
                    session.remote_addr or "?",
                    self.now() - session.opened_at,
                    session.close_reason,
                )

    def on(self, event: str, handler: Handler | None = None) -> Any:
        """Register a raw handler: ``connect(conn)``, ``message(conn, data)``,
        ``disconnect(conn, reason)``. Usable as a decorator."""
        if not isinstance(self.listener, _HandlerListener):
            raise InvalidState("this engine belongs to a Server; register handlers there")
        return self.listener.on(event, handler)

    def shutdown(self) -> None:
        """Close every session, telling each client."""
        for session in list(self.sessions.values()):
            session.close("server shutting down")

    # -- requests ---------------------------------------------------------------

    def owns_path(self, path: str) -> bool:
        """Whether a request for ``path`` is the engine's: its path (with or
        without the slash) or the bundled client below it. Hosts route on
        this and hand every other path to the application they wrap."""
        if path == self.path or path == self._path_slash:
            return True
        return (
            self.serve_client
            and path.startswith(self._path_slash)
            and assets.is_asset(path[len(self._path_slash) :])
        )

    def handle_request(self, req: HttpRequest, now: float) -> Decision:
        """Route one HTTP request (or WebSocket handshake) on the engine path."""
        path = req.path
        if path != self.path and path != self._path_slash:  # the bundled client lives below
            name = path.rstrip("/").rpartition("/")[2]
            if self.serve_client and assets.is_asset(name):
                return assets.respond(name, req.headers)
        try:
            return self._route(req, now)
        except ProtocolError as exc:
            refusals = self.counters.refusals
            refusals[exc.http_status] = refusals.get(exc.http_status, 0) + 1
            self._log_refusal(exc, req)
            return self._error(exc, req)

    def _log_refusal(self, exc: ProtocolError, req: HttpRequest) -> None:
        """Say why, and which option decides it; once per kind at WARNING."""
        peer = req.remote_addr
        if isinstance(exc, UnknownSession):
            # Ordinary: a client polling a session that expired, closed, or
            # belonged to this server before a restart; it reconnects.
            logger.debug("%s: session %s unknown (expired or closed)", peer, req.query.get("sid"))
            return
        if isinstance(exc, Forbidden) and exc.message == ORIGIN_REFUSED:
            origin = req.headers.get("origin") or req.headers.get("referer") or ""
            log_once(
                f"origin:{origin}",
                "refused Origin %r from %s: not allowed by cors_allowed_origins=%r",
                origin,
                peer,
                self.cors_allowed_origins,
            )
            return
        option = self._deciding_option(exc)
        why = f"{exc.message} ({option})" if option else exc.message
        kind = f"http-{exc.http_status}-{exc.message}"
        log_once(kind, "refused a request from %s: %s", peer, why)

    def _deciding_option(self, exc: ProtocolError) -> str | None:
        message = exc.message
        if message == "server full":
            return f"max_connections={self.max_connections}"
        if message == "too many connections from this address":
            return f"max_connections_per_address={self.addresses.max_connections}"
        if message == "too many handshakes from this address":
            table = self.addresses
            rate, burst = table.handshake_rate, table.handshake_burst
            return f"handshakes_per_second={rate}, handshake_burst={burst}"
        if isinstance(exc, PayloadTooLarge):
            return f"max_payload={self.max_payload}"
        if isinstance(exc, UnknownTransport):
            return f"transports={self.transports}"
        if exc.message == REFUSED_BY_HOOK or (isinstance(exc, Forbidden) and exc.told):
            return f"allow_request={self.allow_request!r}"
        return None

    def _route(self, req: HttpRequest, now: float) -> Decision:
        if req.method == "OPTIONS":
            return self._preflight(req)
        transport = req.query.get("transport", "")
        if transport not in self.transports:
            raise UnknownTransport()
        protocol_raw = req.query.get("EIO", "")
        if protocol_raw not in ("3", "4"):
            raise UnsupportedProtocolVersion()
        protocol = int(protocol_raw)
        sid = req.query.get("sid")
        if sid is not None and self.peers and sid not in self.sessions:
            owner = self._owner_elsewhere(sid, req)
            if owner is not None:
                return owner
        self._check_origin(req)
        if sid is not None:
            # What is due by now has happened, whether or not the runtime's
            # timer ran yet: a session past its ping timeout is gone at
            # exactly handshake + interval + timeout, never a little later.
            self.deadlines.fire(now)
        if sid is None:
            return self._handshake(req, protocol, transport, now)
        session = self.sessions.get(sid)
        if session is None or session.state is State.CLOSED:
            raise UnknownSession()
        if session.protocol != protocol:
            raise BadRequest("protocol revision changed")
        if transport == "websocket":
            return self._websocket_upgrade(req, session, now)
        if session.transport != "polling" or session.jsonp != ("j" in req.query):
            raise BadRequest("transport mismatch")
        if req.method == "GET":
            return self._poll(req, session)
        if req.method == "POST":
            return self._post(req, session, now)
        raise BadRequest("method not allowed")

    def _handshake(self, req: HttpRequest, protocol: int, transport: str, now: float) -> Decision:
        if req.method != "GET":
            raise BadHandshakeMethod()
        if transport == "websocket" and not req.is_websocket:
            raise BadRequest("expected a WebSocket handshake")
        if len(self.sessions) >= self.max_connections:
            raise Overloaded("server full")
        address = client_address(req.remote_addr, req.headers, self.trusted_proxies)
        refusal = self.addresses.refusal(address, now)
        if refusal is not None:
            reason, retry_after = refusal
            raise Overloaded(reason, retry_after=retry_after, http_status=429)
        if self.allow_request is not None and not self._allowed(req, address):
            raise Forbidden(REFUSED_BY_HOOK)
        is_jsonp = "j" in req.query
        if is_jsonp:
            jsonp.callback_index(req.query["j"])
        sid = secrets.token_urlsafe(15)
        if self.node_id is not None:
            sid = f"{sid}.{self.node_id}"
        session = Session(
            sid,
            protocol,
            "websocket" if transport == "websocket" else "polling",
            owner=self,
            config=self.session_config,
            headers=req.headers,
            query=req.query,
            remote_addr=address,
            jsonp=is_jsonp,
            b64=is_jsonp or protocol == 4 or req.query.get("b64") in ("1", "true"),
        )
        self.sessions[sid] = session
        self.addresses.opened(address)
        self.counters.handshakes += 1
        if logger.isEnabledFor(DEBUG):
            logger.debug("%s: open, EIO%d %s from %s", sid, protocol, transport, address)
        open_data = self._open_data(session)
        session.start(now)
        if transport == "websocket":
            session.push_packet(PacketType.OPEN, open_data)  # nobody to wake yet
            self.listener.on_open(session)
            return AcceptWebSocket(session, upgrade=False, deflate=self._deflate(req))
        # The OPEN packet goes out alone in the handshake answer; whatever
        # on_open queues (a Socket.IO v4 CONNECT) waits for the first poll.
        response = self._encode_poll(req, session, [Packet(PacketType.OPEN, open_data)])
        self.listener.on_open(session)
        return response

    def join_cluster(self, node_id: str, peers: Mapping[str, str]) -> None:
        """Name this node in its session ids and know its peers' addresses
        (the ``node_id`` and ``peers`` options, set after construction:
        ``--workers`` does this for each worker)."""
        self.peers = _parse_peers(node_id, peers)
        self.node_id = node_id

    def _owner_elsewhere(self, sid: str, req: HttpRequest) -> Forward | None:
        """Where the session ``sid`` lives, if on another node we know of.
        Never a second hop: a forwarded request is answered here, as an
        unknown session if need be, so nodes that disagree cannot loop."""
        _, dot, node = sid.rpartition(".")
        if not dot or node == self.node_id or "x-realtime-forwarded" in req.headers:
            return None
        address = self.peers.get(node)
        if address is None:
            return None
        self.counters.forwarded += 1
        return Forward(node, *address)

    def _open_data(self, session: Session) -> str:
        upgrades = (
            ["websocket"]
            if session.transport == "polling" and "websocket" in self.transports
            else []
        )
        data: dict[str, Any] = {
            "sid": session.id,
            "upgrades": upgrades,
            "pingInterval": round(self.ping_interval * 1000),
            "pingTimeout": round(self.ping_timeout * 1000),
        }
        if session.protocol == 4:
            data["maxPayload"] = self.max_payload
        return json.dumps(data, separators=(",", ":"))

    def _websocket_upgrade(self, req: HttpRequest, session: Session, now: float) -> Decision:
        if not req.is_websocket:
            raise BadRequest("expected a WebSocket handshake")
        if (
            session.transport != "polling"
            or session.upgrade is not Upgrade.NONE
            or session.upgrade_timer is not None  # another socket is joining already
        ):
            return CloseWebSocket()
        if session.state is not State.OPEN:
            raise UnknownSession()
        session.expect_probe(now)
        return AcceptWebSocket(session, upgrade=True, deflate=self._deflate(req))

    def _deflate(self, req: HttpRequest) -> DeflateAgreement | None:
        """The permessage-deflate to agree on for this handshake, if any."""
        setting = self.per_message_deflate
        if setting is None:
            return None
        offer = req.headers.get("sec-websocket-extensions")
        return None if offer is None else negotiate(offer, setting)

    def _poll(self, req: HttpRequest, session: Session) -> Decision:
        if session.poll.parked:
            # Two GETs at once is a broken client (or an attack): end it. The
            # parked GET answers with a CLOSE packet, as engine.io's does, and
            # the session is gone once it has.
            session.fail("parse error", self.now())
            session.push_packet(PacketType.CLOSE)
            raise BadRequest("overlapping GET requests")
        if session.jsonp:
            jsonp.callback_index(req.query.get("j", ""))
        if session.protocol == 3:
            session.b64 = session.jsonp or req.query.get("b64") in ("1", "true")
        if session.has_output() or session.state is not State.OPEN:
            return self.poll_response(session, req)
        if session.upgrade is Upgrade.PROBING:
            # The client is about to pause polling and waits for this GET to
            # finish first: never park it (engine.io answers with a NOOP too).
            return self._encode_poll(req, session, [Packet(PacketType.NOOP)])
        session.poll.park()
        return LongPoll(session)

    def poll_response(self, session: Session, req: HttpRequest) -> HttpResponse:
        """The answer to a GET whose session has output (or has closed)."""
        session.poll.release()
        if session.transport == "websocket" or session.state is State.CLOSED:
            items: list[Any] = [Packet(PacketType.NOOP)]
        else:
            items = session.take(self.max_poll_packets) or [Packet(PacketType.NOOP)]
            if session.state is State.CLOSING and not session.has_output():
                session.finish()
        return self._encode_poll(req, session, items)

    def _encode_poll(self, req: HttpRequest, session: Session, items: list[Any]) -> HttpResponse:
        headers = self._cors_headers(req)
        if session.jsonp:
            text = polling.encode_text(items, session.protocol)
            body = jsonp.wrap(text, jsonp.callback_index(req.query.get("j", "")))
            headers["Content-Type"] = jsonp.CONTENT_TYPE
        else:
            body, headers["Content-Type"] = polling.encode_body(
                items, session.protocol, session.b64
            )
        headers["Cache-Control"] = "no-store"
        compression = self.http_compression
        if compression is not None and len(body) >= compression.threshold:
            body = compress_answer(compression, req.headers, headers, body)
        return HttpResponse(200, headers, body)

    def _post(self, req: HttpRequest, session: Session, now: float) -> Decision:
        if len(req.body) > self.max_payload:
            session.fail("transport error", now)
            raise PayloadTooLarge()
        bound = self.max_post_packets
        count = 0
        try:
            if session.jsonp:
                packets = polling.iter_text_body(jsonp.unwrap(req.body), session.protocol)
            else:
                packets = polling.iter_body(req.body, session.protocol)
            # Decoded and handled one at a time: what a POST of many small
            # packets holds is one packet, not a list of all of them. As in
            # engine.io, the packets before a malformed one are handled.
            for packet in packets:
                if session.state is not State.OPEN:
                    break
                count += 1
                if bound is not None and count > bound:
                    log_once(
                        "post-packets",
                        "closing %s: more than max_post_packets=%s packets in one POST",
                        session.id,
                        bound,
                    )
                    raise DecodeError("Too many packets")
                session.receive(packet, now)
        except DecodeError:
            session.fail("parse error", now)
            raise
        headers = self._cors_headers(req)
        headers["Content-Type"] = "text/html; charset=UTF-8"
        return HttpResponse(200, headers, b"ok")

    # -- WebSocket frames -------------------------------------------------------

    def receive_frame(
        self, session: Session, frame: Data, probe_socket: bool, now: float
    ) -> Data | None:
        """One frame from a session's WebSocket. Returns a frame to send back
        right away on that socket (the probe answer), if any.

        ``probe_socket`` is True for a socket that joined an existing polling
        session and has not completed the upgrade yet.
        """
        if not probe_socket and isinstance(frame, str) and frame[:1] == "4":
            session.receive_message(frame[1:], now)  # most frames: no Packet needed
            return None
        if session.state is not State.OPEN:
            if probe_socket and frame == "5" and session.upgrade is Upgrade.PROBING:
                # Closed during the probe: finish the upgrade so that the
                # client, which has paused polling, hears the close here.
                session.complete_upgrade(now)
            return None
        try:
            packet = eio.decode_ws(frame, session.protocol)
        except DecodeError as exc:
            log_once("ws-decode", "closing %s: %s", session.id, exc)
            session.fail("parse error", now)
            return None
        if probe_socket and session.transport == "polling":
            if packet.type is PacketType.PING and packet.data == "probe":
                session.probe(now)
                return eio.encode_ws(Packet(PacketType.PONG, "probe"), session.protocol)
            if packet.type is PacketType.UPGRADE and session.upgrade is Upgrade.PROBING:
                session.complete_upgrade(now)
                return None
            log_once("upgrade", "closing %s: unexpected packet during upgrade", session.id)
            session.fail("parse error", now)
            return None
        session.receive(packet, now)
        return None

    def websocket_closed(self, session: Session, probe_socket: bool, now: float) -> None:
        """The WebSocket of ``session`` went away."""
        if probe_socket and session.transport == "polling":
            session.upgrade = Upgrade.NONE  # a failed upgrade; polling carries on
            session.ws_waker = None
            if session.upgrade_timer is not None:
                session.upgrade_timer.cancel()
                session.upgrade_timer = None
            return
        if session.state is State.OPEN:
            session.fail("transport close", now)
        else:
            session.finish()

    def refuse_websocket(self, decision: AcceptWebSocket | CloseWebSocket, now: float) -> None:
        """A handshake accepted here cannot complete (a bad key, or the
        client left): undo what accepting it started."""
        if isinstance(decision, CloseWebSocket):
            return  # nothing was started
        if not decision.upgrade:
            decision.session.fail("transport error", now)
        else:
            self.websocket_closed(decision.session, True, now)

    # -- timers -----------------------------------------------------------------

    def handle_timeouts(self, now: float) -> float | None:
        """Run what is due; returns the next deadline."""
        self.deadlines.fire(now)
        return self.deadlines.next_deadline()

    def _allowed(self, req: HttpRequest, address: str) -> bool:
        """The ``allow_request`` hook's verdict on a handshake; a hook that
        raises refuses (and is logged), so that a bug never lets everyone in."""
        hook = self.allow_request
        assert hook is not None
        try:
            verdict = hook(Handshake(req.headers, req.query, address))
        except Forbidden as exc:  # the hook's own refusal, with a reason for the client
            raise Forbidden(exc.message, told=True) from None
        except Exception:
            logger.exception("allow_request raised: the handshake from %s is refused", address)
            return False
        if inspect.isawaitable(verdict):
            if inspect.iscoroutine(verdict):
                verdict.close()
            log_once(
                "allow_request-awaitable",
                "allow_request returned an awaitable: it must answer at once; refused",
            )
            return False
        return bool(verdict)

    # -- CORS -------------------------------------------------------------------

    # The policy: ``"*"`` answers ``Access-Control-Allow-Origin: *`` and
    # never sends credentials (the answer is the same for every origin). Any
    # other setting reflects an allowed origin, with ``Vary: Origin`` on every
    # answer since each depends on the Origin, and credentials only with
    # ``cors_credentials``. The opaque origin ``null`` (sandboxed frames,
    # files, some redirects) is never reflected: any page can send it.

    def _origin_allowed(self, origin: str, req: HttpRequest) -> bool:
        setting = self.cors_allowed_origins
        if setting == "*":
            return True
        if origin == "null":
            return False
        if setting is None:
            host = req.headers.get("host", "")
            try:
                netloc = urlsplit(origin).netloc
            except ValueError:  # "http://[" and the like: not a URL, so not ours
                return False
            return bool(host) and netloc == host
        if isinstance(setting, str):
            return origin == setting
        if callable(setting):
            return bool(setting(origin))
        return origin in setting

    def _check_origin(self, req: HttpRequest) -> None:
        origin = req.headers.get("origin")
        if origin is None and "j" in req.query and "referer" in req.headers:
            # Script tags send no Origin; the Referer tells where the page lives.
            try:
                parts = urlsplit(req.headers["referer"])
            except ValueError:
                raise Forbidden(ORIGIN_REFUSED) from None
            origin = f"{parts.scheme}://{parts.netloc}"
        if origin is not None and not self._origin_allowed(origin, req):
            raise Forbidden(ORIGIN_REFUSED)

    def _cors_headers(self, req: HttpRequest) -> dict[str, str]:
        if self.cors_allowed_origins == "*":
            return {"Access-Control-Allow-Origin": "*"}
        origin = req.headers.get("origin")
        if origin is None or not self._origin_allowed(origin, req):
            return {"Vary": "Origin"}
        headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if self.cors_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def _preflight(self, req: HttpRequest) -> HttpResponse:
        origin = req.headers.get("origin")
        if origin is None or not self._origin_allowed(origin, req):
            raise Forbidden(ORIGIN_REFUSED)
        headers = self._cors_headers(req)
        headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        # The allowed headers, never an echo of the requested ones: the
        # browser refuses the request if it wants one not listed.
        if req.headers.get("access-control-request-headers") and self._cors_allow_headers:
            headers["Access-Control-Allow-Headers"] = self._cors_allow_headers
        headers["Access-Control-Max-Age"] = "86400"
        return HttpResponse(204, headers)

    def _error(self, exc: ProtocolError, req: HttpRequest) -> HttpResponse:
        # A refused origin learns nothing through CORS; the answer still
        # varies with the Origin.
        if isinstance(exc, Forbidden):
            headers = {} if self.cors_allowed_origins == "*" else {"Vary": "Origin"}
        else:
            headers = self._cors_headers(req)
        headers["Content-Type"] = "application/json"
        if isinstance(exc, Overloaded):
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return HttpResponse(exc.http_status, headers, json.dumps(exc.to_json()).encode())


class _HandlerListener:
    """The listener of a bare Engine: runs the handlers registered with
    :meth:`Engine.on`, one after another per connection."""

    _EVENTS = ("connect", "message", "disconnect")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.handlers: dict[str, Callable[..., Any]] = {}
        self.runners: dict[str, TaskRunner] = {}

    def on(self, event: str, handler: Handler | None = None) -> Any:
        if event not in self._EVENTS:
            raise InvalidArgument(f"Engine events are {self._EVENTS}, not {event!r}")

        def register(fn: Handler) -> Handler:
            self.handlers[event] = fn
            return fn

        return register if handler is None else register(handler)

    def _submit(self, conn: Connection, event: str, *args: Any) -> None:
        handler = self.handlers.get(event)
        runner = self.runners.get(conn.id)
        if handler is not None and runner is not None:
            runner.submit(handler, conn, *args)

    def on_open(self, conn: Connection) -> None:
        assert self.engine.runtime is not None
        self.runners[conn.id] = self.engine.runtime.serial_runner()
        self._submit(conn, "connect")

    def on_message(self, conn: Connection, data: Data) -> None:
        self._submit(conn, "message", data)

    def on_close(self, conn: Connection, reason: str) -> None:
        self._submit(conn, "disconnect", reason)
        self.runners.pop(conn.id, None)


def _check_node_name(name: str) -> str:
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise InvalidArgument(f"node names are letters, digits, '-' and '_': {name!r}")
    return name


def _parse_peers(
    node_id: str | None, peers: Mapping[str, str] | None
) -> dict[str, tuple[str, int]]:
    """``{"b": "10.0.0.2:8000"}`` as ``{"b": ("10.0.0.2", 8000)}``, checked."""
    if node_id is not None:
        _check_node_name(node_id)
    if not peers:
        return {}
    if node_id is None:
        raise InvalidArgument("peers need a node_id: the node's own name in session ids")
    parsed: dict[str, tuple[str, int]] = {}
    for name, address in peers.items():
        if _check_node_name(name) == node_id:
            continue
        host, colon, port = address.rpartition(":")
        if not colon or not host or not port.isdigit():
            raise InvalidArgument(f"a peer's address is HOST:PORT, not {address!r}")
        parsed[name] = (host.strip("[]"), int(port))
    return parsed
