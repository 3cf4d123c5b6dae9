"""Compare two profiles: config diffs (changed, added, removed), telemetry diffs and version diffs.

Telemetry: the relative change of each metric's mean from A (old) to B (new). Whether a change is
an improvement or a regression comes from the catalog's direction for that metric, never from its
name; the threshold comes from its comparison class (latency 20 %, errors 50 % by default). Beyond
the threshold a change is a warning, beyond threshold x critical_multiplier it is critical.

Ordering: telemetry diffs by severity (critical, warning, info), regressions before improvements,
then by the size of the change, largest first; missing metrics last. Config diffs: removed and
added keys and changed values, ordered by section then key.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import JsonValue

from temporal_dsql_core.metric_catalog import CatalogMetric, ComparisonClass, Direction
from temporal_dsql_core.models import MetricAggregate
from temporal_dsql_core.types import ParameterClassification
from temporal_dsql_profiles.models import (
    BehaviourProfile,
    ComparisonThresholds,
    ConfigDiff,
    ConfigSection,
    ProfileComparison,
    TelemetryDiff,
    TelemetrySummary,
    VersionDiff,
)

__all__ = ["compare_profiles", "compare_telemetry", "config_diffs", "diff_metric"]

_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
_DIRECTION_RANK = {"regressed": 0, "improved": 1, "unchanged": 2, "missing": 3}


def _threshold(metric: CatalogMetric, thresholds: ComparisonThresholds) -> float:
    return {
        ComparisonClass.LATENCY: thresholds.latency_pct,
        ComparisonClass.ERROR: thresholds.error_pct,
        ComparisonClass.THROUGHPUT: thresholds.throughput_pct,
        ComparisonClass.SATURATION: thresholds.saturation_pct,
    }[metric.comparison]


def diff_metric(key: str, metric: CatalogMetric, old: MetricAggregate | None, new: MetricAggregate | None,
                thresholds: ComparisonThresholds) -> TelemetryDiff:
    base: dict[str, Any] = {"metric": key, "group": metric.group, "unit": metric.unit.value,
                            "old_value": old, "new_value": new}
    if old is None or new is None:
        side = "both profiles" if old is None and new is None else ("profile A" if old is None else "profile B")
        return TelemetryDiff(**base, change_pct=None, direction="missing", severity="info",
                             note=f"no data in {side}")
    threshold = _threshold(metric, thresholds)
    if old.mean == 0:
        if new.mean == 0:
            return TelemetryDiff(**base, change_pct=0.0, direction="unchanged", severity="info")
        # From nothing to something: no finite percentage, but a real change (e.g. errors appear).
        worse = metric.direction is Direction.LOWER_IS_BETTER
        return TelemetryDiff(**base, change_pct=None, direction="regressed" if worse else "improved",
                             severity="critical" if worse else "info",
                             note=f"mean went from 0 to {new.mean:g} {metric.unit.value}")
    change = (new.mean - old.mean) / abs(old.mean) * 100
    if abs(change) <= threshold:
        return TelemetryDiff(**base, change_pct=change, direction="unchanged", severity="info")
    higher_is_better = metric.direction is Direction.HIGHER_IS_BETTER
    improved = (change > 0) == higher_is_better
    direction: Literal["improved", "regressed"] = "improved" if improved else "regressed"
    severity: Literal["info", "warning", "critical"] = "info"
    if not improved:
        severity = "critical" if abs(change) > threshold * thresholds.critical_multiplier else "warning"
    return TelemetryDiff(**base, change_pct=change, direction=direction, severity=severity)


def _sort_key(diff: TelemetryDiff) -> tuple[int, int, float, str]:
    size = abs(diff.change_pct) if diff.change_pct is not None else float("inf")
    return (_SEVERITY_RANK[diff.severity], _DIRECTION_RANK[diff.direction], -size, diff.metric)


def compare_telemetry(a: TelemetrySummary, b: TelemetrySummary,
                      thresholds: ComparisonThresholds | None = None) -> list[TelemetryDiff]:
    thresholds = thresholds or ComparisonThresholds()
    diffs = [diff_metric(key, metric, old, b.get(key), thresholds) for key, metric, old in a.items()]
    return sorted(diffs, key=_sort_key)


def _flatten(profile: BehaviourProfile) -> dict[tuple[ConfigSection, str], JsonValue]:
    snap = profile.config_snapshot
    out: dict[tuple[ConfigSection, str], JsonValue] = {}
    for entry in snap.dynamic_config:
        out[("dynamic_config", entry.key)] = entry.value
    for env in snap.server_env_vars:
        out[("server_env", f"{env.service}:{env.name}" if env.service else env.name)] = env.value
    for name, value in snap.worker_options.model_dump(exclude={"other"}).items():
        if value is not None:
            out[("worker_options", name)] = value
    for name, value in snap.worker_options.other.items():
        out[("worker_options", name)] = value
    for name, value in snap.dsql_plugin_config.model_dump(exclude={"other"}).items():
        if value is not None:
            out[("dsql_plugin", name)] = value
    for name, value in snap.dsql_plugin_config.other.items():
        out[("dsql_plugin", name)] = value
    if snap.config_profile is not None:
        out[("config_profile", "preset_name")] = snap.config_profile.preset_name
        out[("config_profile", "modifier")] = snap.config_profile.modifier
        for param in snap.config_profile.all_params():
            out[("config_profile", param.key)] = param.value
    return out


def _classifications(profile: BehaviourProfile) -> dict[str, ParameterClassification]:
    if profile.config_snapshot.config_profile is None:
        return {}
    return {p.key: p.classification for p in profile.config_snapshot.config_profile.all_params()}


def _same(a: JsonValue, b: JsonValue) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) and type(a) is type(b)


def config_diffs(a: BehaviourProfile, b: BehaviourProfile) -> list[ConfigDiff]:
    old, new = _flatten(a), _flatten(b)
    classes = {**_classifications(a), **_classifications(b)}
    diffs: list[ConfigDiff] = []
    for section, key in sorted(old.keys() | new.keys()):
        cls = classes.get(key) if section == "config_profile" else None
        if (section, key) not in new:
            diffs.append(ConfigDiff(section=section, key=key, change="removed", old_value=old[(section, key)],
                                    classification=cls))
        elif (section, key) not in old:
            diffs.append(ConfigDiff(section=section, key=key, change="added", new_value=new[(section, key)],
                                    classification=cls))
        elif not _same(old[(section, key)], new[(section, key)]):
            diffs.append(ConfigDiff(section=section, key=key, change="changed", old_value=old[(section, key)],
                                    new_value=new[(section, key)], classification=cls))
    return diffs


def _version_diffs(a: BehaviourProfile, b: BehaviourProfile) -> list[VersionDiff]:
    pairs: list[tuple[Literal["temporal_server", "dsql_plugin", "worker_code"], object, object]] = [
        ("temporal_server", a.temporal_server_version, b.temporal_server_version),
        ("dsql_plugin", a.dsql_plugin_version, b.dsql_plugin_version),
        ("worker_code", a.worker_code_sha, b.worker_code_sha),
    ]
    return [VersionDiff(component=c, old_version=None if o is None else str(o), new_version=None if n is None else str(n))
            for c, o, n in pairs if o != n]


def compare_profiles(a: BehaviourProfile, b: BehaviourProfile,
                     thresholds: ComparisonThresholds | None = None) -> ProfileComparison:
    """A is the reference (old), B the profile under examination (new)."""
    thresholds = thresholds or ComparisonThresholds()
    return ProfileComparison(
        profile_a_id=a.id, profile_b_id=b.id, thresholds=thresholds,
        config_diffs=config_diffs(a, b),
        telemetry_diffs=compare_telemetry(a.telemetry, b.telemetry, thresholds),
        version_diffs=_version_diffs(a, b),
    )
