"""Pulumi components: offline plan time per preset against a bare `import pulumi_aws`, and the
profile API Lambda bundle's size.

Both times are measured in this run, on this machine, so the ratio is comparable even when the
machine is busy: the bare import in a fresh interpreter, the plan in-process after one warm-up
plan (best of 3, so one-time imports are not counted twice); goal: plan <= 1.3x the bare import.
The cold plan (fresh interpreter: imports + plan, what a user of `temporal-dsql plan` waits for)
is dominated by importing the pulumi_aws submodules the stack declares resources from, which
`import pulumi_aws` does not load (its submodules are lazy); goal: <= 3x the bare import. The
bundle is built for real (uv, arm64, Python 3.12); goal: < 12 MiB zipped, < 250 MiB unzipped
(Lambda's limit).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._table import BenchRow

__all__ = ["run"]

PRESETS = ("starter", "mid-scale", "high-throughput")
PLAN_GOAL_RATIO = 1.3
ZIPPED_GOAL = 12 * 1024 * 1024
UNZIPPED_GOAL = 250 * 1024 * 1024


def _bare_import_seconds(repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import pulumi_aws"], check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def _cold_plan_seconds(preset: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"from pulumi_temporal_dsql.plan import plan; plan({preset!r})"],
                   check=True, capture_output=True)
    return time.perf_counter() - started


# A deployed stack points at the images it pushed; the defaults would only add a warning per plan.
PUSHED_IMAGES = {"serverImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/temporal-dsql-runtime:bench"}


def _plan_seconds(preset: str, repeats: int = 3) -> float:
    from pulumi_temporal_dsql.plan import plan

    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        result = plan(preset, extra_config=PUSHED_IMAGES)
        best = min(best, time.perf_counter() - started)
        assert result.resources, preset
    return best


COLD_PLAN_GOAL_RATIO = 3.0


def run() -> list[BenchRow]:
    from pulumi_temporal_dsql.lambda_bundle import build_bundle
    from pulumi_temporal_dsql.plan import plan

    rows: list[BenchRow] = []
    # The cold plan first, in fresh interpreters interleaved with the bare import (median of 3
    # each), before this process has loaded anything that would warm the page cache unevenly.
    bare_runs, cold_runs = [], []
    for _ in range(3):
        bare_runs.append(_bare_import_seconds(1))
        cold_runs.append(_cold_plan_seconds("mid-scale"))
    bare, cold = statistics.median(bare_runs), statistics.median(cold_runs)
    rows.append(BenchRow("import pulumi_aws", f"{bare:.2f} s", "reference", True, "",
                         "import pulumi_aws: `python -c 'import pulumi_aws'` wall time, fresh interpreter, median of 3."))
    plan("starter", extra_config=PUSHED_IMAGES)  # warm-up: lazy pulumi_aws submodules and the compiler load once
    for preset in PRESETS:
        seconds = _plan_seconds(preset)
        ratio = seconds / bare
        rows.append(BenchRow(f"plan {preset}", f"{seconds:.2f} s ({ratio:.2f}x)", f"<= {PLAN_GOAL_RATIO}x",
                             ratio <= PLAN_GOAL_RATIO, "",
                             f"plan {preset}: offline plan in process after one warm-up plan, best of 3, as a "
                             "multiple of the bare `import pulumi_aws`."))
    cold_ratio = cold / bare
    rows.append(BenchRow("cold plan mid-scale", f"{cold:.2f} s ({cold_ratio:.1f}x)", f"<= {COLD_PLAN_GOAL_RATIO:g}x",
                         cold_ratio <= COLD_PLAN_GOAL_RATIO,
                         "" if cold_ratio <= COLD_PLAN_GOAL_RATIO else "pulumi_aws submodules",
                         "cold plan mid-scale: `plan('mid-scale')` in a fresh interpreter (imports included: what a "
                         "user of `temporal-dsql plan` waits for), median of 3 interleaved with the bare import. "
                         "It imports the pulumi_aws submodules the stack declares resources from (ec2, ecs, iam, "
                         "lambda_, ...), which `import pulumi_aws` leaves unloaded."))
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as scratch:
        bundle = build_bundle(Path(scratch))
    rows.append(BenchRow("bundle zipped", f"{bundle.zipped_bytes / 2**20:.2f} MiB", "< 12 MiB",
                         bundle.zipped_bytes < ZIPPED_GOAL, "",
                         "bundle zipped: the profile API Lambda zip, built for real (uv, arm64, Python 3.12)."))
    rows.append(BenchRow("bundle unzipped", f"{bundle.unzipped_bytes / 2**20:.1f} MiB", "< 250 MiB",
                         bundle.unzipped_bytes < UNZIPPED_GOAL, "", "bundle unzipped: Lambda's limit is 250 MiB."))
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row.benchmark:60} {row.measured:32} {row.goal:12} {'ok' if row.ok else 'MISSED'}")
