"""Run eval cases: rules decide (judged at every cycle), the explainer explains, a judge checks facts.

A case passes when, at every cycle, the state and bottleneck are the ones the spec expects; its
scenario still produces the conditions the case claims; the rules suggest the classes of action
the diagnosis calls for and none that do not fit it; and the explanation of the last cycle states
the facts (the numbers, the bottleneck) in plain words.

Offline (default): the explainer and the judge are pydantic-ai FunctionModels, so the suite is
deterministic and needs no network. Live (``COPILOT_EVAL_LIVE=1``): both run on Bedrock with
``COPILOT_BEDROCK_MODEL_ID`` (see README, "SRE copilot" > eval).
"""

from __future__ import annotations

import os
import re

from pydantic import BaseModel, Field
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

from temporal_dsql_copilot.assessment import SYSTEM_PROMPT, Explanation, build_prompt, finalize_assessment
from temporal_dsql_copilot.eval.cases import EvalCase
from temporal_dsql_copilot.eval.replay import CycleVerdict, ReplayedCycle, replay
from temporal_dsql_copilot.eval.scenario import SIGNAL_NAMES, ScenarioFile
from temporal_dsql_copilot.health import Bottleneck
from temporal_dsql_copilot.signals import SignalSnapshot

__all__ = ["BOTTLENECK_FACTS", "CaseResult", "FactVerdicts", "check_claims", "live_mode", "offline_explainer",
           "offline_judge", "run_case"]

# How an explanation states each bottleneck (the judge looks for these words, not a rule's name).
BOTTLENECK_FACTS: dict[Bottleneck, str] = {
    Bottleneck.WORKER_LIMITED: "bottleneck workers",
    Bottleneck.SERVER_LIMITED: "bottleneck server",
    Bottleneck.MIXED: "bottleneck server workers",
}


class FactVerdict(BaseModel):
    fact: str
    present: bool


class FactVerdicts(BaseModel):
    verdicts: list[FactVerdict]


class CaseResult(BaseModel):
    name: str
    clauses: list[str]
    cycles: list[CycleVerdict]
    mismatches: list[str] = Field(default_factory=list)
    """Cycles whose state or bottleneck differs from the spec's expectation."""
    claim_failures: list[str] = Field(default_factory=list)
    """Conditions the description claims that the scenario no longer produces."""
    action_failures: list[str] = Field(default_factory=list)
    plain_failures: list[str] = Field(default_factory=list)
    """Signal field names found in the explanation (an operator reads words and units)."""
    facts: dict[str, bool] = Field(default_factory=dict)
    score: float = 1.0
    min_score: float = 1.0
    explanation: str = ""

    @property
    def passed(self) -> bool:
        return not (self.mismatches or self.claim_failures or self.action_failures or self.plain_failures) \
            and self.score >= self.min_score

    def problems(self) -> list[str]:
        missing = [f"explanation does not state: {fact}" for fact, ok in self.facts.items() if not ok]
        return self.mismatches + self.claim_failures + self.action_failures + self.plain_failures + missing


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


_BOTTLENECK_WORDS = {"server_limited": "the server cannot keep up", "worker_limited": "the workers cannot keep up",
                     "mixed": "both the server and the workers are under pressure"}


def _echo_explainer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Offline stand-in for the LLM: explains from what the prompt gives it (the verdict in plain words)."""
    prompt = _prompt_text(messages)
    state = re.search(r"^Decided health state: (\w+)", prompt, re.M)
    verdict = re.search(r"^Rule verdict: (.*)$", prompt, re.M)
    bottleneck = re.search(r"^Bottleneck: (\w+)", prompt, re.M)
    summary = f"The cluster is {state.group(1).lower() if state else 'in an unknown state'}. "
    summary += verdict.group(1) if verdict else ""
    if bottleneck and bottleneck.group(1) in _BOTTLENECK_WORDS:
        summary += f" The bottleneck: {_BOTTLENECK_WORDS[bottleneck.group(1)]}."
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"summary": summary, "factors": []})])


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
    instructions="For each fact, say whether the explanation states it (paraphrase counts, contradiction does not). "
                 "A number must appear with its unit.")


def _value(snapshot: SignalSnapshot, signal: str) -> float | None:
    for group in (snapshot.primary, snapshot.amplifiers, snapshot.worker):
        if signal in type(group).model_fields:
            value: float | None = getattr(group, signal)
            return value
    raise KeyError(signal)


def check_claims(case: EvalCase, snapshots: list[SignalSnapshot]) -> list[str]:
    """The claims the scenario no longer meets (empty: the description still holds)."""
    failures = []
    for claim in case.claims:
        indices = claim.indices(len(snapshots))
        values = [_value(snapshots[i], claim.signal) for i in indices]
        bad = []
        for i, v in zip(indices, values, strict=True):
            if claim.absent:
                if v is not None:
                    bad.append(f"cycle {i + 1}: {v:g}")
                continue
            if v is None or (claim.min is not None and v < claim.min) or (claim.max is not None and v > claim.max):
                bad.append(f"cycle {i + 1}: {'no series' if v is None else format(v, 'g')}")
        if claim.growing:
            bad += [f"cycle {indices[k + 1] + 1}: not above cycle {indices[k] + 1}"
                    for k in range(len(values) - 1)
                    if values[k] is None or values[k + 1] is None or values[k + 1] <= values[k]]  # type: ignore[operator]
        if not indices:
            bad.append("no such cycle")
        if bad:
            failures.append(f"claim {claim.describe()} does not hold: {', '.join(bad[:5])}")
    return failures


def _action_class(action_type: str, service: str) -> str:
    return f"{action_type} {service}"


def _judge_actions(case: EvalCase, cycles: list[ReplayedCycle]) -> list[str]:
    failures = []
    last = {_action_class(a.action_type, a.target_service) for a in cycles[-1].verdict.actions}
    failures += [f"cycle {len(cycles)}: no '{wanted}' action suggested" for wanted in case.facts.actions
                 if wanted not in last]
    for c in cycles:
        got = {_action_class(a.action_type, a.target_service) for a in c.verdict.actions}
        failures += [f"cycle {c.verdict.cycle}: '{bad}' suggested, which does not fit the diagnosis"
                     for bad in case.facts.forbidden_actions if bad in got]
    return failures


# Field names that are not also plain words ("pollers" is both).
_FIELD_NAMES = re.compile(r"\b(" + "|".join(sorted((n for n in SIGNAL_NAMES if "_" in n), key=len, reverse=True))
                          + r")\b")


async def run_case(case: EvalCase, *, explainer: Model | str, judge: Model | str,
                   snapshots: list[SignalSnapshot] | None = None) -> CaseResult:
    """Judge one case. Generator cases pass the ``snapshots`` read back from Prometheus."""
    scenario = case.scenario or ScenarioFile(preset=case.preset, cycles=[{}])
    if snapshots is None:
        if case.generator is not None:
            raise ValueError(f"{case.name} is a generator case: pass the snapshots read back from Prometheus")
        snapshots = scenario.snapshots()
    cycles = replay(scenario, snapshots=snapshots)
    result = CaseResult(name=case.name, clauses=case.clauses, cycles=[c.verdict for c in cycles],
                        min_score=case.min_score)
    for c, state, bottleneck in zip(cycles, case.expected_states, case.expected_bottlenecks, strict=True):
        v = c.verdict
        if v.state != state.value or v.bottleneck != bottleneck.value:
            result.mismatches.append(f"cycle {v.cycle}: expected {state.value}/{bottleneck.value}, "
                                     f"got {v.state}/{v.bottleneck} ({v.reason})")
    result.claim_failures = check_claims(case, snapshots)
    result.action_failures = _judge_actions(case, cycles)

    ctx = cycles[-1].context
    explanation = (await _explainer.run(build_prompt(ctx), model=explainer)).output
    assessment = finalize_assessment(ctx, explanation, workflow_id=f"eval-{case.name}", sequence=1,
                                     assessed_at=ctx.snapshot.observed_at, explained_by="llm")
    text = assessment.summary + "\n" + "\n".join(f"{f.title}: {f.detail}" for f in assessment.factors)
    result.explanation = text
    result.plain_failures = [f"the explanation names the field {m!r} instead of saying what it is"
                             for m in sorted(set(_FIELD_NAMES.findall(text)))]
    facts = list(case.facts.numbers)
    if case.facts.bottleneck in BOTTLENECK_FACTS:
        facts.append(BOTTLENECK_FACTS[case.facts.bottleneck])
    if facts:
        judge_prompt = "EXPLANATION:\n" + text + "\nFACTS:\n" + "\n".join(f"- {f}" for f in facts)
        verdicts = (await _judge.run(judge_prompt, model=judge)).output
        result.facts = {f: False for f in facts} | {v.fact: v.present for v in verdicts.verdicts if v.fact in facts}
        result.score = sum(result.facts.values()) / len(facts)
    return result
