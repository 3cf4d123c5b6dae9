"""Workload shape modifiers (Requirement 3).

A modifier adjusts values relative to the preset and never lowers one below the preset's own:
scales are applied as ``max(base, base x factor)``, durations as ``max(base, value)``, booleans only
switch a feature on.  The one exception, by design, is ``simple-crud``'s partition factor: Requirement
3.4 asks for lower matching partition counts, so it halves the *rate-derived* partition count, but
never below the preset's own partition floor (the value the preset itself never goes under).  The
values the derivation rules size from the partitions (write partitions, forwarder polls, tasks and
rate: `presets.values_a_modifier_may_lower`) follow them down through the same rules, and nothing
else is ever lowered (tested over every preset x modifier).  The trace shows that step as "modifier simple-crud (partitions ...): before → after (lowered, never
below the preset floor)" and explain lists it under the modifier's adjustments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from temporal_dsql_config.errors import UnknownModifierError
from temporal_dsql_core.types import ParameterValue

__all__ = ["MODIFIERS", "Adjustment", "ModifierSpec", "get_modifier"]


@dataclass(frozen=True, slots=True)
class Adjustment:
    kind: Literal["scale", "enable", "at_least"]
    value: ParameterValue
    reason: str


@dataclass(frozen=True, slots=True)
class ModifierSpec:
    name: str
    description: str
    # Partitions: rate-derived count x partition_factor, floor x floor_factor; the partition guard
    # rail expects task throughput = target rate x task_factor.
    partition_factor: float = 1.0
    partition_floor_factor: float = 1.0
    task_factor: float = 1.0
    partition_reason: str = ""
    adjustments: dict[str, Adjustment] = field(default_factory=dict)


MODIFIERS: dict[str, ModifierSpec] = {
    m.name: m
    for m in (
        ModifierSpec(
            name="simple-crud",
            description="Short request/response workflows of one or two quick activities.",
            partition_factor=0.5,
            partition_reason="short request/response tasks need fewer partitions; fewer partitions mean "
                             "fewer empty polls and forwarding hops",
            adjustments={
                "system.enableActivityEagerExecution": Adjustment(
                    "enable", True, "eager activity execution saves a matching round trip per activity"),
                "sdk.disable_eager_activities": Adjustment(
                    "enable", False, "workers accept eagerly dispatched activities"),
            },
        ),
        ModifierSpec(
            name="orchestrator",
            description="Parent workflows fanning out child workflows and many activities.",
            partition_factor=1.0,
            adjustments={
                "sdk.max_concurrent_workflow_tasks": Adjustment(
                    "scale", 1.5, "moderately more workflow-task slots for parent and child workflow tasks"),
                "sdk.workflow_task_pollers": Adjustment("scale", 1.5, "pollers follow the extra workflow-task slots"),
                "limit.numPendingChildExecutions.error": Adjustment(
                    "scale", 2.0, "orchestrators keep more children pending"),
                "matching.forwarderMaxChildrenPerNode": Adjustment(
                    "scale", 2.0, "wider forwarding tree so child-workflow task queues drain to the root quickly"),
                "history.enableParentClosePolicy": Adjustment(
                    "enable", True, "children follow their parent's close policy"),
            },
        ),
        ModifierSpec(
            name="batch-processor",
            description="Large fan-out of activities over a backlog of work items.",
            partition_factor=2.0,
            partition_floor_factor=2.0,
            task_factor=2.0,
            partition_reason="backlogs of activity tasks need more partitions to spread matching load",
            adjustments={
                "sdk.max_concurrent_activities": Adjustment("scale", 2.5, "many concurrent activities per worker"),
                "sdk.activity_task_pollers": Adjustment("scale", 2.0, "pollers follow the extra activity slots"),
                "matching.maxTaskBatchSize": Adjustment("scale", 2.0, "larger task batches for backlogs"),
            },
        ),
        ModifierSpec(
            name="long-running",
            description="Workflows that live minutes to months and receive many workflow tasks.",
            adjustments={
                "sdk.max_cached_workflows": Adjustment(
                    "scale", 4.0, "sticky execution caching keeps long-lived workflows in memory"),
                "sdk.sticky_schedule_to_start_timeout": Adjustment(
                    "at_least", "15s", "a longer sticky timeout keeps work on the worker holding the cache"),
                "system.enableStickyQuery": Adjustment("enable", True, "queries hit the cached workflow"),
            },
        ),
    )
}


def get_modifier(name: str | None) -> ModifierSpec | None:
    if name is None:
        return None
    try:
        return MODIFIERS[name]
    except KeyError:
        raise UnknownModifierError(name, list(MODIFIERS)) from None
