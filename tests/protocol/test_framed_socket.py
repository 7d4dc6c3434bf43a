"""FramedSocket: a WebSocket on a blocking socket (green on eventlet and
gevent), here on a real socket pair with an OS lock. The client's frames are
built by hand, masked as RFC 6455 requires."""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from realtime.runtime.framed_socket import FramedSocket
from realtime.transports import websocket as ws_framing


def client_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    return head + mask + ws_framing.unmask(payload, mask)


def read_frames(sock: socket.socket) -> list[tuple[int, bytes]]:
    """Every frame the server wrote until it ended the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    frames = []
    pos = 0
    while pos < len(data):
        opcode, size = data[pos] & 0x0F, data[pos + 1] & 0x7F
        pos += 2
        if size == 126:
            (size,) = struct.unpack("!H", data[pos : pos + 2])
            pos += 2
        frames.append((opcode, data[pos : pos + size]))
        pos += size
    return frames


@pytest.fixture
def pair() -> Iterator[tuple[FramedSocket, socket.socket]]:
    server, client = socket.socketpair()
    client.settimeout(10)  # a hang guard only
    server.settimeout(10)
    yield FramedSocket(server, threading.Lock(), max_size=1000, max_fragments=4), client
    server.close()
    client.close()


def test_messages_split_and_joined_across_reads_arrive_whole(
    pair: tuple[FramedSocket, socket.socket],
) -> None:
    channel, client = pair
    wire = client_frame(0x1, b"4hello") + client_frame(0x2, b"\x01\x02")
    wire += client_frame(0x1, "4é".encode(), fin=False) + client_frame(0x0, b"!")
    client.sendall(wire[:3])
    first = threading.Thread(target=lambda: client.sendall(wire[3:]))
    first.start()
    assert channel.receive() == "4hello"
    assert channel.receive() == b"\x01\x02"
    assert channel.receive() == "4é!"
    first.join()
    client.shutdown(socket.SHUT_WR)
    assert channel.receive() is None
    assert channel.receive() is None


def test_a_batch_leaves_in_one_write_and_a_ping_is_answered(
    pair: tuple[FramedSocket, socket.socket],
) -> None:
    channel, client = pair
    client.sendall(client_frame(0x9, b"are you there") + client_frame(0x1, b"2probe"))
    assert channel.receive() == "2probe"
    channel.send(["3probe", b"\x04bin", "x" * 300])
    channel.close(1000)
    frames = read_frames(client)
    assert frames == [
        (0xA, b"are you there"),
        (0x1, b"3probe"),
        (0x2, b"\x04bin"),
        (0x1, b"x" * 300),
        (0x8, struct.pack("!H", 1000)),
    ]
    channel.send(["after the close"])  # does nothing, raises nothing


def test_a_client_close_is_answered_with_its_code_after_what_came_before(
    pair: tuple[FramedSocket, socket.socket],
) -> None:
    channel, client = pair
    close = client_frame(0x8, struct.pack("!H", 4000))
    client.sendall(client_frame(0x1, b"4last") + close + client_frame(0x1, b"4ignored"))
    assert channel.receive() == "4last"
    assert channel.receive() is None
    assert read_frames(client) == [(0x8, struct.pack("!H", 4000))]


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (b"\x81\x05hello", 1002),  # not masked
        (client_frame(0x1, b"x" * 1001), 1009),  # over max_size
        (client_frame(0x1, b"\xff\xfe"), 1007),  # not UTF-8
        (b"".join(client_frame(0x1 if i == 0 else 0x0, b"a", fin=False) for i in range(5)), 1008),
    ],
)
def test_a_broken_stream_closes_with_its_code(
    pair: tuple[FramedSocket, socket.socket], wire: bytes, code: int
) -> None:
    channel, client = pair
    client.sendall(client_frame(0x1, b"4before") + wire)
    assert channel.receive() == "4before"  # what came whole before the fault counts
    assert channel.receive() is None
    assert read_frames(client) == [(0x8, struct.pack("!H", code))]
