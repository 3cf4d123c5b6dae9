"""Run eval cases: rules decide (asserted), the explainer explains, a judge scores the facts.

Offline (default): the explainer and the judge are pydantic-ai FunctionModels, so the suite is
deterministic and needs no network. Live (``COPILOT_EVAL_LIVE=1``): both run on Bedrock with
``COPILOT_BEDROCK_MODEL_ID`` (see README, "SRE copilot" > eval).
"""

from __future__ import annotations

import os
import re

from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel
from whenever import Instant, TimeDelta

from copilot.assessment import (
    SYSTEM_PROMPT,
    AssessmentContext,
    AssessmentTrigger,
    Explanation,
    build_prompt,
    finalize_assessment,
)
from copilot.eval.cases import EvalCase
from copilot.health import (
    MachineState,
    assess_workers,
    band_for_preset,
    evaluate,
    service_health,
    thresholds_for,
)
from copilot.metrics import InstantQueryClient, collect_signals
from copilot.signals import SignalSnapshot

__all__ = ["EvalResult", "FactVerdicts", "live_mode", "offline_explainer", "offline_judge", "run_case"]


class FactVerdict(BaseModel):
    fact: str
    present: bool


class FactVerdicts(BaseModel):
    verdicts: list[FactVerdict]


class EvalResult(BaseModel):
    name: str
    state: str
    bottleneck: str
    state_ok: bool
    bottleneck_ok: bool
    facts: dict[str, bool]
    score: float
    explanation: str


def live_mode() -> bool:
    return os.environ.get("COPILOT_EVAL_LIVE", "") == "1"


def _prompt_text(messages: list[ModelMessage]) -> str:
    parts = []
    for message in messages:
        for part in getattr(message, "parts", []):
            content = getattr(part, "content", None)
            if isinstance(content, str):
                parts.append(content)
    return "\n".join(parts)


def _echo_explainer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Offline stand-in for the LLM: explains from what the prompt gives it (verdict, rules fired)."""
    prompt = _prompt_text(messages)
    verdict = re.search(r"^Rule verdict: (.*)$", prompt, re.M)
    fired = re.findall(r"\[(?:critical|stressed)\] (\w+) \((\w+)\)", prompt)
    bottleneck = re.search(r"^Bottleneck: (\w+)", prompt, re.M)
    summary = f"Rules verdict: {verdict.group(1) if verdict else 'n/a'}."
    if bottleneck:
        summary += f" Bottleneck: {bottleneck.group(1).replace('_', ' ')}."
    factors = [{"rank": i, "title": gate.replace("_", " "), "detail": f"{gate} on {service}"}
               for i, (gate, service) in enumerate(fired, start=1)]
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"summary": summary, "factors": factors})])


def _keyword_judge(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    prompt = _prompt_text(messages)
    explanation = prompt.split("EXPLANATION:", 1)[-1].split("FACTS:", 1)[0].lower()
    facts = [line[2:].strip() for line in prompt.split("FACTS:", 1)[-1].splitlines() if line.startswith("- ")]
    verdicts = [{"fact": f, "present": all(word in explanation for word in f.lower().split())} for f in facts]
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"verdicts": verdicts})])


def offline_explainer() -> Model:
    return FunctionModel(_echo_explainer, model_name="eval-echo-explainer")


def offline_judge() -> Model:
    return FunctionModel(_keyword_judge, model_name="eval-keyword-judge")


_explainer: Agent[None, Explanation] = Agent(output_type=Explanation, instructions=SYSTEM_PROMPT, name="eval_explainer")
_judge: Agent[None, FactVerdicts] = Agent(
    output_type=FactVerdicts, name="eval_judge",
    instructions="For each fact, say whether the explanation states it (paraphrase counts, contradiction does not).")


async def _snapshots(client: InstantQueryClient, end: Instant, cycles: int) -> list[SignalSnapshot]:
    ats = [end - TimeDelta(seconds=30 * (cycles - 1 - i)) for i in range(cycles)]
    return [await collect_signals(client, at) for at in ats]


async def run_case(case: EvalCase, client: InstantQueryClient, window_start: Instant, window_end: Instant, *,
                   explainer: Model | str, judge: Model | str) -> EvalResult:
    end = window_start + (window_end - window_start) * case.at_fraction
    state = MachineState(band=band_for_preset(case.preset))
    snapshots = await _snapshots(client, end, case.cycles)
    evaluation = None
    for snapshot in snapshots:
        evaluation = evaluate(state, snapshot)
        state = evaluation.current
    assert evaluation is not None
    snap = snapshots[-1]
    workers = assess_workers(evaluation.state, snap, thresholds_for(evaluation.current.band))
    ctx = AssessmentContext(trigger=AssessmentTrigger.SCHEDULED, evaluation=evaluation, workers=workers,
                            services=service_health(evaluation, workers), snapshot=snap, window=snapshots)
    explanation = (await _explainer.run(build_prompt(ctx), model=explainer)).output
    assessment = finalize_assessment(ctx, explanation, workflow_id=f"eval-{case.name}", sequence=1,
                                     assessed_at=snap.observed_at, explained_by="llm")
    text = assessment.summary + "\n" + "\n".join(f"{f.title}: {f.detail}" for f in assessment.factors)
    judge_prompt = "EXPLANATION:\n" + text + "\nFACTS:\n" + "\n".join(f"- {f}" for f in case.expected_output)
    verdicts = (await _judge.run(judge_prompt, model=judge)).output
    facts = {v.fact: v.present for v in verdicts.verdicts if v.fact in case.expected_output}
    score = sum(facts.values()) / len(case.expected_output) if case.expected_output else 1.0
    return EvalResult(name=case.name, state=evaluation.state.value, bottleneck=workers.bottleneck.value,
                      state_ok=evaluation.state is case.expected_state,
                      bottleneck_ok=workers.bottleneck is case.expected_bottleneck,
                      facts=facts, score=score, explanation=text)
