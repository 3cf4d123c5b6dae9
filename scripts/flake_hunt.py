"""Run the stand-in-backed tests several rounds in a row and print which tests failed in any round.

`make flake-hunt` (ROUNDS=5 by default) runs `pytest -m standins` once per round, each round in a
fresh process with its own stand-ins, and writes one JUnit XML per round. The table lists every test
that failed or errored in at least one round, with the rounds it failed in and the first line of its
first failure; the exit status is 1 when any test failed, so the target can gate a change.

A retry around an assertion would hide exactly what this is for: each failure is to be fixed at its
cause (see the readiness rule in `temporal_dsql_standins._process.ManagedProcess.start`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TestRecord:
    name: str
    failed_rounds: list[int] = field(default_factory=list)
    first_message: str = ""


@dataclass
class RoundResult:
    number: int
    seconds: float
    passed: int
    failed: int
    skipped: int
    exit_code: int


def parse_round(report: Path, number: int, records: dict[str, TestRecord]) -> tuple[int, int, int]:
    """Fold one JUnit report into ``records``; return (passed, failed, skipped)."""
    passed = failed = skipped = 0
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            failed += 1
            record = records.setdefault(name, TestRecord(name))
            record.failed_rounds.append(number)
            if not record.first_message:
                text = (problem.get("message") or problem.text or "").strip()
                record.first_message = text.splitlines()[0][:200] if text else problem.tag
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def run_rounds(rounds: int, out_dir: Path, pytest_args: list[str]) -> tuple[list[RoundResult], dict[str, TestRecord]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    records: dict[str, TestRecord] = {}
    results: list[RoundResult] = []
    for number in range(1, rounds + 1):
        report = out_dir / f"round-{number}.xml"
        report.unlink(missing_ok=True)
        print(f"==> flake hunt: round {number}/{rounds}", flush=True)
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "-m", "standins", "-q", "-p", "no:cacheprovider",
             f"--junitxml={report}", *pytest_args], check=False)
        seconds = time.monotonic() - started
        if report.exists():
            passed, failed, skipped = parse_round(report, number, records)
        else:  # pytest died before writing its report: count the whole round as failed
            passed, failed, skipped = 0, 1, 0
            records.setdefault(f"<round {number}>", TestRecord(f"<round {number}>")).failed_rounds.append(number)
        results.append(RoundResult(number, seconds, passed, failed, skipped, completed.returncode))
    return results, records


def render(results: list[RoundResult], records: dict[str, TestRecord]) -> str:
    lines = ["", "flake hunt: pytest -m standins", "",
             f"{'round':>5}  {'seconds':>8}  {'passed':>6}  {'failed':>6}  {'skipped':>7}  exit"]
    for result in results:
        lines.append(f"{result.number:>5}  {result.seconds:>8.0f}  {result.passed:>6}  {result.failed:>6}  "
                     f"{result.skipped:>7}  {result.exit_code}")
    lines.append("")
    if not records:
        lines.append(f"tests that failed in any round: none ({len(results)} rounds)")
    else:
        lines.append(f"tests that failed in any round: {len(records)}")
        for record in sorted(records.values(), key=lambda r: (-len(r.failed_rounds), r.name)):
            rounds = ",".join(str(n) for n in record.failed_rounds)
            lines.append(f"  {record.name}")
            lines.append(f"    failed in rounds {rounds}: {record.first_message}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("build/flake-hunt"))
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    results, records = run_rounds(args.rounds, args.out, args.pytest_args)
    print(render(results, records))
    failed = bool(records) or any(r.exit_code not in (0, 5) for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
