"""Config compiler speed: compile() p50/p95 per preset and for all 15 preset x modifier combinations.

The goal is judged on CPU time (``time.thread_time``, this thread only, so background threads of other libraries do not count), as in bench_adapters: on a busy 2-core
machine wall-clock samples mostly measure the other processes' share of the CPU. The wall clock is
reported next to it.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable

from benchmarks._table import BenchRow
from temporal_dsql_config import ConfigCompiler

PRESETS = ("starter", "mid-scale", "high-throughput")
# Figure names stay within the table's first column in an 80-column terminal.
_SHORT = {"high-throughput": "high-thru"}
MODIFIERS = (None, "simple-crud", "orchestrator", "batch-processor", "long-running")
GOAL_P50_MS = 1.0
ROUNDS = 200


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _measure(compiler: ConfigCompiler, combos: list[tuple[str, str | None]], rounds: int,
             clock: Callable[[], float] = time.thread_time) -> list[float]:
    for preset, modifier in combos:  # warm caches (registry plans, adapter discovery)
        compiler.compile(preset, modifier)
    samples: list[float] = []
    for _ in range(rounds):
        for preset, modifier in combos:
            start = clock()
            compiler.compile(preset, modifier)
            samples.append((clock() - start) * 1000)
    return samples


def _by_preset(samples: list[float]) -> list[list[float]]:
    """Round-robin samples of the presets split back into one list per preset."""
    return [samples[i::len(PRESETS)] for i in range(len(PRESETS))]


def _row(name: str, samples: list[float], wall: list[float], what: str) -> BenchRow:
    p50, p95 = statistics.median(samples), _percentile(samples, 0.95)
    # A missed goal with a fastest sample well under it is the shared CPU (caches, frequency, the
    # neighbours' processes on the same 2 cores) stretching every sample, not the code.
    note = "" if p50 <= GOAL_P50_MS else f"min {min(samples):.2f} ms"
    return BenchRow(benchmark=name, measured=f"p50 {p50:.2f} ms CPU", goal=f"<= {GOAL_P50_MS:g} ms",
                    ok=p50 <= GOAL_P50_MS, note=note,
                    description=f"{name}: ConfigCompiler.compile() of {what} without adapters, in process after "
                                f"a warm-up; CPU time (this thread) p50 {p50:.2f} ms, p95 {p95:.2f} ms; wall p50 "
                                f"{statistics.median(wall):.2f} ms.")


def run() -> list[BenchRow]:
    # The compiler core (what the goal is about) and, separately, compile with the installed adapters.
    core = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    # The presets' samples interleaved (one compile of each per round), so a neighbour's burst on
    # the shared cores stretches a few samples of every preset instead of a whole preset's run.
    per_preset = _by_preset(_measure(core, [(p, None) for p in PRESETS], ROUNDS))
    per_preset_wall = _by_preset(_measure(core, [(p, None) for p in PRESETS], ROUNDS // 4, time.perf_counter))
    rows = [_row(f"compile {_SHORT.get(preset, preset)}", per_preset[i], per_preset_wall[i], f"the {preset} preset")
            for i, preset in enumerate(PRESETS)]
    combos = list(itertools.product(PRESETS, MODIFIERS))
    rows.append(_row("compile 15 combos", _measure(core, combos, ROUNDS // 10),
                     _measure(core, combos, ROUNDS // 40, time.perf_counter), "each of the 15 preset x modifier"))
    with_adapters = ConfigCompiler()
    samples = _measure(with_adapters, combos, 4)
    rows.append(BenchRow(
        benchmark="15 combos+adapt.", measured=f"p50 {statistics.median(samples):.2f} ms", goal="reported", ok=True,
        description=f"compile + adapters: the 15 combinations with the discovered SDK/platform adapters (their own "
                    f"cost); p50 {statistics.median(samples):.2f} ms, p95 {_percentile(samples, 0.95):.2f} ms."))
    return rows
