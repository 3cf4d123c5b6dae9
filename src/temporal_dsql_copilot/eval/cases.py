"""Eval cases: a scenario, the verdict the spec expects at every cycle, and the facts to explain.

One YAML file per case (``<cases dir>/<NN_name>.yaml``)::

    description: Every poller disappears while starts keep arriving ...
    clauses: [R14.2, R4.1, R12.3]          # the requirement clauses the case checks
    scenario: {preset: mid-scale, interval_seconds: 30, defaults: {...}, cycles: [...]}
    # or, rendered by the telemetry generator and read back through Prometheus:
    # generator: {scenario: workers-gone, preset: mid-scale, cycles: 10, end_fraction: 0.9}
    expected:
      states: "H*4 S*2 C*4"                # per cycle: H(appy) S(tressed) C(ritical), *N repeats
      bottlenecks: "h*4 w*6"               # h(ealthy) s(erver) w(orker) m(ixed)
    claims:                                # what the description says the signals do
      - {signal: pollers, cycles: "5-", max: 0}
    facts:                                 # judged on the explanation of the last cycle
      numbers: ["0 workflow-task pollers"]
      bottleneck: worker_limited
      actions: ["scale worker"]            # action type + target service, all must be suggested
      forbidden_actions: ["scale history"] # never suggested at any cycle

Expected verdicts come from the requirements (the description says which clause and why), never
from the thresholds; the claims make a case fail when its scenario stops producing the conditions
it describes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from temporal_dsql_copilot.eval.scenario import SIGNAL_NAMES, ScenarioFile, ScenarioFileError, parse_scenario
from temporal_dsql_copilot.health import Bottleneck, HealthState

__all__ = ["CaseFacts", "Claim", "EvalCase", "Expected", "GeneratorSpec", "load_cases", "parse_verdicts"]

_STATES = {"H": HealthState.HAPPY, "S": HealthState.STRESSED, "C": HealthState.CRITICAL}
_BOTTLENECKS = {"h": Bottleneck.HEALTHY, "s": Bottleneck.SERVER_LIMITED, "w": Bottleneck.WORKER_LIMITED,
                "m": Bottleneck.MIXED}
_TOKEN = re.compile(r"^([A-Za-z])(?:\*(\d+))?$")


def parse_verdicts(text: str, alphabet: dict[str, Any], field: str) -> list[Any]:
    """'H*3 S C*2' -> [H, H, H, S, C, C]."""
    out: list[Any] = []
    for token in text.split():
        m = _TOKEN.match(token)
        if m is None or m.group(1) not in alphabet:
            raise ScenarioFileError(f"{field}: cannot read {token!r}.", field=field, allowed=sorted(alphabet),
                                    suggestion="Write letters with an optional repeat, e.g. 'H*3 S*2 C'.")
        out += [alphabet[m.group(1)]] * int(m.group(2) or 1)
    return out


class Claim(BaseModel):
    """A condition on one signal over some cycles ("5-": from cycle 5 on, "2-4", "3", "all")."""

    model_config = ConfigDict(extra="forbid")

    signal: str
    cycles: str = "all"
    min: float | None = None
    max: float | None = None
    absent: bool = False
    """The signal has no series (null) at those cycles."""
    growing: bool = False
    """The signal rises from each of those cycles to the next."""

    @model_validator(mode="after")
    def _known(self) -> Claim:
        if self.signal not in SIGNAL_NAMES:
            raise ValueError(f"unknown signal {self.signal!r}")
        return self

    def indices(self, n: int) -> list[int]:
        if self.cycles == "all":
            return list(range(n))
        first, _, last = self.cycles.partition("-")
        lo = int(first) - 1
        hi = n if (_ and not last) else int(last or first)
        return list(range(max(0, lo), min(n, hi)))

    def describe(self) -> str:
        parts = [f"{self.signal} at cycles {self.cycles}"]
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        if self.absent:
            parts.append("absent")
        if self.growing:
            parts.append("growing")
        return " ".join(parts)


class CaseFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    numbers: list[str] = Field(default_factory=list)
    """Quantities the explanation must state, as an operator reads them ("3,000 ms", "0 workflow-task pollers")."""
    bottleneck: Bottleneck | None = None
    actions: list[str] = Field(default_factory=list)
    """Classes of action ("<type> <service>", e.g. "scale worker") the rules must suggest at the last cycle."""
    forbidden_actions: list[str] = Field(default_factory=list)
    """Classes of action that do not fit the diagnosis: never suggested at any cycle."""


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    states: str
    bottlenecks: str


class GeneratorSpec(BaseModel):
    """A scenario rendered by ``temporal_dsql_standins.scenarios`` and read back through Prometheus."""

    model_config = ConfigDict(extra="forbid")

    scenario: str
    preset: str = "mid-scale"
    cycles: int = Field(ge=1, le=200)
    end_fraction: float = Field(default=1.0, ge=0, le=1)
    """Where in the scenario's window the last cycle falls."""


class EvalCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    clauses: list[str] = Field(min_length=1)
    scenario: ScenarioFile | None = None
    generator: GeneratorSpec | None = None
    expected: Expected
    claims: list[Claim] = Field(default_factory=list)
    facts: CaseFacts = Field(default_factory=CaseFacts)
    min_score: float = Field(default=1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _one_source(self) -> EvalCase:
        if (self.scenario is None) == (self.generator is None):
            raise ValueError("a case has exactly one of scenario (cycles) or generator")
        n = len(self.scenario.cycles) if self.scenario is not None else self.generator.cycles  # type: ignore[union-attr]
        for field, alphabet in (("states", _STATES), ("bottlenecks", _BOTTLENECKS)):
            got = len(parse_verdicts(getattr(self.expected, field), alphabet, f"expected.{field}"))
            if got != n:
                raise ValueError(f"expected.{field} has {got} verdicts for {n} cycles: every cycle is judged")
        return self

    @property
    def expected_states(self) -> list[HealthState]:
        return parse_verdicts(self.expected.states, _STATES, "expected.states")

    @property
    def expected_bottlenecks(self) -> list[Bottleneck]:
        return parse_verdicts(self.expected.bottlenecks, _BOTTLENECKS, "expected.bottlenecks")

    @property
    def preset(self) -> str:
        return self.scenario.preset if self.scenario is not None else self.generator.preset  # type: ignore[union-attr]


def load_cases(directory: Path) -> list[EvalCase]:
    cases = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if isinstance(data.get("scenario"), dict):
            data["scenario"] = parse_scenario(data["scenario"], source=f"{path.name}: scenario")
        cases.append(EvalCase.model_validate({"name": path.stem, **data}))
    return cases
