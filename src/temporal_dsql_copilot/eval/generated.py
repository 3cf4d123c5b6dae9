"""Generator cases: scenarios rendered by the telemetry generator, read back through Prometheus.

The generator (``temporal_dsql_standins.scenarios``) writes the series a real cluster exports; a local Prometheus
(the AMP stand-in) answers the copilot's own PromQL over them, so these cases exercise the whole
path from metrics to verdicts. Each case gets its own window; cycles are 30 s apart and end at the
case's ``end_fraction`` of its window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from whenever import Instant, TimeDelta

from temporal_dsql_copilot.eval.cases import EvalCase
from temporal_dsql_copilot.metrics import InstantQueryClient, collect_signals
from temporal_dsql_copilot.signals import SignalSnapshot

if TYPE_CHECKING:
    from temporal_dsql_standins.scenarios import ScenarioWindow

__all__ = ["CYCLE_SECONDS", "WINDOW", "case_instants", "collect_case", "generator_windows"]

CYCLE_SECONDS = 30
WINDOW = TimeDelta(minutes=30)


def generator_windows(cases: Sequence[EvalCase], now: Instant) -> dict[str, ScenarioWindow]:
    """One window per generator case (keyed by case name), back to back before ``now``, not overlapping."""
    from temporal_dsql_standins.scenarios import ScenarioWindow, get_scenario

    windows: dict[str, ScenarioWindow] = {}
    end = now - TimeDelta(minutes=2)
    for i, case in enumerate(c for c in cases if c.generator is not None):
        assert case.generator is not None
        start = end - WINDOW
        windows[case.name] = ScenarioWindow(get_scenario(case.generator.scenario), start, end, seed=100 + i)
        end = start - TimeDelta(minutes=15)  # past the 10 min lead-in of the next window's series
    return windows


def case_instants(case: EvalCase, window: ScenarioWindow) -> list[Instant]:
    assert case.generator is not None
    last = window.start + (window.end - window.start) * case.generator.end_fraction
    n = case.generator.cycles
    return [last - TimeDelta(seconds=CYCLE_SECONDS * (n - 1 - i)) for i in range(n)]


async def collect_case(case: EvalCase, client: InstantQueryClient, window: ScenarioWindow) -> list[SignalSnapshot]:
    """The case's cycles, each one observation of every signal, as the observe loop makes it."""
    return [await collect_signals(client, at) for at in case_instants(case, window)]
