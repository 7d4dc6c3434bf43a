"""HubTransport: a connection's socket served from a hub's callbacks, here
on a real socket pair, with a small selector loop standing in for eventlet's
or gevent's hub (both hubs run the whole interop suite through it:
tests/interop, tests/integrations/test_wsgi.py)."""

from __future__ import annotations

import _socket
import selectors
import socket
from collections.abc import Callable, Iterator

import pytest

from realtime.runtime.hub_transport import HubTransport


class SelectorHub:
    """``watch`` and ``call_later`` on a selector, turned by the test."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.watching: dict[int, dict[int, Callable[[], None]]] = {}
        self.soon: list[Callable[[], None]] = []

    def watch(self, fd: int, readable: bool, callback: Callable[[], None]) -> Callable[[], None]:
        event = selectors.EVENT_READ if readable else selectors.EVENT_WRITE
        callbacks = self.watching.setdefault(fd, {})
        assert event not in callbacks, "watched twice"
        callbacks[event] = callback
        self._register(fd)

        def stop() -> None:
            del self.watching[fd][event]
            self._register(fd)

        return stop

    def _register(self, fd: int) -> None:
        mask = 0
        for event in self.watching.get(fd, {}):
            mask |= event
        if fd in self.selector.get_map():
            if mask:
                self.selector.modify(fd, mask)
            else:
                self.selector.unregister(fd)
                del self.watching[fd]
        elif mask:
            self.selector.register(fd, mask)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        self.soon.append(callback)

    def turn(self) -> None:
        soon, self.soon = self.soon, []
        for callback in soon:
            callback()
        for key, events in self.selector.select(0.05):
            for event in (selectors.EVENT_READ, selectors.EVENT_WRITE):
                callback = self.watching.get(key.fd, {}).get(event)  # type: ignore[arg-type]
                if events & event and callback is not None:
                    callback()

    def run_until(self, done: Callable[[], bool]) -> None:
        for _ in range(2000):  # a hang guard only: each test ends on an event
            if done():
                return
            self.turn()
        raise AssertionError("the hub never got there")


class Recorder:
    """The protocol: what the transport told it."""

    def __init__(self) -> None:
        self.data = b""
        self.paused = 0
        self.resumed = 0
        self.lost = 0
        self.fail_on_data = False

    def data_received(self, data: bytes) -> None:
        if self.fail_on_data:
            raise ValueError("a broken protocol")
        self.data += data

    def pause_writing(self) -> None:
        self.paused += 1

    def resume_writing(self) -> None:
        self.resumed += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost += 1


@pytest.fixture
def served() -> Iterator[tuple[SelectorHub, Recorder, HubTransport, socket.socket]]:
    ours, client = socket.socketpair()
    client.settimeout(10)  # a hang guard only
    for sock in (ours, client):  # small buffers: a write fills them soon
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw = _socket.socket(fileno=ours.detach())
    raw.setblocking(False)
    hub, protocol = SelectorHub(), Recorder()
    transport = HubTransport(raw, hub, protocol)
    yield hub, protocol, transport, client
    client.close()


def read_all(client: socket.socket, hub: SelectorHub, size: int) -> bytes:
    """Read ``size`` bytes, turning the hub between reads so that it writes."""
    data = b""
    client.setblocking(False)
    for _ in range(2000):  # a hang guard only: each read ends on the data or its EOF
        if len(data) >= size:
            break
        hub.turn()
        try:
            chunk = client.recv(65536)
        except BlockingIOError:
            continue
        if not chunk:
            break
        data += chunk
    else:
        raise AssertionError(f"only {len(data)} of {size} bytes arrived")
    client.setblocking(True)
    return data


def test_reads_reach_the_protocol_and_the_end_comes_on_a_later_turn(
    served: tuple[SelectorHub, Recorder, HubTransport, socket.socket],
) -> None:
    hub, protocol, transport, client = served
    client.sendall(b"hello ")
    client.sendall(b"world")
    hub.run_until(lambda: protocol.data == b"hello world")
    client.shutdown(socket.SHUT_WR)
    hub.run_until(transport.is_closing)
    # closed, watches gone, and connection_lost not yet: asyncio calls it
    # on the loop's next turn, never from inside the read
    assert protocol.lost == 0
    assert hub.watching == {}
    hub.turn()
    assert protocol.lost == 1
    assert client.recv(10) == b""  # our end is closed


def test_what_the_kernel_cannot_take_waits_and_backpressure_pauses_then_resumes(
    served: tuple[SelectorHub, Recorder, HubTransport, socket.socket],
) -> None:
    hub, protocol, transport, client = served
    transport.set_write_buffer_limits(high=16 * 1024)
    transport.write(b"small")
    assert transport.get_write_buffer_size() == 0  # taken at once, no watch
    assert client.recv(5) == b"small"
    payload = bytes(range(256)) * 1024  # 256 KiB: far over both buffers
    transport.write(payload)
    assert transport.get_write_buffer_size() > 0
    assert protocol.paused == 1 and protocol.resumed == 0
    assert read_all(client, hub, len(payload)) == payload  # whole, in order
    assert transport.get_write_buffer_size() == 0
    assert protocol.resumed == 1
    fd = next(iter(hub.watching))
    assert list(hub.watching[fd]) == [selectors.EVENT_READ]  # the write watch is gone


def test_close_sends_what_is_buffered_first_and_nothing_after(
    served: tuple[SelectorHub, Recorder, HubTransport, socket.socket],
) -> None:
    hub, protocol, transport, client = served
    payload = b"x" * 200_000
    transport.write(payload)
    transport.close()
    transport.write(b"after the close")  # ignored, as asyncio's transports do
    assert transport.is_closing()
    assert protocol.lost == 0
    received = read_all(client, hub, len(payload) + 100)
    assert received == payload  # everything before the close, nothing after, then EOF
    hub.run_until(lambda: protocol.lost == 1)


def test_abort_drops_the_buffer_and_a_failing_protocol_is_aborted(
    served: tuple[SelectorHub, Recorder, HubTransport, socket.socket],
) -> None:
    hub, protocol, transport, client = served
    protocol.fail_on_data = True
    transport.write(b"y" * 200_000)
    client.sendall(b"boom")
    hub.run_until(lambda: protocol.lost == 1)
    assert transport.get_write_buffer_size() == 0
    assert hub.watching == {}
    received = read_all(client, hub, 200_000)
    assert len(received) < 200_000  # the rest was dropped, not sent
    transport.abort()  # again: nothing more happens
    hub.turn()
    assert protocol.lost == 1
