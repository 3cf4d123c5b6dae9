"""Container definitions in the exact form AWS stores them, so a second `pulumi up` shows no diff.

ECS normalises the container JSON it is given: it fills in `essential`, `cpu: 0`, the port
protocol, `hostPort` (equal to `containerPort` in awsvpc mode), empty `environment`,
`mountPoints`, `volumesFrom` and `systemControls` lists, and the health-check defaults. The
provider then compares what it reads back with what the program sends, and every difference
is a task-definition replacement (the top awsx complaint). `normalise` writes those defaults
out explicitly, sorts what ECS treats as a set, and `canonical_json` renders one byte-stable
string. `normalise(normalise(x)) == normalise(x)` is tested as a property.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "HEALTH_CHECK_DEFAULTS",
    "canonical_json",
    "environment",
    "normalise",
    "normalise_container",
]

ContainerDefinition = dict[str, Any]

# What ECS fills in for a health check that leaves them out (RegisterTaskDefinition docs).
HEALTH_CHECK_DEFAULTS: dict[str, int] = {"interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0}

# Lists ECS always returns, even when the request omitted them.
_ALWAYS_LISTS = ("environment", "mountPoints", "portMappings", "volumesFrom", "systemControls")


def environment(env: Mapping[str, str]) -> list[dict[str, str]]:
    """ECS `environment` from a mapping: name/value pairs sorted by name."""
    return [{"name": name, "value": str(env[name])} for name in sorted(env)]


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _sorted_by(items: Iterable[Mapping[str, Any]], *keys: str) -> list[dict[str, Any]]:
    # The whole item breaks ties, so two entries equal on the keys (a named and an unnamed mapping
    # of one port) still come out in one order whatever order they went in.
    return sorted((dict(i) for i in items),
                  key=lambda i: (tuple(str(i.get(k, "")) for k in keys), json.dumps(i, sort_keys=True, default=str)))


def normalise_container(container: Mapping[str, Any], *, network_mode: str = "awsvpc") -> ContainerDefinition:
    """One container definition with every default ECS would add, in canonical order."""
    c: dict[str, Any] = _drop_none(dict(container))
    c.setdefault("essential", True)
    c.setdefault("cpu", 0)
    for key in _ALWAYS_LISTS:
        c.setdefault(key, [])
    # Environment is a set to ECS: sort by name, values are strings.
    c["environment"] = [{"name": str(e["name"]), "value": str(e["value"])} for e in c["environment"]]
    c["environment"] = _sorted_by(c["environment"], "name")
    ports = []
    for mapping in c["portMappings"]:
        port = dict(mapping)
        port.setdefault("protocol", "tcp")
        if network_mode == "awsvpc" and "containerPort" in port:
            port.setdefault("hostPort", port["containerPort"])
        ports.append(port)
    c["portMappings"] = _sorted_by(ports, "containerPort", "protocol")
    c["mountPoints"] = [{"readOnly": False, **m} for m in c["mountPoints"]]
    c["mountPoints"] = _sorted_by(c["mountPoints"], "containerPath", "sourceVolume")
    c["volumesFrom"] = _sorted_by(({"readOnly": False, **v} for v in c["volumesFrom"]), "sourceContainer")
    if "dependsOn" in c:
        c["dependsOn"] = _sorted_by(c["dependsOn"], "containerName")
    if "secrets" in c:
        c["secrets"] = _sorted_by(c["secrets"], "name")
    if "healthCheck" in c:
        c["healthCheck"] = {**HEALTH_CHECK_DEFAULTS, **c["healthCheck"]}
    if "logConfiguration" in c:
        log = dict(c["logConfiguration"])
        log.setdefault("options", {})
        log.setdefault("secretOptions", [])
        c["logConfiguration"] = log
    return c


def normalise(
    containers: Iterable[Mapping[str, Any]], *, network_mode: str = "awsvpc"
) -> list[ContainerDefinition]:
    """Every container normalised, ordered by name (ECS keeps no meaningful order between them)."""
    normalised = [normalise_container(c, network_mode=network_mode) for c in containers]
    return sorted(normalised, key=lambda c: (str(c.get("name", "")), json.dumps(c, sort_keys=True, default=str)))


def canonical_json(containers: Iterable[Mapping[str, Any]], *, network_mode: str = "awsvpc") -> str:
    """The byte-stable JSON string the task definition carries: normalised, keys sorted, compact."""
    return json.dumps(
        normalise(containers, network_mode=network_mode), sort_keys=True, separators=(",", ":")
    )
