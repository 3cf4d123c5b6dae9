"""Scenario files: a sequence of signal snapshots an SRE can replay through the rules.

    preset: mid-scale          # band and thresholds
    interval_seconds: 30       # time between cycles (how much an unserved task ages per cycle)
    defaults: {pollers: 4.0}   # optional: values every cycle starts from
    cycles:                    # one mapping per evaluation: signal name -> value, null = no series
      - {state_transitions_per_sec: 300.0, backlog_age_sec: 0.2, ...}
      - {repeat: 5, state_transitions_per_sec: 0.0, ...}   # the same cycle five times

Signal names are the fields of ``temporal_dsql_copilot.signals.SignalSnapshot``'s groups (primary, amplifiers,
worker); a name the snapshot does not have is an input error naming the cycle, the allowed names
and the closest spelling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.exceptions import CopilotInputError
from temporal_dsql_copilot.health.thresholds import PRESET_BANDS
from temporal_dsql_copilot.signals import AmplifierSignals, PrimarySignals, SignalSnapshot, WorkerSignals
from temporal_dsql_core.errors import close_matches

__all__ = ["SIGNAL_NAMES", "ScenarioFile", "ScenarioFileError", "load_scenario", "parse_scenario"]

_GROUPS: dict[str, type[BaseModel]] = {"primary": PrimarySignals, "amplifiers": AmplifierSignals,
                                       "worker": WorkerSignals}
_GROUP_OF: dict[str, str] = {name: group for group, model in _GROUPS.items() for name in model.model_fields}
SIGNAL_NAMES: tuple[str, ...] = tuple(_GROUP_OF)
_REPEAT = "repeat"
_START = Instant.from_utc(2026, 1, 1)


class ScenarioFileError(CopilotInputError):
    """A scenario file that cannot be replayed."""


class ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: str = "mid-scale"
    interval_seconds: float = Field(default=30.0, gt=0)
    start: str | None = None
    """ISO 8601 instant of the first cycle (default 2026-01-01T00:00:00Z); cycles follow every interval."""
    description: str | None = None
    defaults: dict[str, float | None] = Field(default_factory=dict)
    cycles: list[dict[str, float | None]] = Field(min_length=1)

    def snapshots(self) -> list[SignalSnapshot]:
        start = Instant.parse_iso(self.start) if self.start else _START
        out = []
        for i, values in enumerate(self.cycles):
            groups: dict[str, dict[str, float | None]] = {g: {} for g in _GROUPS}
            for name, value in {**self.defaults, **values}.items():
                groups[_GROUP_OF[name]][name] = value
            at = (start + TimeDelta(seconds=self.interval_seconds * i)).format_iso()
            out.append(SignalSnapshot(observed_at=at, primary=PrimarySignals(**groups["primary"]),
                                      amplifiers=AmplifierSignals(**groups["amplifiers"]),
                                      worker=WorkerSignals(**groups["worker"])))
        return out


def _check_names(where: str, values: dict[str, Any]) -> None:
    for name in values:
        if name not in _GROUP_OF:
            near = close_matches(name, SIGNAL_NAMES)
            raise ScenarioFileError(
                f"{where}: unknown signal {name!r}.", field=where, allowed=sorted(SIGNAL_NAMES),
                suggestion=f"Did you mean {near[0]!r}?" if near else
                "Signal names are the signal snapshot's field names (see the README, 'Replaying a scenario').")


def _expand(raw_cycles: Any) -> list[dict[str, Any]]:
    if not isinstance(raw_cycles, list) or not raw_cycles:
        raise ScenarioFileError("cycles must be a non-empty list of mappings (signal name -> value).",
                                field="cycles", suggestion="Add at least one cycle: - {state_transitions_per_sec: 300}")
    cycles: list[dict[str, Any]] = []
    for i, cycle in enumerate(raw_cycles, start=1):
        where = f"cycles[{i}]"
        if not isinstance(cycle, dict):
            raise ScenarioFileError(f"{where} must be a mapping of signal name to value.", field=where,
                                    suggestion="Write it as {state_transitions_per_sec: 300, backlog_age_sec: 0.2}.")
        body = dict(cycle)
        repeat = body.pop(_REPEAT, 1)
        if not isinstance(repeat, int) or isinstance(repeat, bool) or not 1 <= repeat <= 10_000:
            raise ScenarioFileError(f"{where}.repeat must be a whole number from 1 to 10000.", field=f"{where}.repeat",
                                    suggestion="Write repeat: 5 to replay the same cycle five times.")
        _check_names(where, body)
        cycles += [body] * repeat
    return cycles


def parse_scenario(data: Any, *, source: str = "scenario") -> ScenarioFile:
    """Validate a decoded scenario (a mapping); every problem is a ScenarioFileError."""
    if not isinstance(data, dict):
        raise ScenarioFileError(f"{source}: a scenario is a mapping with preset, interval_seconds and cycles.",
                                field="scenario", suggestion="See the README, 'Replaying a scenario'.")
    body = dict(data)
    preset = body.get("preset", "mid-scale")
    if preset not in PRESET_BANDS:
        near = close_matches(str(preset), list(PRESET_BANDS))
        raise ScenarioFileError(f"{source}: unknown preset {preset!r}.", field="preset", allowed=sorted(PRESET_BANDS),
                                suggestion=f"Did you mean {near[0]!r}?" if near else "Use the cluster's scale preset.")
    defaults = body.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ScenarioFileError("defaults must be a mapping of signal name to value.", field="defaults",
                                suggestion="Write defaults: {pollers: 4.0}.")
    _check_names("defaults", defaults)
    body["cycles"] = _expand(body.get("cycles"))
    try:
        scenario = ScenarioFile.model_validate(body)
        scenario.snapshots()  # values are numbers or null, the start is an instant
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "scenario"
        raise ScenarioFileError(f"{source}: {where}: {first['msg']}.", field=where,
                                suggestion="Values are numbers or null (no series); interval_seconds is positive.") \
            from None
    except ValueError as exc:
        raise ScenarioFileError(f"{source}: start: {exc}.", field="start",
                                suggestion="Write the start as an ISO 8601 instant, e.g. 2026-01-01T00:00:00Z.") \
            from None
    return scenario


def load_scenario(path: Path) -> ScenarioFile:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScenarioFileError(f"cannot read the scenario file {str(path)!r}: {exc.strerror}.", field="scenario",
                                suggestion="Pass an existing YAML file: copilot eval --scenario incident.yaml") \
            from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioFileError(f"{path}: not valid YAML ({exc}).", field="scenario",
                                suggestion="Check the indentation and the mappings' braces.") from None
    return parse_scenario(data, source=str(path))
