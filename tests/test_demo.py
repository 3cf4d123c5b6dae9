"""`make demo` end to end: the integration test of the whole product.

Runs ``python -m temporal_dsql_devstack.demo`` exactly as the Makefile does (own state directory), and checks
every step passed, the chart is a real PNG, and nothing it started is left running, also when
it is interrupted halfway.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from temporal_dsql_devstack.chart import load_comparison
from temporal_dsql_devstack.state import StackState
from temporal_dsql_standins._process import pid_alive

pytestmark = pytest.mark.standins

ROOT = Path(__file__).resolve().parents[1]
# The demo's own worst case, not a guess: Ctrl-C during bring-up waits for the services already
# starting in parallel (so their PIDs are recorded and stopped, never leaked), each bounded by its
# ready timeout (60 s), then tears down six services (SIGTERM, up to 10-15 s each before SIGKILL).
# The flake hunt saw 60 s exceeded on a loaded 2-core machine; measured 6-18 s when quiet.
TEARDOWN_BOUND_SECONDS = 180


@pytest.fixture
def state_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="demo-test-"))
    path.chmod(0o755)  # PostgreSQL runs as `postgres` under root
    yield path / "state"
    shutil.rmtree(path, ignore_errors=True)


def _recorded_pids(state_dir: Path) -> list[int]:
    state = StackState.load(state_dir)
    return [pid for record in state.services.values() for pid in record.pids]


def test_demo_runs_end_to_end(state_dir: Path) -> None:
    chart = ROOT / "out" / "demo-comparison.png"
    chart.unlink(missing_ok=True)
    # How long it takes is a goal in benchmarks/bench_demo.py (`make bench`), not an assertion here:
    # on a loaded machine the demo works and is slower. The time-out only stops a hung demo.
    result = subprocess.run([sys.executable, "-m", "temporal_dsql_devstack.demo", "--state-dir", str(state_dir)],
                            capture_output=True, text=True, timeout=900, cwd=ROOT,
                            env={**os.environ, "COLUMNS": "160"})
    output = result.stdout + result.stderr
    result_file = ROOT / "out" / "demo-result.json"
    failed = [s for s in json.loads(result_file.read_text())["steps"] if s["status"] != "ok"] \
        if result_file.exists() else "no out/demo-result.json"
    assert result.returncode == 0, f"steps not ok: {failed}\n\n{output[-4000:]}"
    for text in ("offline plan: mid-scale", "healthy-150wps", "overloaded-400wps", "top regressions",
                 "copilot status", "conformance with mid-scale", "where to look next"):
        assert text in output, text
    assert "MISSING" not in output and "FAILED" not in output
    png = chart.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1200, 720)
    # The numbers behind the chart are saved next to it, with both windows.
    saved = load_comparison(ROOT / "out" / "demo-comparison.json")
    assert (saved.a.label, saved.b.label) == ("healthy-150wps", "overloaded-400wps")
    assert saved.a.end <= saved.b.start
    found = json.loads((ROOT / "out" / "demo-result.json").read_text())
    assert found["ok"] and [s["status"] for s in found["steps"]] == ["ok"] * 7
    assert found["health_state"] in ("stressed", "critical"), "the copilot must see the 400 WPS overload"
    # 150 WPS is ~450 transitions/s, inside mid-scale's band and bounds; 400 WPS overloads it.
    assert found["conformance"] == {"healthy-150wps": "conforming", "overloaded-400wps": "drifted"}
    assert not state_dir.exists(), "the demo purges its stack at the end"


def _processes_with_marker(marker: str) -> list[int]:
    """PIDs whose environment carries `marker` (every server the demo starts inherits it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_interrupted_demo_tears_the_stack_down(state_dir: Path) -> None:
    marker = f"TEMPORAL_DSQL_DEMO_TEST={uuid.uuid4().hex}"
    name, value = marker.split("=", 1)
    # Its output goes to a file, not a pipe: a pipe nobody reads until the end blocks the demo
    # once 64 KiB are written.
    log = state_dir.parent / "demo-output.log"
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "temporal_dsql_devstack.demo", "--state-dir", str(state_dir)],
                                   stdout=sink, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                                   env={**os.environ, name: value})
    pids: list[int] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if (state_dir / "state.json").exists():
                pids = _recorded_pids(state_dir)
                if len(pids) >= 3:
                    break
            time.sleep(0.2)
        if len(pids) < 3:
            if process.poll() is not None:
                raise AssertionError(f"the demo exited {process.returncode} before its stack came up; its output:\n"
                                     f"{log.read_text(errors='replace')[-4000:]}")
            raise AssertionError("the stack never came up within 120 s")
        process.send_signal(signal.SIGINT)
        interrupted_at = time.monotonic()
        try:
            process.wait(timeout=TEARDOWN_BOUND_SECONDS)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the demo did not exit within {TEARDOWN_BOUND_SECONDS}s of Ctrl-C; "
                                 f"its output:\n{log.read_text(errors='replace')[-4000:]}") from None
        print(f"demo exited {time.monotonic() - interrupted_at:.1f}s after Ctrl-C")
    finally:
        if process.poll() is None:
            process.kill()
    output = log.read_text(errors="replace")
    assert process.returncode == 130, output[-3000:]
    assert "interrupted" in output
    time.sleep(0.5)
    survivors = [pid for pid in pids if pid_alive(pid)]
    assert survivors == [], f"left running after Ctrl-C: {survivors}"
    # Also the servers that were still starting when Ctrl-C came (not yet in the state file).
    deadline = time.monotonic() + 15
    while _processes_with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    leftovers = [pid for pid in _processes_with_marker(marker) if pid_alive(pid)]
    assert leftovers == [], f"servers the demo started are still running: {leftovers}"
