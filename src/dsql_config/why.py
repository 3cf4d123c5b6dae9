"""The "why" section of a compilation (Requirement 4.6): deterministic text from the registry's
rationale strings and the compilation trace. No LLM, no randomness.

The explain module (issue 3) may replace ``render_why`` through ``ConfigCompiler.why_renderer``.
"""

from __future__ import annotations

from collections.abc import Sequence

from copilot_core.profile import ConfigProfile
from copilot_core.types import ParameterClassification
from dsql_config.models import CompilationTrace, GuardRailResult
from dsql_config.registry import ParameterRegistry

__all__ = ["KEY_VALUES", "render_why"]

# The values an operator most needs the reasoning for, in reading order.
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


def render_why(
    profile: ConfigProfile,
    trace: Sequence[CompilationTrace],
    guard_rail_results: Sequence[GuardRailResult],
    registry: ParameterRegistry,
) -> str:
    by_key = {t.parameter_key: t for t in trace}
    title = profile.preset_name + (f" + {profile.modifier}" if profile.modifier else "")
    lines = [f"# Why this configuration ({title})", ""]
    slos = ", ".join(f"{p.key.removeprefix('slo.')}={p.value}" for p in profile.slo_params)
    lines += [f"SLO inputs: {slos}.", ""]
    lines += ["## Key values", ""]
    for key in KEY_VALUES:
        t = by_key.get(key)
        if t is None:
            continue
        entry = registry.get(key)
        lines.append(f"- **{key} = {t.final_value}** ({entry.classification.value}, {t.source}): {entry.rationale}")
        for step in t.derivation_chain:
            lines.append(f"  - {step}")
    overridden = [t for t in trace if t.source == "override"]
    if overridden:
        lines += ["", "## Overrides", ""]
        for t in overridden:
            cls = registry.get(t.parameter_key).classification
            expert = " (expert override)" if cls in (ParameterClassification.SAFETY, ParameterClassification.TUNING) else ""
            lines.append(f"- {t.parameter_key}: {t.base_value} → {t.final_value}{expert}")
    modified = [t for t in trace if t.source == "modifier"]
    if modified:
        lines += ["", f"## Modifier {profile.modifier}", ""]
        lines += [f"- {t.parameter_key}: {t.base_value} → {t.final_value}" for t in modified]
    lines += ["", "## Guard rails", ""]
    if guard_rail_results:
        lines += [f"- {r.severity.upper()} [{r.rule_name}] {r.message}" for r in guard_rail_results]
    else:
        lines.append("- All guard rails passed (connection count, connection rate, rotation jitter, idle = max, "
                     "reservoir target, DynamoDB tables, token duration, lifetimes, pollers, shards).")
    return "\n".join(lines) + "\n"
