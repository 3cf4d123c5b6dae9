"""Small pieces every built-in adapter shares: titles and poller-autoscaling bounds."""

from __future__ import annotations

from temporal_dsql_core.profile import ConfigProfile

__all__ = ["autoscaling_pollers", "profile_title"]

# Defaults of both SDKs' autoscaling poller behaviour (Go PollerBehaviorAutoscalingOptions and
# Python PollerBehaviorAutoscaling): start with 5 pollers, never fewer than 1.
_SDK_INITIAL_POLLERS = 5
# Workflow-task polling alternates between the normal and the sticky queue, so fewer than two
# workflow pollers would starve one of them.
_MIN_WORKFLOW_POLLERS = 2


def autoscaling_pollers(maximum: int, *, workflow: bool) -> tuple[int, int]:
    """(minimum, initial) for an autoscaling poller behaviour whose maximum the preset chose."""
    minimum = min(maximum, _MIN_WORKFLOW_POLLERS if workflow else 1)
    initial = max(minimum, min(_SDK_INITIAL_POLLERS, maximum))
    return minimum, initial


def profile_title(profile: ConfigProfile) -> str:
    """One line naming what was compiled, for the header of every rendered file."""
    modifier = profile.modifier or "none"
    overrides = len(profile.overrides.values)
    return (
        f"Preset {profile.preset_name}, modifier {modifier}, {overrides} override(s); "
        f"compiler {profile.compiler_version}."
    )
