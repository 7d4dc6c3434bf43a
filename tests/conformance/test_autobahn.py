"""The Autobahn test suite's cases 1 to 7 (framing, pings, reserved bits and
opcodes, fragmentation, UTF-8, closing) against our WebSocket layer, run by
kosoku: every case passes (OK, or NON-STRICT / INFORMATIONAL where the suite
allows a choice). docs/autobahn.md has the verdicts case by case."""

from __future__ import annotations

from .run import CASES, run_cases, verdict


async def test_autobahn_cases_1_to_7_pass() -> None:
    results = await run_cases(CASES)
    assert len(results) >= 240  # the whole of groups 1-7, not an empty selection
    failed = [(r.case_id, verdict(r)) for r in results if not r.passed]
    assert failed == []
