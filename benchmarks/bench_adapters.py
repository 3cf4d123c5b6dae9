"""Adapters: compile with every discovered adapter (Go, Python, ECS, Compose and any installed
plugin) over all 15 preset x modifier combinations; goal p50 <= 3 ms per compile.

Also reported: what the adapters add on top of the bare compiler, and each adapter's own render
time, so a miss can be traced to its cause.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable

from benchmarks._table import BenchRow
from dsql_config.adapters import ProfileArtifacts, discover_platform_adapters, discover_sdk_adapters
from dsql_config.adapters._artifacts import primed
from dsql_config.compiler import ConfigCompiler
from dsql_config.modifiers import MODIFIERS
from dsql_config.presets import PRESETS

GOAL_P50_MS = 3.0
ROUNDS = 20


def _samples(fn: Callable[[], object], rounds: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run() -> list[BenchRow]:
    combos = list(itertools.product(PRESETS, [None, *MODIFIERS]))
    full = ConfigCompiler()  # every discovered adapter
    core = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    with_adapters: list[float] = []
    without: list[float] = []
    for preset, modifier in combos:
        with_adapters += _samples(lambda p=preset, m=modifier: full.compile(p, m), ROUNDS)
        without += _samples(lambda p=preset, m=modifier: core.compile(p, m), ROUNDS)
    p50 = statistics.median(with_adapters)
    n_adapters = len(discover_sdk_adapters()) + len(discover_platform_adapters())
    rows = [
        BenchRow(benchmark=f"compile + {n_adapters} adapters (15 combos)",
                 measured=f"p50 {p50:.2f} ms, p95 {_p95(with_adapters):.2f} ms",
                 goal=f"p50 <= {GOAL_P50_MS:g} ms", ok=p50 <= GOAL_P50_MS),
        BenchRow(benchmark="adapters' share of compile",
                 measured=f"p50 {p50 - statistics.median(without):.2f} ms",
                 goal="reported", ok=True),
    ]
    result = core.compile("high-throughput", "batch-processor")
    artifacts = ProfileArtifacts(
        profile=result.profile, worker_options=result.worker_options, env=result.env, services=result.services,
        dynamic_config=result.dynamic_config, dynamic_config_yaml=result.dynamic_config_yaml,
        history_shards=result.history_shards)
    for adapter in [*discover_sdk_adapters(), *discover_platform_adapters()]:
        with primed(artifacts):
            samples = _samples(lambda a=adapter: a.render(result.profile), 100)
        rows.append(BenchRow(benchmark=f"render {adapter.name}",
                             measured=f"p50 {statistics.median(samples):.3f} ms", goal="reported", ok=True))
    return rows
