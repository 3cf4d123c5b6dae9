"""Shared fixtures: the offline plan of each preset, run once per session under Pulumi's mocks.

Every plan runs the real stack program (stacks/__main__.py) through `pulumi_temporal_dsql.preview.plan`,
whose mocks record each registration (type, name, parent, inputs) and fake computed outputs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from components_helpers import PRESETS, cached_plan

from pulumi_temporal_dsql.preview.plan import Plan


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    return {preset: cached_plan(preset) for preset in PRESETS}


@pytest.fixture(scope="session")
def plan_for() -> Callable[..., Plan]:
    return cached_plan
