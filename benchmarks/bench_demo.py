"""`make demo` end to end as a person runs it: `python -m temporal_dsql_devstack.demo` as one process, from the
compile and offline plan through the local stack, profiles, comparison, the copilot's assessment and
conformance to the teardown.

One run (it brings up PostgreSQL, moto, Prometheus, Temporal, the API and the worker). Goal: at most
3 minutes on a fresh machine (the demo's own promise in the README). The time was an assertion in
tests/test_demo.py, where a loaded machine made it fail while the demo worked: a speed goal belongs
here, not in a test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._table import BenchRow

__all__ = ["run"]

GOAL_S = 180.0
ROOT = Path(__file__).resolve().parents[1]


def run() -> list[BenchRow]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    workdir.chmod(0o755)  # PostgreSQL runs as `postgres` under root
    try:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "temporal_dsql_devstack.demo", "--state-dir", str(workdir / "state")],
                              capture_output=True, text=True, timeout=900, cwd=ROOT,
                              env={**os.environ, "COLUMNS": "160"})
        elapsed = time.monotonic() - started
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result_file = ROOT / "out" / "demo-result.json"
    steps = json.loads(result_file.read_text())["steps"] if result_file.exists() else []
    slowest = max(steps, key=lambda s: s["seconds"], default=None)
    worked = done.returncode == 0
    ok = worked and elapsed <= GOAL_S
    note = "" if worked else f"demo failed (exit {done.returncode})"
    if worked and not ok and slowest is not None:
        note = f"slowest: {slowest['name'][:28]} {slowest['seconds']:.0f} s"
    return [BenchRow("make demo", f"{elapsed:.0f} s", f"<= {GOAL_S:.0f} s", ok, note,
                     "make demo: `python -m temporal_dsql_devstack.demo` as one process, end to end including teardown; "
                     "per step: " + ", ".join(f"{s['name']} {s['seconds']:.0f} s" for s in steps) + ".")]
