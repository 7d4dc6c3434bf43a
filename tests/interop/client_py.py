"""Runs the interop scenario list with python-socketio's AsyncClient.

The Python twin of ``client.js``: same checks, same names, one JSON line per
check on stdout ({"check": name, "ok": bool, "detail": ...})::

    python client_py.py --transport polling|websocket|upgrade --url http://127.0.0.1:PORT

python-socketio speaks Engine.IO 4 / Socket.IO 5 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import traceback
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import socketio  # type: ignore[import-untyped]
from check_names import CHECKS  # this script runs with its own folder on sys.path

DEBUG = bool(os.environ.get("INTEROP_DEBUG"))
"""Log the clients' traffic to stderr."""
STEP = 5.0  # liveness bound for one awaited reply, not a speed check
CHECK = 15.0  # liveness bound for one whole check
CLOSE = 2.0  # how long a client may take to close

GOOD = {"token": "secret", "user": "alice"}
BAD = {"token": "bad", "user": "mallory"}
CLIENT_BLOB = bytes([0, 1, 2, 253, 254, 255])
SERVER_BLOB = bytes([0, 255, 1, 254])
SERVER_PUSH = bytes([222, 173, 190, 239])
TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}


class CheckFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def expect_equal(actual: Any, expected: Any, what: str = "value") -> None:
    if actual != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {actual!r}")


class Peer:
    """One AsyncClient whose received events queue up by name."""

    def __init__(self, url: str, transports: list[str], *, reconnection: bool = False) -> None:
        self.url = url
        self.transports = transports
        self.client = socketio.AsyncClient(
            reconnection=reconnection,
            reconnection_delay=0.05,
            reconnection_delay_max=0.1,
            randomization_factor=0,
            logger=DEBUG,
            engineio_logger=DEBUG,
        )
        self.queues: defaultdict[str, asyncio.Queue[tuple[Any, ...]]] = defaultdict(asyncio.Queue)
        self.refusals: list[Any] = []
        self.disconnects: list[str] = []
        self.client.on("*", self._any_event)
        self.client.on("connect", self._on_connect)
        self.client.on("disconnect", self._on_disconnect)

    async def _any_event(self, event: str, *args: Any) -> None:
        await self.queues[event].put(args)

    async def _on_connect(self) -> None:
        await self.queues["connect"].put(())

    async def _on_disconnect(self, reason: str) -> None:
        self.disconnects.append(reason)
        await self.queues["disconnect"].put((reason,))

    def _on_refusal(self, *data: Any) -> None:
        self.refusals.append(data[0] if len(data) == 1 else list(data))

    async def connect(self, creds: dict[str, str] | None, namespace: str = "/") -> None:
        """Connects one namespace; raises CheckFailed with the refusal if any."""
        self.client.on("connect_error", self._on_refusal, namespace=namespace)
        connecting = self.client.connect(
            self.url,
            auth=creds,
            transports=self.transports,
            namespaces=[namespace],
            wait_timeout=STEP,
        )
        try:
            await asyncio.wait_for(connecting, STEP + CLOSE)
        except socketio.exceptions.ConnectionError as exc:
            raise CheckFailed(f"refused: {self.refusals!r} ({exc})") from exc
        except asyncio.TimeoutError:
            # After a refusal connect() closes the connection itself, which
            # can stall as close() explains; the refusal is what counts.
            if self.refusals:
                raise CheckFailed(f"refused: {self.refusals!r}") from None
            raise CheckFailed(f"no connection within {STEP + CLOSE} s") from None

    async def next(self, event: str) -> tuple[Any, ...]:
        try:
            return await asyncio.wait_for(self.queues[event].get(), STEP)
        except asyncio.TimeoutError:
            raise CheckFailed(f"no {event!r} event within {STEP} s{self.dropped()}") from None

    async def call(self, event: str, data: Any = None, namespace: str = "/") -> Any:
        try:
            return await self.client.call(event, data, namespace=namespace, timeout=STEP)
        except socketio.exceptions.TimeoutError:
            raise CheckFailed(f"no ack of {event!r} within {STEP} s{self.dropped()}") from None

    def dropped(self) -> str:
        """Why the connection dropped, if it did: the likely cause of a wait
        that timed out."""
        if self.disconnects:
            return f" (disconnected: {', '.join(self.disconnects)})"
        return ""

    async def close(self) -> None:
        # python-engineio's client can end its writer before the CLOSE packet
        # is out; over polling it then waits for a long-poll the server has no
        # reason to answer. Closing is not what the checks are about: give up.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.client.disconnect(), CLOSE)


class Scenarios:
    def __init__(self, url: str, mode: str) -> None:
        self.url = url
        self.mode = mode
        self.transports = TRANSPORTS[mode]
        self.peers: list[Peer] = []
        self.state: dict[str, Any] = {}

    def peer(self, *, reconnection: bool = False) -> Peer:
        peer = Peer(self.url, self.transports, reconnection=reconnection)
        self.peers.append(peer)
        return peer

    @property
    def main(self) -> Peer:
        main: Peer = self.state["main"]
        return main

    async def connect(self) -> Any:
        main = self.peer()

        def on_question(data: dict[str, int]) -> dict[str, int]:
            self.state.setdefault("asked", []).append(data)
            return {"answer": data["n"] * 2}

        main.client.on("question", on_question)

        await main.connect(GOOD)
        self.state["main"] = main
        self.state["who"] = await main.call("whoami")
        sid = main.client.get_sid("/")
        expect(isinstance(sid, str) and bool(sid), f"bad socket id {sid!r}")
        return {"id": sid}

    async def socket_id(self) -> Any:
        expect_equal(self.state["who"]["id"], self.main.client.get_sid("/"), "socket id")
        return self.state["who"]["id"]

    async def protocol(self) -> Any:
        expect_equal(self.state["who"]["protocol"], 4, "Engine.IO protocol")
        return 4

    async def auth_accepted(self) -> Any:
        expect_equal(self.state["who"]["user"], GOOD["user"], "user")
        return GOOD["user"]

    async def event_echo(self) -> Any:
        sent = (
            "hello",
            {"n": 1, "list": [1, "two", None, True, 2.5]},
            "h\u00e9llo \u2713 \U0001f389",
        )
        await self.main.client.emit("echo", sent)
        expect_equal(await self.main.next("echo"), sent, "echoed args")

    async def ack_return_value(self) -> Any:
        expect_equal(await self.main.call("sum", [1, 2, 3, 4]), 10, "ack")

    async def ack_multiple_args(self) -> Any:
        # python-socketio hands several ack arguments over as a tuple, and a
        # single list argument as a list.
        expect_equal(await self.main.call("multi"), ("a", 2, {"k": "v"}), "ack")

    async def ack_server_to_client(self) -> Any:
        reply = await self.main.call("ask_me")
        expect_equal(self.state.get("asked"), [{"n": 21}], "question the server asked")
        expect_equal(reply, {"reply": {"answer": 42}}, "ack")

    async def binary_to_server(self) -> Any:
        sent = {"a": {"b": [1, CLIENT_BLOB, {"c": CLIENT_BLOB}]}, "s": "text"}
        reply = await self.main.call("binary", sent)
        self.state["binary"] = reply
        expect_equal(
            reply["types"], {"a": {"b": ["int", "bytes", {"c": "bytes"}]}, "s": "str"}, "types"
        )
        expect_equal(reply["echo"], sent, "echo")

    async def binary_from_server_ack(self) -> Any:
        expect_equal(
            self.state["binary"]["server"], {"deep": [{"blob": SERVER_BLOB}], "n": 7}, "ack"
        )

    async def binary_from_server_event(self) -> Any:
        expected = ({"nested": {"list": [1, SERVER_PUSH]}}, SERVER_BLOB)
        expect_equal(await self.main.next("binary_push"), expected, "event args")

    async def namespace_admin(self) -> Any:
        admin = self.peer()
        await admin.connect(GOOD, "/admin")
        try:
            who = await admin.call("whoami", namespace="/admin")
            expect_equal(who["nsp"], "/admin", "namespace")
            expect_equal(who["user"], GOOD["user"], "user")
            root = await self.main.call("whoami")
            expect_equal(root["nsp"], "/", "namespace")
            return who["nsp"]
        finally:
            await admin.close()

    async def refused(self, creds: dict[str, str], namespace: str) -> Any:
        peer = self.peer()
        try:
            await peer.connect(creds, namespace)
        except CheckFailed:
            expect(len(peer.refusals) == 1, f"refusals: {peer.refusals!r}")
            return peer.refusals[0]
        finally:
            await peer.close()
        raise CheckFailed(f"connected to {namespace} with {creds!r}")

    async def namespace_unknown(self) -> Any:
        refusal = await self.refused(GOOD, "/nope")
        expect_equal(refusal, {"message": "Invalid namespace"}, "refusal")
        return refusal

    async def auth_refused(self) -> Any:
        refusal = await self.refused(BAD, "/")
        expect_equal(
            refusal, {"message": "not authorized", "data": {"reason": "bad token"}}, "refusal"
        )
        return refusal

    async def rooms(self) -> Any:
        # A and B join, C stays out, B later leaves. Each broadcast is acked to
        # A before the next; a final round trip on each socket flushes what is
        # still queued, so the lists are final.
        peers = {name: self.peer() for name in "ABC"}
        try:
            for peer in peers.values():
                await peer.connect(GOOD)
            a, b = peers["A"], peers["B"]
            expect_equal(await a.call("join", "r1"), True, "join ack")
            expect_equal(await b.call("join", "r1"), True, "join ack")
            await a.call("to_room", {"room": "r1", "msg": "one"})
            await a.call("to_room_others", {"room": "r1", "msg": "two"})
            expect_equal(await b.call("leave", "r1"), True, "leave ack")
            await a.call("to_room", {"room": "r1", "msg": "three"})
            got: dict[str, list[str]] = {}
            for name, peer in peers.items():
                await peer.call("fence")
                queue = peer.queues["room_msg"]
                got[name] = [queue.get_nowait()[0] for _ in range(queue.qsize())]
        finally:
            for peer in peers.values():
                await peer.close()
        self.state["rooms"] = got
        expect_equal(got["C"], [], "messages outside the room")
        expect("one" in got["A"] and "one" in got["B"], f"a member missed a message: {got!r}")
        return got

    async def rooms_skip_sender(self) -> Any:
        got = self.state["rooms"]
        expect("two" not in got["A"], f"the skipped sender got the message: {got!r}")
        expect("two" in got["B"], f"the other member missed the message: {got!r}")

    async def rooms_leave(self) -> Any:
        got = self.state["rooms"]
        expect_equal(got["A"], ["one", "three"], "A")
        expect_equal(got["B"], ["one", "two"], "B")

    async def server_disconnect(self) -> Any:
        peer = self.peer(reconnection=True)
        await peer.connect(GOOD)
        try:
            await peer.client.emit("kick_me")
            (reason,) = await peer.next("disconnect")
            # python-socketio's name for a DISCONNECT packet from the server.
            expect_equal(reason, "server disconnect", "reason")
            return reason
        finally:
            await peer.close()

    async def client_disconnect(self) -> Any:
        # The server records why each socket left; its disconnect handler runs
        # on its own schedule, so ask until the answer is there (bounded).
        peer = self.peer()
        await peer.connect(GOOD)
        sid = peer.client.get_sid("/")
        await peer.close()
        reason = None
        for _ in range(100):
            reason = await self.main.call("disconnect_reason", sid)
            if reason is not None:
                break
            await asyncio.sleep(0.05)
        # python-socketio queues the DISCONNECT packet and then closes the
        # transport without waiting for it to go out, so the server sees
        # either, depending on the race.
        expect(
            reason in ("client namespace disconnect", "transport close"),
            f"reason the server saw: {reason!r}",
        )
        return reason

    async def reconnect(self) -> Any:
        peer = self.peer(reconnection=True)
        await peer.connect(GOOD)
        await peer.next("connect")
        try:
            first = peer.client.get_sid("/")
            await peer.client.emit("drop_me")
            (reason,) = await peer.next("disconnect")
            if reason == "server disconnect" and self.transports == ["polling"]:
                # On polling the Engine.IO spec closes with a CLOSE packet
                # (engine.io does the same), and python-socketio reads that as
                # a deliberate server disconnect and, by its own policy, does
                # not reconnect. What we can check: it was told, cleanly.
                expect(not peer.client.connected, "client still thinks it is connected")
                return {"reason": reason, "reconnects": False}
            if reason == "server disconnect":
                # python-socketio reconnects after a transport error only; a
                # CLOSE packet reads to it as a deliberate server disconnect.
                raise CheckFailed(
                    "the server sent an Engine.IO CLOSE packet instead of dropping the transport"
                )
            await peer.next("connect")
            second = peer.client.get_sid("/")
            expect(second != first, "the reconnected socket kept its old id")
            who = await peer.call("whoami")
            expect_equal(who["id"], second, "socket id")
            return {"reason": reason, "first": first, "second": second}
        finally:
            await peer.close()

    # The order checks use connections of their own, so that in "upgrade"
    # mode the burst crosses the upgrade, and a client that gives up on a long
    # payload does not take the main connection with it.
    async def order_to_server(self) -> Any:
        peer = self.peer()
        await peer.connect(GOOD)
        try:
            for i in range(100):
                await peer.client.emit("seq", i)
            expect_equal(await peer.call("seq_report"), list(range(100)), "order")
        finally:
            await peer.close()

    async def order_to_client(self) -> Any:
        peer = self.peer()
        await peer.connect(GOOD)
        try:
            await peer.client.emit("burst", 100)
            expect_equal(await peer.next("burst_end"), (100,), "burst end")
            queue = peer.queues["burst_item"]
            items = [queue.get_nowait()[0] for _ in range(queue.qsize())]
            expect_equal(items, list(range(100)), "order")
        finally:
            await peer.close()

    async def transport(self) -> Any:
        expected = "polling" if self.mode == "polling" else "websocket"
        expect_equal(self.main.client.transport(), expected, "client transport")
        who = await self.main.call("whoami")
        expect_equal(who["transport"], expected, "server transport")
        return expected

    def checks(self) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
        return [(name, getattr(self, name)) for name in CHECKS]

    async def run(self) -> None:
        first_failed = False
        for name, fn in self.checks():
            if first_failed:
                # Without a first connection every later check would only
                # wait out its own timeout.
                report(name, False, "not run: the first connection failed")
                continue
            try:
                detail = await asyncio.wait_for(fn(), CHECK)
                report(name, True, detail)
            except Exception as exc:
                report(name, False, describe_failure(exc))
                first_failed = name == "connect"
        for peer in self.peers:
            await peer.close()


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, CheckFailed):
        return str(exc)
    if isinstance(exc, asyncio.TimeoutError):
        return "check did not finish in time"
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def report(check: str, ok: bool, detail: Any) -> None:
    line = json.dumps({"check": check, "ok": ok, "detail": detail}, default=repr)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transport", choices=sorted(TRANSPORTS), required=True)
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    if DEBUG:
        logging.basicConfig(level=logging.INFO, format="%(relativeCreated)d %(name)s %(message)s")
    asyncio.run(Scenarios(args.url, args.transport).run())


if __name__ == "__main__":
    main()
