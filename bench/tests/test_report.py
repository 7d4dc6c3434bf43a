"""The summary arithmetic: medians, ratios in the right direction, targets, noise."""

from __future__ import annotations

from typing import Any

from driver import report
from driver.plan import scenarios
from driver.procs import server_specs

PLAN = scenarios(quick=True)
SERVERS = server_specs()


def run(
    scenario: str, server: str, rnd: int = 1, other: float = 0.0, **result: Any
) -> dict[str, Any]:
    result.setdefault("gen_cpu_pct", 40.0)
    result.setdefault("server_cpu_pct", 99.0)
    result["server_core_other_pct"] = other
    return {"round": rnd, "scenario": scenario, "server": server, "ok": True, "result": result}


def echo(server: str, rnd: int, tput: float, p99: float, other: float = 0.0) -> dict[str, Any]:
    return run("ws-echo", server, rnd, other, throughput=tput, latency={"p99_ms": p99})


def test_median_range_and_ratio_directions() -> None:
    runs = [
        echo("realtime", 1, 30_000, 2.0),
        echo("realtime", 2, 50_000, 4.0),
        echo("realtime", 3, 40_000, 3.0),
        echo("node-socketio", 1, 20_000, 6.0),
    ]
    summary = report.summarize(runs, PLAN, SERVERS)
    ours = summary["ws-echo"]["metrics"]["throughput"]["realtime"]
    assert (ours["median"], ours["low"], ours["high"], ours["n"]) == (40_000, 30_000, 50_000, 3)
    # Throughput: ours / peer. Latency: peer / ours. Both read "x times better".
    assert summary["ws-echo"]["ratios"]["throughput"]["node-socketio"] == 2.0
    assert summary["ws-echo"]["ratios"]["p99"]["node-socketio"] == 2.0


def test_noisy_runs_are_left_out_when_a_clean_one_exists() -> None:
    runs = [
        echo("realtime", 1, 10_000, 9.0, other=60.0),
        echo("realtime", 2, 40_000, 3.0, other=2.0),
        echo("node-socketio", 1, 20_000, 6.0, other=50.0),
    ]
    summary = report.summarize(runs, PLAN, SERVERS)
    assert summary["ws-echo"]["metrics"]["throughput"]["realtime"]["median"] == 40_000
    # Node has only a noisy run: it is used, and flagged.
    assert summary["ws-echo"]["metrics"]["throughput"]["node-socketio"]["median"] == 20_000
    assert summary["ws-echo"]["noisy"] == ["node-socketio"]
    assert "(noisy)" in report.markdown(summary, PLAN, SERVERS)


def test_targets_judge_ratios_memory_and_the_hold() -> None:
    runs = [
        echo("realtime", 1, 60_000, 2.0),
        echo("python-socketio", 1, 10_000, 20.0),
        echo("node-socketio", 1, 50_000, 2.5),
        run("storm-5000", "realtime", throughput=3000, kib_per_conn=16.0),
        run(
            "hold-10000",
            "realtime",
            throughput=2000,
            kib_per_conn=15.0,
            still_open=10_000,
            probed=100,
            answered=100,
        ),
    ]
    verdicts = {t: v for t, v, _ in report.targets(report.summarize(runs, PLAN, SERVERS))}
    assert verdicts["ws-echo: throughput >= Node"] == "met"
    assert verdicts["ws-echo: p99 <= Node"] == "met"
    assert verdicts["ws-echo: >= 5x python-socketio"] == "met"
    assert verdicts["<= 15 KiB per idle WebSocket"] == "NOT met"
    assert verdicts["10,000 concurrent connections in one process"] == "met"
    assert verdicts["polling-echo: >= 2.5x python-socketio"] == "no data"


def test_a_hold_whose_probe_went_unanswered_holds_nothing() -> None:
    runs = [
        run(
            "hold-10000",
            "realtime",
            throughput=2000,
            kib_per_conn=15.0,
            still_open=10_000,
            probed=100,
            answered=97,
        ),
    ]
    summary = report.summarize(runs, PLAN, SERVERS)
    assert summary["hold-10000"]["metrics"]["held"]["realtime"]["median"] == 0


def test_the_compiled_build_is_judged_when_measured_and_both_builds_get_targets() -> None:
    runs = [
        echo("realtime", 1, 40_000, 3.0),
        echo("realtime-compiled", 1, 60_000, 2.0),
        echo("node-socketio", 1, 50_000, 2.5),
    ]
    summary = report.summarize(runs, PLAN, SERVERS)
    ratios = summary["ws-echo"]["ratios"]
    # ours is the compiled build: ahead of Node, and of the pure build
    assert ratios["throughput"]["node-socketio"] == 60_000 / 50_000
    assert ratios["throughput"]["realtime"] == 60_000 / 40_000
    assert ratios["p99"]["node-socketio"] == 2.5 / 2.0
    assert "realtime-compiled" not in ratios["throughput"]
    compiled = {t: v for t, v, _ in report.targets(summary)}
    pure = {t: v for t, v, _ in report.targets(summary, "realtime")}
    assert compiled["ws-echo: throughput >= Node"] == "met"
    assert compiled["ws-echo: p99 <= Node"] == "met"
    assert pure["ws-echo: throughput >= Node"] == "NOT met"
    assert pure["ws-echo: p99 <= Node"] == "NOT met"
    table = report.markdown(summary, PLAN, SERVERS)
    assert '"Ours" in the ratios: realtime compiled (ours).' in table
    assert "| target (realtime compiled (ours)) |" in table
    assert "| target (realtime (ours, pure Python)) |" in table


def test_each_host_is_judged_against_python_socketio_on_that_host() -> None:
    runs = [
        echo("realtime-uvicorn", 1, 30_000, 2.0),
        echo("python-socketio-uvicorn", 1, 10_000, 6.0),
        echo("realtime-eventlet", 1, 20_000, 2.0),
        echo("python-socketio-eventlet", 1, 10_000, 6.0),
        echo("python-socketio", 1, 1_000, 9.0),  # another host's peer: not the measure
    ]
    summary = report.summarize(runs, PLAN, SERVERS)
    rows = report.host_rows(summary, ["uvicorn", "eventlet"])
    assert rows[0] == ("ws-echo on uvicorn: >= 3x python-socketio on uvicorn", "met", "3.00x")
    assert rows[1][1] == "no data"  # polling-echo was not run
    assert rows[2] == ("ws-echo on eventlet: >= 3x python-socketio on eventlet", "NOT met", "2.00x")
    table = report.markdown(summary, PLAN, SERVERS)
    assert "| ws-echo on eventlet: >= 3x python-socketio on eventlet | NOT met | 2.00x |" in table
    assert "ours vs" not in table  # no build of ours ran besides the host pairs


def test_each_host_is_read_against_its_own_floor_on_polling() -> None:
    def polling(server: str, tput: float) -> dict[str, Any]:
        return run("polling-echo", server, throughput=tput, latency={"p99_ms": 5.0})

    runs = [
        polling("realtime-compiled", 5_000),
        polling("realtime-uvicorn", 3_000),
        polling("python-socketio-uvicorn", 1_000),
        polling("floor-uvicorn", 4_000),
        polling("floor-threads", 400),  # nothing else ran on threads
    ]
    summary = report.summarize(runs, PLAN, SERVERS)
    assert report.floor_rows(summary, ["uvicorn", "eventlet", "threads"]) == [
        ("uvicorn", "4.0k", "75%", "25%"),
        ("threads", "400", "—", "—"),
    ]
    # A floor is another host's ceiling: no ratio of ours (the embedded host) to it.
    assert "floor-uvicorn" not in summary["polling-echo"]["ratios"]["throughput"]
    table = report.markdown(summary, PLAN, SERVERS)
    assert "| uvicorn | 4.0k | 75% | 25% |" in table
    assert "ours vs floor" not in table
    assert "ours vs python-socketio on uvicorn" in table


def test_a_floor_serves_only_the_scenarios_it_speaks() -> None:
    floors = [s for s in SERVERS if report.is_floor(s.key)]
    assert [s.key for s in floors] == [f"floor-{host}" for host in report.HOSTS]
    assert all(s.scenarios == ("polling-echo",) and not s.default for s in floors)
