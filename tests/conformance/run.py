"""Runs Autobahn cases against the echo endpoint and prints a summary in
markdown (the body of docs/autobahn.md), with every case that was not OK.

    python -m tests.conformance.run ["1.*" "2.*" ...]     # default: cases 1 to 7
"""

from __future__ import annotations

import asyncio
import collections
import platform
import sys
from typing import Any

from kosoku import FailureError, run_fuzzingclient

from .echo import serve

CASES = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*"]


async def run_cases(cases: list[str]) -> list[Any]:
    server, port = await serve()
    try:
        return list(await run_fuzzingclient(f"ws://127.0.0.1:{port}/echo", cases, concurrency=4))
    except FailureError as failed:
        return list(failed.results)
    finally:
        server.close()


def verdict(result: Any) -> str:
    def name(value: Any) -> str:
        return str(value).rpartition(".")[2].replace("_", "-")

    return f"{name(result.behavior)} / {name(result.behavior_close)}"


def summary(results: list[Any], cases: list[str]) -> str:
    by_group: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for result in results:
        by_group[result.case_id.split(".")[0]][verdict(result)] += 1
    lines = [
        f"Cases {', '.join(cases)}: {len(results)} run, "
        f"{sum(r.passed for r in results)} passed (Python {platform.python_version()}).",
        "",
        "| group | cases | verdicts (message / closing handshake) |",
        "|---|---|---|",
    ]
    for group in sorted(by_group, key=int):
        counts = by_group[group]
        text = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
        lines.append(f"| {group} | {sum(counts.values())} | {text} |")
    others = [r for r in results if verdict(r) != "OK / OK"]
    if others:
        lines += ["", "Not plain OK:", "", "| case | verdict | what it sends |", "|---|---|---|"]
        for r in others:
            what = " ".join(r.description.split())[:110]
            lines.append(f"| {r.case_id} | {verdict(r)} | {what} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    cases = sys.argv[1:] or CASES
    results = asyncio.run(run_cases(cases))
    sys.stdout.write(summary(results, cases))
    if not all(r.passed for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
