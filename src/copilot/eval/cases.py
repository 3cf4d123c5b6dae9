"""Eval cases in the HolmesGPT layout: ``<cases dir>/<NN_name>/test_case.yaml``.

A case is a telemetry window from the scenario generator, the state and bottleneck the rules must
decide (asserted deterministically) and the facts the explanation must mention (judged).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from copilot.health import Bottleneck, HealthState

__all__ = ["EvalCase", "load_cases"]


class EvalCase(BaseModel):
    name: str
    scenario: str
    """A scenario window name (``standins.scenarios``), e.g. overloaded-400wps."""
    at_fraction: float = Field(ge=0, le=1)
    """Where in the window the last evaluation happens (0 = start, 1 = end)."""
    preset: str = "mid-scale"
    cycles: int = Field(default=4, ge=1)
    """Consecutive evaluations, 30 s apart, ending at ``at_fraction`` (debounce needs several)."""
    expected_state: HealthState
    expected_bottleneck: Bottleneck
    expected_output: list[str]
    """Facts the explanation must contain."""
    tags: list[str] = Field(default_factory=list)
    min_score: float = Field(default=1.0, ge=0, le=1)


def load_cases(directory: Path) -> list[EvalCase]:
    cases = []
    for path in sorted(directory.glob("*/test_case.yaml")):
        data = yaml.safe_load(path.read_text())
        cases.append(EvalCase.model_validate({"name": path.parent.name, **data}))
    return cases
