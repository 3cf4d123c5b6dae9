"""The copilot eval suite (HolmesGPT-style cases). Offline by default: the rules' state and
bottleneck are asserted exactly, the explanation's facts are scored by a FunctionModel judge.
``COPILOT_EVAL_LIVE=1`` runs explainer and judge on Bedrock instead (README: SRE copilot > eval)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic_ai import Agent

from behaviour_profiles.telemetry import PrometheusClient
from copilot.eval import EvalCase, live_mode, load_cases, offline_explainer, offline_judge, run_case
from copilot.eval.runner import FactVerdicts
from copilot.settings import CopilotSettings
from standins.scenarios import ScenarioPrometheus

CASES = load_cases(Path(__file__).parent / "cases")


@pytest.fixture(scope="module")
async def eval_prom(prometheus_with_scenarios: ScenarioPrometheus) -> AsyncIterator[PrometheusClient]:
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as client:
        yield client


def _models() -> tuple[object, object]:
    if live_mode():
        model = f"bedrock:{CopilotSettings().bedrock_model_id}"
        return model, model
    return offline_explainer(), offline_judge()


def test_cases_are_loaded() -> None:
    assert [c.name for c in CASES] == ["01_healthy_steady", "02_overload_onset", "03_overload_saturated",
                                       "04_band_from_preset_moves_up"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_eval_case(case: EvalCase, eval_prom: PrometheusClient,
                         prometheus_with_scenarios: ScenarioPrometheus) -> None:
    window = prometheus_with_scenarios.windows[case.scenario]
    explainer, judge = _models()
    result = await run_case(case, eval_prom, window.start, window.end, explainer=explainer,  # type: ignore[arg-type]
                            judge=judge)  # type: ignore[arg-type]
    assert result.state_ok, f"rules decided {result.state}, expected {case.expected_state.value}"
    assert result.bottleneck_ok, f"bottleneck {result.bottleneck}, expected {case.expected_bottleneck.value}"
    assert result.score >= case.min_score, (result.facts, result.explanation)


async def test_offline_judge_reports_missing_facts() -> None:
    judge: Agent[None, FactVerdicts] = Agent(output_type=FactVerdicts)
    verdicts = (await judge.run("EXPLANATION:\nbacklog growing on history\nFACTS:\n- backlog growing\n- occ contention",
                                model=offline_judge())).output
    assert {v.fact: v.present for v in verdicts.verdicts} == {"backlog growing": True, "occ contention": False}
