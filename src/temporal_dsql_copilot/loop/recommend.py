"""Recommend config: preset or override changes with evidence from a profile (Req 15.4).

Every recommendation is compiled with the config compiler; an override the guard rails reject is
dropped (and reported), so what is returned always compiles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from temporal_dsql_copilot.loop.conformance import ConformanceReport, assess_conformance
from temporal_dsql_profiles.models import BehaviourProfile, TelemetrySummary

if TYPE_CHECKING:
    from temporal_dsql_config import ConfigCompiler

# The compiler (dsql_config) is imported inside the functions: this module's response model is
# needed when the Lambda app mounts its routes, the compiler only when a request asks for it.

__all__ = ["ConfigRecommendation", "Evidence", "OverrideChange", "RefusedChange", "recommend_config"]

SHARDS_KEY = "history.shards"

ParamValue = bool | int | float | str


class Evidence(BaseModel):
    metric: str
    observed: float
    expected: str


class OverrideChange(BaseModel):
    key: str
    current: ParamValue | None
    proposed: ParamValue
    reason: str


class RefusedChange(BaseModel):
    """A change the deployment would refuse (the history shard count): never proposed as an
    override, reported with the reason and the way out."""

    key: str
    deployed: ParamValue
    proposed: ParamValue
    reason: str
    way_out: str


class ConfigRecommendation(BaseModel):
    current_preset: str
    modifier: str | None
    recommended_preset: str
    overrides: dict[str, ParamValue] = Field(default_factory=dict)
    changes: list[OverrideChange] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    """Overrides dropped because the compiler's guard rails refused them."""
    refused: list[RefusedChange] = Field(default_factory=list)
    """Changes `pulumi up` and `temporal-dsql diff` refuse on an existing cluster (the shard count)."""
    guard_rail_warnings: list[str] = Field(default_factory=list)
    conformance: ConformanceReport
    compiles: bool = True
    summary: str


@dataclass(frozen=True)
class _Rule:
    metric: str
    key: str
    reason: str
    propose: Callable[[float], float]


def _grow(factor: float) -> Callable[[float], float]:
    return lambda value: value * factor


# metric that failed its bound -> the knob that relieves it
_RULES = (
    _Rule("dsql_pool.reservoir_empty_events", "dsql.reservoir_target_ready",
          "The reservoir ran empty: keep more pre-authenticated connections ready.", _grow(1.5)),
    _Rule("dsql_pool.reservoir_size", "dsql.reservoir_target_ready",
          "The reservoir is outside its expected size.", _grow(1.5)),
    _Rule("dsql_pool.pool_in_use_count", "dsql.pool_size", "Connections in use exceed the expected pool.", _grow(1.5)),
    _Rule("latency.persistence_latency_p99", "dsql.pool_size",
          "Persistence calls queue for connections: a larger pool shortens the wait.", _grow(1.5)),
    _Rule("errors.occ_conflicts_per_sec", "history.shards",
          "OCC conflicts are high: more shards spread concurrent writes.", _grow(2.0)),
    _Rule("latency.workflow_schedule_to_start_p99", "sdk.worker_count",
          "Workflow tasks wait for workers: add workers.", _grow(1.5)),
    _Rule("latency.activity_schedule_to_start_p99", "sdk.worker_count",
          "Activity tasks wait for workers: add workers.", _grow(1.5)),
    _Rule("matching.backlog_count", "matching.numTaskqueueReadPartitions",
          "Task-queue backlog: more partitions spread matching load.", _grow(2.0)),
)


def _observed_rate(telemetry: TelemetrySummary) -> float | None:
    agg = telemetry.get("throughput.state_transitions_per_sec")
    return agg.p95 if agg is not None else None


def _preset_for(rate: float) -> str:
    from temporal_dsql_config.presets import PRESETS

    for name, spec in PRESETS.items():
        low, high = spec.throughput_range.min_st_per_sec, spec.throughput_range.max_st_per_sec
        if rate >= low and (high is None or rate <= high):
            return name
    return "high-throughput"


def _typed(current: ParamValue | None, value: float) -> ParamValue:
    if isinstance(current, bool) or current is None:
        return value
    if isinstance(current, int):
        # Power-of-two knobs (shards, partitions) stay powers of two.
        if current > 0 and current & (current - 1) == 0:
            power = 1
            while power < value:
                power *= 2
            return power
        return max(current + 1, round(value))
    return round(value, 3)


def recommend_config(profile: BehaviourProfile, *, preset_name: str | None = None, modifier: str | None = None,
                     compiler: ConfigCompiler | None = None) -> ConfigRecommendation:
    from temporal_dsql_config import ConfigCompiler
    from temporal_dsql_config.errors import DsqlConfigError
    from temporal_dsql_config.presets import PRESETS

    compiler = compiler or ConfigCompiler()
    deployed = profile.config_snapshot.config_profile
    preset = preset_name or (deployed.preset_name if deployed else None) or "starter"
    modifier = modifier if modifier is not None else (deployed.modifier if deployed else None)
    base = compiler.compile(preset, modifier=modifier, sdk="none", platform="none")
    conformance = assess_conformance(preset, profile.telemetry, base.profile.expected_bounds)
    evidence = [Evidence(metric=m.metric, observed=m.observed, expected=f"[{m.lower:g}, {m.upper:g}]")
                for m in conformance.metrics if not m.passed and m.observed is not None]

    rate = _observed_rate(profile.telemetry)
    target = preset
    if rate is not None:
        target = _preset_for(rate)
        if target != preset:
            evidence.insert(0, Evidence(metric="throughput.state_transitions_per_sec (p95)", observed=rate,
                                        expected=PRESETS[preset].throughput_range.description))
    target_profile = base.profile if target == preset else compiler.compile(
        target, modifier=modifier, sdk="none", platform="none").profile

    failed = set(conformance.failed)

    def was(key: str) -> ParamValue | None:
        """The deployed value ("was"): the deployed profile's, else the current preset's."""
        param = (deployed.get_param(key) if deployed else None) or base.profile.get_param(key)
        return param.value if param is not None else None

    refused: list[RefusedChange] = []
    pinned: dict[str, ParamValue] = {}
    deployed_shards = was(SHARDS_KEY)
    target_shards = target_profile.get_param(SHARDS_KEY)
    if (deployed_shards is not None and target_shards is not None and target_shards.value != deployed_shards):
        # Moving presets would change the shard count: refused; the recommendation keeps the
        # deployed count with an override, which is the way out diff and `pulumi up` name too.
        pinned[SHARDS_KEY] = deployed_shards
        refused.append(_shard_refusal(deployed_shards, target_shards.value, f"the move to {target}"))
    changes: list[OverrideChange] = []
    for rule in _RULES:
        if rule.metric not in failed or any(c.key == rule.key for c in changes):
            continue
        param = target_profile.get_param(rule.key)
        current = param.value if param is not None else None
        if not isinstance(current, int | float) or isinstance(current, bool):
            continue
        proposed = _typed(current, rule.propose(float(current)))
        deployed_value = was(rule.key)
        if rule.key == SHARDS_KEY:
            if not any(r.key == SHARDS_KEY for r in refused):
                refused.append(_shard_refusal(deployed_value if deployed_value is not None else current, proposed,
                                              rule.reason))
            continue
        changes.append(OverrideChange(key=rule.key, current=deployed_value, proposed=proposed, reason=rule.reason))

    rejected: list[str] = []
    accepted: list[OverrideChange] = []
    for change in changes:
        trial = {**pinned, **{c.key: c.proposed for c in accepted}, change.key: change.proposed}
        try:
            compiler.compile(target, modifier=modifier, overrides=trial, sdk="none", platform="none")
            accepted.append(change)
        except DsqlConfigError as exc:
            rejected.append(f"{change.key}={change.proposed!r}: {exc}")
    overrides = {**pinned, **{c.key: c.proposed for c in accepted}}
    final = compiler.compile(target, modifier=modifier, overrides=overrides or None, sdk="none", platform="none")
    warnings = [f"[{r.rule_name}] {r.message}" for r in final.guard_rail_results]

    if target == preset and not accepted and not refused:
        summary = (f"Profile {profile.name!r} conforms to {preset}; no change recommended."
                   if conformance.label == "conforming" else
                   f"Profile {profile.name!r} drifted from {preset} ({', '.join(conformance.failed)}), "
                   "but no knob addresses those metrics; investigate before changing config.")
    else:
        parts = [] if target == preset else [f"move from {preset} to {target}"]
        parts += [f"keep {k}={v!r} (the deployed value)" for k, v in pinned.items()]
        parts += [f"set {c.key}={c.proposed!r} (was {c.current!r})" for c in accepted]
        parts += [f"{r.key}={r.proposed!r} (deployed {r.deployed!r}) is REFUSED: {r.way_out}" for r in refused]
        summary = f"For profile {profile.name!r}: " + "; ".join(parts) + "."
    return ConfigRecommendation(current_preset=preset, modifier=modifier, recommended_preset=target,
                                overrides=overrides, changes=accepted, evidence=evidence, rejected=rejected,
                                refused=refused,
                                guard_rail_warnings=warnings, conformance=conformance, summary=summary)


def _shard_refusal(deployed: ParamValue, proposed: ParamValue, why: str) -> RefusedChange:
    return RefusedChange(
        key=SHARDS_KEY, deployed=deployed, proposed=proposed,
        reason=(f"{why}: Temporal's numHistoryShards is fixed when the schema is set up; `pulumi up` refuses the "
                f"change (the protected history-shards parameter) and so does `temporal-dsql diff`."),
        way_out=(f"keep {SHARDS_KEY}={deployed!r} (override it), or deploy a new cluster (a new stack) with "
                 f"{proposed!r} shards and migrate workflows to it"),
    )
