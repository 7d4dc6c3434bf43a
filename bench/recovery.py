"""What connection state recovery costs a broadcast, and what its sessions hold.

In-process, on the test suite's in-memory connections (no transport, no
kernel): µs per ``sio.emit(..., to="room")`` to 1,000 connected sockets with
recovery off, on, and on with 1,000 disconnected sessions waiting in the room
(best of 5 runs of 2,000 emits); then the memory that 1,000 waiting sessions
hold after 1,000 missed 100-byte broadcasts (tracemalloc), beside the bytes
the store counts against its caps.

    python bench/recovery.py
    PYTHONPATH=build/compiled python bench/recovery.py    # the compiled build
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers_sio import FakeConnection, connect, make_server

import realtime
from realtime.bus.adapter import MemoryAdapter

SOCKETS = 1000
EMITS = 2000
PAYLOAD = {"text": "x" * 100}


def room_of(sio: realtime.Server, n: int) -> list[FakeConnection]:
    conns = []
    for _ in range(n):
        conn = connect(sio)
        conn.take()
        socket = next(s for s in sio.of("/").sockets.values() if s.conn is conn)
        socket.join("room")
        conns.append(conn)
    return conns


def per_emit(sio: realtime.Server, conns: list[FakeConnection]) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(EMITS):
            sio.emit("news", PAYLOAD, to="room")
        best = min(best, time.perf_counter() - start)
        for conn in conns:
            conn.outbox.clear()
    return best / EMITS * 1e6


def main() -> None:
    print("realtime.COMPILED =", realtime.COMPILED)
    runs: list[tuple[str, dict[str, Any], int]] = [
        ("recovery off", {}, 0),
        ("recovery on", {"connection_state_recovery": True}, 0),
        (f"recovery on, {SOCKETS} sessions waiting", {"connection_state_recovery": True}, SOCKETS),
    ]
    for label, options, away in runs:
        sio, _ = make_server(**options)
        conns = room_of(sio, SOCKETS + away)
        for conn in conns[SOCKETS:]:
            conn.lost()
        print(f"{label:40s} {per_emit(sio, conns[:SOCKETS]):8.1f} µs per emit to {SOCKETS}")

    sio, _ = make_server(connection_state_recovery=True)
    conns = room_of(sio, SOCKETS)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for conn in conns:
        conn.lost()
    for _ in range(1000):
        sio.emit("news", PAYLOAD, to="room")
    after = tracemalloc.take_snapshot()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    adapter = sio.of("/").adapter
    assert isinstance(adapter, MemoryAdapter) and adapter.sessions is not None
    store = adapter.sessions
    pid = next(iter(store._sessions))
    counted = store.session_held(pid)
    print(
        f"{store.sessions} sessions after 1000 missed broadcasts: {held / 1e6:.2f} MB allocated "
        f"(log {store.log_held[0]} packets / {store.log_held[1] / 1e6:.2f} MB counted; "
        f"each session counts {counted})"
    )


if __name__ == "__main__":
    main()
