"""Helpers shared by the component tests: cached offline plans and container accessors."""

from __future__ import annotations

import json
from typing import Any

from pulumi_temporal_dsql.preview.plan import Plan, PlannedResource, plan

PRESETS = ("starter", "mid-scale", "high-throughput")
_CACHE: dict[tuple[str, str], Plan] = {}


def cached_plan(preset: str, **extra: str) -> Plan:
    key = (preset, json.dumps(extra, sort_keys=True))
    if key not in _CACHE:
        _CACHE[key] = plan(preset, extra_config=extra)
    return _CACHE[key]


def containers(resource: PlannedResource) -> list[dict[str, Any]]:
    return json.loads(resource.inputs["containerDefinitions"])


def container_env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("environment", [])}


def one(plan_: Plan, typ: str, name: str) -> PlannedResource:
    matches = [r for r in plan_.resources if r.type == typ and r.name == name]
    assert len(matches) == 1, f"{typ} {name}: {len(matches)} matches"
    return matches[0]
