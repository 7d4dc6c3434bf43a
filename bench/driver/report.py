"""Medians, ranges, ratios, targets and the markdown table of one run.

Cells read "median [min, max]" over the rounds. Ratios always read "how many
times better ours is": throughput ours/peer, latency and memory peer/ours.
Above 1.00x ours is ahead.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from driver.plan import Scenario
from driver.procs import HOSTS, ServerSpec

OURS = "realtime"  # the pure-Python package
OURS_COMPILED = "realtime-compiled"  # the same package, mypyc-compiled (setup.py)
# "Ours" in ratios and targets is the first of these the run measured: the
# compiled build is what `make bench` builds and the build meant for speed.
OUR_BUILDS = (OURS_COMPILED, OURS)
GENERATOR_BOUND_PCT = 90.0  # above this the generator, not the server, may set the pace
# A run during which other work took more than this share of the server's core
# measured that work too; medians use the clean runs when there are any.
NOISY_PCT = 10.0


def is_noisy(run: dict[str, Any]) -> bool:
    return _noise(run) > NOISY_PCT


def _noise(run: dict[str, Any]) -> float:
    """Other work on the server's or the generator's core, whichever is worse."""
    result = run["result"]
    return max(
        float(result.get("server_core_other_pct") or 0.0),
        float(result.get("gen_core_other_pct") or 0.0),
    )


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    higher_is_better: bool
    extract: Callable[[dict[str, Any]], float | None]
    fmt: Callable[[float], str]


def _rate(v: float) -> str:
    return f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}"


def _ms(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    return f"{v:.2f} ms" if v < 10 else f"{v:.0f} ms"


def _kib(v: float) -> str:
    return f"{v:.1f} KiB"


def _count(v: float) -> str:
    return f"{v:,.0f}"


def _get(*path: str) -> Callable[[dict[str, Any]], float | None]:
    def extract(result: dict[str, Any]) -> float | None:
        node: Any = result
        for key in path:
            if not isinstance(node, dict) or node.get(key) is None:
                return None
            node = node[key]
        return float(node)

    return extract


def _held(result: dict[str, Any]) -> float | None:
    # A connection counts as held if it is still open at the end and the
    # sampled acks all came back (the server still answers).
    if result.get("answered") != result.get("probed"):
        return 0.0
    return _get("still_open")(result)


THROUGHPUT = Metric("throughput", "throughput", True, _get("throughput"), _rate)
P99 = Metric("p99", "p99", False, _get("latency", "p99_ms"), _ms)


def metrics_for(scenario: Scenario) -> list[Metric]:
    if scenario.loadgen == "broadcast":
        return [
            Metric("throughput", "deliveries/s", True, _get("throughput"), _rate),
            Metric("p99", "p99 from request", False, _get("latency", "p99_ms"), _ms),
            Metric("p99_emit", "p99 from emit", False, _get("latency_from_emit", "p99_ms"), _ms),
        ]
    if scenario.loadgen == "storm":
        out = [
            Metric("throughput", "conn/s", True, _get("throughput"), _rate),
            Metric("kib_per_conn", "RSS per idle WebSocket", False, _get("kib_per_conn"), _kib),
        ]
        if scenario.key.startswith("hold"):
            out.insert(0, Metric("held", "connections held", True, _held, _count))
        return out
    return [Metric("throughput", "msg/s", True, _get("throughput"), _rate), P99]


@dataclass(frozen=True)
class Stat:
    median: float
    low: float
    high: float
    n: int


def _stat(values: Sequence[float]) -> Stat | None:
    if not values:
        return None
    return Stat(statistics.median(values), min(values), max(values), len(values))


def is_floor(server: str) -> bool:
    """A host's polling floor (procs: ``floor-HOST``): read against that host's
    rows (floor_rows), not against ours on another host."""
    return server.startswith("floor-")


def judged_build(measured: Iterable[str]) -> str:
    """Which of our builds the ratios and the targets are about."""
    keys = set(measured)
    return next((build for build in OUR_BUILDS if build in keys), OURS)


def measured_servers(summary: dict[str, Any]) -> set[str]:
    return {
        server
        for entry in summary.values()
        for per_server in entry["metrics"].values()
        for server in per_server
    }


def summarize(
    runs: list[dict[str, Any]], scenarios: list[Scenario], servers: list[ServerSpec]
) -> dict[str, Any]:
    """{scenario: {metric: {server: Stat as dict}}, plus load figures and ratios."""
    out: dict[str, Any] = {}
    directions: dict[str, bool] = {}  # metric key -> higher is better
    for sc in scenarios:
        ok_all = [r for r in runs if r["scenario"] == sc.key and r["ok"]]
        ok: list[dict[str, Any]] = []
        noisy_servers: list[str] = []
        for sp in servers:
            mine = [r for r in ok_all if r["server"] == sp.key]
            clean = [r for r in mine if _noise(r) <= NOISY_PCT]
            ok += clean or mine
            if mine and not clean:
                noisy_servers.append(sp.key)
        entry: dict[str, Any] = {"metrics": {}, "load": {}, "ratios": {}, "noisy": noisy_servers}
        for m in metrics_for(sc):
            per_server: dict[str, Any] = {}
            for sp in servers:
                vals = [
                    v
                    for r in ok
                    if r["server"] == sp.key
                    if (v := m.extract(r["result"])) is not None
                ]
                st = _stat(vals)
                if st is not None:
                    per_server[sp.key] = st.__dict__
            entry["metrics"][m.key] = per_server
            directions[m.key] = m.higher_is_better
        for sp in servers:
            mine = [r["result"] for r in ok if r["server"] == sp.key]
            if mine:
                entry["load"][sp.key] = {
                    "gen_cpu_pct_max": max(float(r.get("gen_cpu_pct", 0)) for r in mine),
                    "server_cpu_pct_median": statistics.median(
                        float(r.get("server_cpu_pct", 0)) for r in mine
                    ),
                    "other_on_server_core_pct_max": max(
                        float(r.get("server_core_other_pct") or 0) for r in mine
                    ),
                    "other_on_gen_core_pct_max": max(
                        float(r.get("gen_core_other_pct") or 0) for r in mine
                    ),
                }
        out[sc.key] = entry
    # Ratios last: the judged build is read from the medians, as markdown()
    # and targets() read it, so all three always agree on which is "ours".
    ours = judged_build(measured_servers(out))
    for entry in out.values():
        entry["ratios"] = {
            key: {
                peer: r
                for peer in per_server
                if peer != ours and not is_floor(peer)
                if (r := _ratio(directions[key], per_server, ours, peer)) is not None
            }
            for key, per_server in entry["metrics"].items()
        }
    return out


def _ratio(
    higher_is_better: bool, per_server: dict[str, Any], ours: str, peer: str
) -> float | None:
    """How many times better ``ours`` is than ``peer`` on one metric."""
    a, b = per_server.get(ours), per_server.get(peer)
    if a is None or b is None or not a["median"] or not b["median"]:
        return None
    ratio: float = a["median"] / b["median"] if higher_is_better else b["median"] / a["median"]
    return ratio


def _median(summary: dict[str, Any], scenario: str, metric: str, server: str) -> float | None:
    st = summary.get(scenario, {}).get("metrics", {}).get(metric, {}).get(server)
    return None if st is None else float(st["median"])


_HIGHER_IS_BETTER = {"throughput": True, "p99": False}  # the metrics targets compare


def targets(summary: dict[str, Any], ours: str | None = None) -> list[tuple[str, str, str]]:
    """(target, verdict, evidence) for each target, for one of our builds
    (by default the judged one)."""
    if ours is None:
        ours = judged_build(measured_servers(summary))
    rows: list[tuple[str, str, str]] = []

    def ratio_row(name: str, scenario: str, metric: str, peer: str, need: float) -> None:
        per_server = summary.get(scenario, {}).get("metrics", {}).get(metric, {})
        r = _ratio(_HIGHER_IS_BETTER[metric], per_server, ours, peer)
        if r is None:
            rows.append((name, "no data", ""))
        else:
            rows.append((name, "met" if r >= need else "NOT met", f"{r:.2f}x (need {need:g}x)"))

    for sc in ("ws-echo", "ws-ack", "broadcast-1000", "broadcast-5000", "polling-echo"):
        ratio_row(f"{sc}: throughput >= Node", sc, "throughput", "node-socketio", 1.0)
        ratio_row(f"{sc}: p99 <= Node", sc, "p99", "node-socketio", 1.0)
    ratio_row("connect storm: conn/s >= Node", "storm-5000", "throughput", "node-socketio", 1.0)
    for sc in ("ws-echo", "broadcast-1000", "broadcast-5000"):
        ratio_row(f"{sc}: >= 5x python-socketio", sc, "throughput", "python-socketio", 5.0)
    ratio_row(
        "polling-echo: >= 2.5x python-socketio",
        "polling-echo",
        "throughput",
        "python-socketio",
        2.5,
    )
    kib = _median(summary, "storm-5000", "kib_per_conn", ours)
    if kib is None:
        rows.append(("<= 15 KiB per idle WebSocket", "no data", ""))
    else:
        rows.append(("<= 15 KiB per idle WebSocket", "met" if kib <= 15 else "NOT met", _kib(kib)))
    held = summary.get("hold-10000", {}).get("metrics", {}).get("held", {}).get(ours)
    if held is None:
        rows.append(("10,000 concurrent connections in one process", "no data", ""))
    else:
        low = float(held["low"])
        verdict = "met" if low >= 10_000 else "NOT met"
        rows.append(("10,000 concurrent connections in one process", verdict, f"{low:,.0f} held"))
    return rows


HOST_TARGET: Final = 3.0
"""On each other host, ours against python-socketio on the same host: at least this many times
the throughput on WebSocket echo and polling echo."""


def host_rows(summary: dict[str, Any], hosts: Iterable[str]) -> list[tuple[str, str, str]]:
    """(target, verdict, evidence) per host and echo scenario: ``realtime-HOST``
    against ``python-socketio-HOST``."""
    rows: list[tuple[str, str, str]] = []
    for host in hosts:
        for sc in ("ws-echo", "polling-echo"):
            per_server = summary.get(sc, {}).get("metrics", {}).get("throughput", {})
            r = _ratio(True, per_server, f"realtime-{host}", f"python-socketio-{host}")
            name = f"{sc} on {host}: >= {HOST_TARGET:g}x python-socketio on {host}"
            if r is None:
                rows.append((name, "no data", ""))
            else:
                verdict = "met" if r >= HOST_TARGET else "NOT met"
                rows.append((name, verdict, f"{r:.2f}x"))
    return rows


def floor_rows(summary: dict[str, Any], hosts: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """(host, its floor's polling-echo msg/s, ours as a share of it, python-socketio's)
    per host whose floor ran: how much of what the host's HTTP handling allows each gets."""
    per_server = summary.get("polling-echo", {}).get("metrics", {}).get("throughput", {})

    def share(server: str, floor: float) -> str:
        st = per_server.get(server)
        return "—" if st is None else f"{st['median'] / floor:.0%}"

    rows: list[tuple[str, str, str, str]] = []
    for host in hosts:
        floor = per_server.get(f"floor-{host}")
        if floor is None or not floor["median"]:
            continue
        top = float(floor["median"])
        ours, peer = share(f"realtime-{host}", top), share(f"python-socketio-{host}", top)
        rows.append((host, _rate(top), ours, peer))
    return rows


def _cell(st: dict[str, Any] | None, fmt: Callable[[float], str], noisy: bool) -> str:
    if st is None:
        return "—"
    mark = " (noisy)" if noisy else ""
    if st["n"] == 1:
        return fmt(st["median"]) + mark
    return f"{fmt(st['median'])} [{fmt(st['low'])}, {fmt(st['high'])}]{mark}"


def markdown(summary: dict[str, Any], scenarios: list[Scenario], servers: list[ServerSpec]) -> str:
    measured = measured_servers(summary)
    ours = judged_build(measured)
    # A run of the host pairs alone has no build of ours to take ratios from.
    peers = (
        [s for s in servers if s.key != ours and not is_floor(s.key)] if ours in measured else []
    )
    head = [
        "scenario",
        "metric",
        *(s.label for s in servers),
        *(f"ours vs {p.label}" for p in peers),
    ]
    label = next((s.label for s in servers if s.key == ours), ours)
    lines = [f'"Ours" in the ratios: {label}.', ""] if peers else []
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for sc in scenarios:
        entry = summary.get(sc.key)
        if entry is None:
            continue
        for i, m in enumerate(metrics_for(sc)):
            per = entry["metrics"].get(m.key, {})
            ratios = entry["ratios"].get(m.key, {})
            cells = [sc.title if i == 0 else "", m.title]
            cells += [_cell(per.get(s.key), m.fmt, s.key in entry["noisy"]) for s in servers]
            cells += [f"{ratios[p.key]:.2f}x" if p.key in ratios else "—" for p in peers]
            lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Medians use the runs during which other work took at most {NOISY_PCT:.0f}% of the",
        "server's core and of the generator's; \"(noisy)\": no such run, all runs used.",
        "",
        "CPU, % of one core, over the runs used: load generator (max) / server (median) /",
        "other work on the server's core (max) / other work on the generator's core (max):",
        "",
    ]
    head2 = ["scenario", *(s.label for s in servers)]
    lines += ["| " + " | ".join(head2) + " |", "|" + "---|" * len(head2)]
    for sc in scenarios:
        load = summary.get(sc.key, {}).get("load", {})
        cells = [sc.key]
        for s in servers:
            ld = load.get(s.key)
            if ld is None:
                cells.append("—")
                continue
            flag = " (generator-bound?)" if ld["gen_cpu_pct_max"] > GENERATOR_BOUND_PCT else ""
            cells.append(
                f"{ld['gen_cpu_pct_max']:.0f} / {ld['server_cpu_pct_median']:.0f}"
                f" / {ld['other_on_server_core_pct_max']:.0f}"
                f" / {ld['other_on_gen_core_pct_max']:.0f}{flag}"
            )
        lines.append("| " + " | ".join(cells) + " |")
    hosts = [h for h in HOSTS if {f"realtime-{h}", f"python-socketio-{h}"} <= measured]
    if hosts:
        lines += ["", "| per host: ours (compiled) vs python-socketio | verdict | ratio |"]
        lines += ["|---|---|---|"]
        lines += [f"| {t} | {v} | {e} |" for t, v, e in host_rows(summary, hosts)]
    floors = floor_rows(summary, HOSTS)
    if floors:
        lines += [
            "",
            "| polling-echo: share of the host's floor | floor | ours (compiled) |"
            " python-socketio |",
            "|---|---|---|---|",
        ]
        lines += [f"| {h} | {f} | {o} | {p} |" for h, f, o, p in floors]
    for build in (s for s in servers if s.key in OUR_BUILDS and s.key in measured):
        lines += ["", f"| target ({build.label}) | verdict | evidence |", "|---|---|---|"]
        lines += [f"| {t} | {v} | {e} |" for t, v, e in targets(summary, build.key)]
    return "\n".join(lines) + "\n"
