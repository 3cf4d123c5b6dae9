"""The compile output's "why" section: the key values with their rationale and derivation steps.

Rendered from the profile, the compilation trace and the registry through fixed templates (no
LLM, no clock, no randomness). It sits below the compiler, which writes it into every compile
(``why.md``), and the explain module re-exports it, so compile and explain can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporal_dsql_config.models import CompilationTrace, GuardRailResult
from temporal_dsql_config.registry import ParameterRegistry
from temporal_dsql_core.profile import ConfigProfile
from temporal_dsql_core.types import ParameterClassification, ParameterValue

__all__ = ["KEY_VALUES", "fmt", "render_input_notes", "render_why", "title"]

# The values an operator most needs the reasoning for, in reading order (the why section).
KEY_VALUES: tuple[str, ...] = (
    "slo.target_state_transitions_per_sec",
    "history.shards",
    "history.replicas",
    "matching.numTaskqueueReadPartitions",
    "dsql.pool_size",
    "dsql.reservoir_enabled",
    "dsql.reservoir_target_ready",
    "dsql.connection_rate_limit",
    "dsql.distributed_rate_limiter_enabled",
    "dsql.slot_block_enabled",
    "history.persistenceMaxQPS",
    "sdk.worker_count",
    "sdk.max_concurrent_activities",
    "sdk.workflow_task_pollers",
)

_EXPERT = (ParameterClassification.SAFETY, ParameterClassification.TUNING)


def fmt(value: ParameterValue) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if value != "" else '""'  # an unset name (feature off) stays visible


def title(preset: str, modifier: str | None) -> str:
    return preset + (f" + {modifier}" if modifier else "")


def render_why(
    profile: ConfigProfile,
    trace: Sequence[CompilationTrace],
    guard_rail_results: Sequence[GuardRailResult],
    registry: ParameterRegistry,
) -> str:
    """The compile output's "why" section: key values with rationale and derivation steps."""
    by_key = {t.parameter_key: t for t in trace}
    lines = [f"# Why this configuration ({title(profile.preset_name, profile.modifier)})", ""]
    slos = ", ".join(f"{p.key.removeprefix('slo.')}={fmt(p.value)}" for p in profile.slo_params)
    lines += [f"SLO inputs: {slos}.", "", "## Key values", ""]
    for key in KEY_VALUES:
        t = by_key.get(key)
        if t is None or key not in registry:
            continue
        entry = registry.get(key)
        lines.append(f"- **{key} = {fmt(t.final_value)}** ({entry.classification.value}, {t.source}): {entry.rationale}")
        lines += [f"  - {step}" for step in t.derivation_chain]
    overridden = [t for t in trace if t.source == "override"]
    if overridden:
        lines += ["", "## Overrides", ""]
        for t in overridden:
            expert = " (expert override)" if registry.get(t.parameter_key).classification in _EXPERT else ""
            if any("(redundant" in step for step in t.derivation_chain):
                expert = " (redundant: equals the derived value)"
            lines.append(f"- {t.parameter_key}: {fmt(t.base_value)} → {fmt(t.final_value)}{expert}")
    modified = [t for t in trace if t.source == "modifier"]
    if modified:
        lines += ["", f"## Modifier {profile.modifier}", ""]
        lines += [f"- {t.parameter_key}: {fmt(t.base_value)} → {fmt(t.final_value)}" for t in modified]
    lines += ["", "## Guard rails", ""]
    if guard_rail_results:
        lines += [f"- {r.severity.upper()} [{r.rule_name}] {r.message}" for r in guard_rail_results]
    else:
        lines.append("- All guard rails passed (connection count, connection rate, rotation jitter, idle = max, "
                     "reservoir target, DynamoDB tables, token duration, lifetimes, pollers, shards).")
    return "\n".join(lines) + "\n"


def render_input_notes(notes: Sequence[str]) -> str:
    """The why section's "Input notes": legacy names read as another key, names ignored and why."""
    if not notes:
        return ""
    return "\n## Input notes\n\n" + "".join(f"- {n}\n" for n in notes)
