"""Every configuration key a rule-based action names is a parameter the compiler knows.

The prior art recommended dynamic-config keys Temporal never had; here an action's "key" must
resolve to a registered parameter (not an unknown name, not a legacy name the compiler ignores),
so recommend-config, explain and an operator can act on it.
"""

from __future__ import annotations

import pytest

from temporal_dsql_config.registry import default_registry
from temporal_dsql_copilot.assessment.rules import _WORKER_ACTIONS, GATE_ACTIONS

KEYS = sorted(
    {str(params["key"]) for _, _, _, params, _ in GATE_ACTIONS.values() if "key" in params}
    | {str(a.parameters["key"]) for a in _WORKER_ACTIONS.values() if "key" in a.parameters}
)


def test_rules_name_configuration_keys() -> None:
    assert len(KEYS) >= 3


@pytest.mark.parametrize("name", KEYS)
def test_action_key_is_a_registered_parameter(name: str) -> None:
    resolution = default_registry().resolve_name(name)
    assert resolution.key is not None, f"{name}: {resolution.via} ({resolution.note})"
