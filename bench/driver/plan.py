"""The scenarios and how long each runs, in quick and full mode."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scenario:
    key: str  # the name in results and tables
    loadgen: str  # the load generator's scenario
    title: str
    args: dict[str, str] = field(default_factory=dict)
    deadline: float = 120.0  # seconds; the generator gives up after it
    every_round: bool = True  # False: only in the first round (the slow hold test)
    servers: tuple[str, ...] | None = None  # None: every server


def scenarios(quick: bool) -> list[Scenario]:
    echo = {"clients": "50", "warmup": "1" if quick else "2", "duration": "2" if quick else "8"}
    bursts = {"warmup-bursts": "1", "bursts": "1" if quick else "3", "burst-timeout": "60"}
    # Joining 5,000 members already warms the server up; quick mode skips the
    # unmeasured burst there, the slowest step of the whole quick run.
    big_bursts = {**bursts, "warmup-bursts": "0" if quick else "1"}
    return [
        Scenario("ws-echo", "ws-echo", "ws-echo: 50 clients, closed loop", dict(echo), 60),
        Scenario("ws-ack", "ws-ack", "ws-ack: 50 clients, closed loop, acks", dict(echo), 60),
        Scenario(
            "broadcast-1000",
            "broadcast",
            "broadcast: 1,000 members, 20 events",
            {"members": "1000", "events": "20", **bursts},
            240,
        ),
        Scenario(
            "broadcast-5000",
            "broadcast",
            "broadcast: 5,000 members, 10 events",
            {"members": "5000", "events": "10", **big_bursts},
            300,
        ),
        Scenario(
            "polling-echo",
            "polling-echo",
            "polling-echo: 50 clients, long-polling",
            dict(echo),
            60,
        ),
        Scenario(
            "storm-5000",
            "storm",
            "connect storm: 5,000 WebSockets, 100 in flight",
            {"conns": "5000", "concurrency": "100"},
            180,
        ),
        Scenario(
            "hold-10000",
            "storm",
            "hold: 10,000 concurrent WebSockets",
            {"conns": "10000", "concurrency": "100", "hold": "5" if quick else "15"},
            300,
            every_round=False,
            # Quick mode checks only our target; the full run holds every server.
            servers=("realtime-compiled", "realtime") if quick else None,
        ),
    ]
