"""The config compiler: preset + modifier + overrides -> resolve -> guard rails -> artifacts."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from packaging.version import Version

from temporal_dsql_config.adapters import (
    PlatformAdapter,
    ProfileArtifacts,
    SDKAdapter,
    discover_platform_adapters,
    discover_sdk_adapters,
    render_platform_snippets,
    render_sdk_snippets,
    select_adapters,
)
from temporal_dsql_config.adapters._artifacts import primed
from temporal_dsql_config.artifacts import (
    build_dsql_plugin_config,
    build_dynamic_config,
    build_env,
    build_services,
    build_worker_options,
    dynamic_config_yaml,
)
from temporal_dsql_config.aws_rules import ec2_capacity_for
from temporal_dsql_config.bounds import expected_bounds
from temporal_dsql_config.errors import GuardRailError
from temporal_dsql_config.guard_rails import GuardRailEngine
from temporal_dsql_config.models import (
    CompilationResult,
    CompilationTrace,
    DerivationRule,
    GuardRailResult,
    ParameterDescription,
    PresetDefault,
    PresetDescription,
    PresetSummary,
    RenderedSnippet,
    ScalePreset,
    construct_trusted,
    is_plain_value,
)
from temporal_dsql_config.modifiers import MODIFIERS, ModifierSpec
from temporal_dsql_config.presets import ORDERED_RULES, PRESETS
from temporal_dsql_config.registry import ParameterRegistry

# Resolution lives below the compiler (explain reads it too); Resolution, coerce_value and
# OverridesInput stay importable from here.
from temporal_dsql_config.resolve import OverridesInput, Resolution, Resolver, coerce_value
from temporal_dsql_config.resolve import fmt_value as _fmt
from temporal_dsql_config.why import render_input_notes, render_why
from temporal_dsql_core.profile import ConfigProfile
from temporal_dsql_core.types import (
    ParameterClassification,
    ParameterOverrides,
    ParameterValue,
    ResolvedParameter,
)

__all__ = ["COMPILER_VERSION", "ConfigCompiler", "Resolution", "coerce_value", "input_hash"]

COMPILER_VERSION = "0.1.0"
# ConfigProfile's list field for each classification.
_PARAM_GROUPS = {c: f"{c.value}_params" for c in ParameterClassification}


@functools.lru_cache(maxsize=64)
def _version(text: str) -> Version:
    """What VersionType's validator makes of a version string (PEP 440 parse; Version is
    immutable, so profiles may share one), parsed once per string instead of per compile."""
    return Version(text)

DEFAULT_TEMPORAL_SERVER_VERSION = "1.29.1"
DEFAULT_DSQL_PLUGIN_VERSION = "1.1.0"  # the fork's DSQL schema version

AdapterSelection = str | Sequence[str] | None
WhyRenderer = Callable[[ConfigProfile, Sequence[CompilationTrace], Sequence[GuardRailResult], ParameterRegistry], str]


def input_hash(preset: str, modifier: str | None, overrides: Mapping[str, ParameterValue],
               temporal_server_version: str, dsql_plugin_version: str) -> str:
    """SHA-256 of the canonical compile inputs (typed overrides by registry key, sorted): the
    profile's provenance. Two compiles of the same inputs give the same hash on any machine, so
    the deployed profile changes only when an input does (no wall clock: issue 13)."""
    canonical = json.dumps(
        {"preset": preset, "modifier": modifier, "overrides": dict(sorted(overrides.items())),
         "temporal_server_version": temporal_server_version, "dsql_plugin_version": dsql_plugin_version,
         "compiler_version": COMPILER_VERSION},
        sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


class ConfigCompiler(Resolver):
    """Resolve (temporal_dsql_config.resolve), check the guard rails, build the artifacts, render the adapters."""

    def __init__(
        self,
        registry: ParameterRegistry | None = None,
        *,
        sdk_adapters: Sequence[Any] | None = None,
        platform_adapters: Sequence[Any] | None = None,
    ) -> None:
        super().__init__(registry)
        self.guard_rails = GuardRailEngine()
        # Replaces the why-section renderer (default: temporal_dsql_config.why.render_why, which explain shares).
        self.why_renderer: WhyRenderer = render_why
        # Hook for the adapters (issue 3): None means "discover through entry points".
        self._sdk_adapters = list(sdk_adapters) if sdk_adapters is not None else None
        self._platform_adapters = list(platform_adapters) if platform_adapters is not None else None


    def profile_from(self, res: Resolution, *, temporal_server_version: str | None = None,
                     dsql_plugin_version: str | None = None) -> ConfigProfile:
        server_version = temporal_server_version or DEFAULT_TEMPORAL_SERVER_VERSION
        plugin_version = dsql_plugin_version or DEFAULT_DSQL_PLUGIN_VERSION
        modifier = res.modifier.name if res.modifier else None
        fields: dict[str, Any] = dict(
            preset_name=res.preset.name,
            modifier=modifier,
            overrides=ParameterOverrides(values=dict(res.overrides)),
            slo_params=[], topology_params=[], safety_params=[], tuning_params=[],
            temporal_server_version=server_version,
            dsql_plugin_version=plugin_version,
            compiler_version=COMPILER_VERSION,
            input_hash=input_hash(res.preset.name, modifier, res.overrides, server_version, plugin_version),
            expected_bounds=expected_bounds(res.values, band_max_st_per_sec=res.preset.throughput_range.max_st_per_sec),
        )
        values, sources = res.values, res.sources
        if not all(is_plain_value(v) for v in values.values()):
            # A value of a type validation would coerce: validate the whole profile, as before.
            for entry in self.registry:
                fields[_PARAM_GROUPS[entry.classification]].append({
                    "key": entry.key, "value": values[entry.key], "classification": entry.classification,
                    "source": sources[entry.key]})
            return ConfigProfile.model_validate(fields)
        # Values the resolver typed itself (exact bool/int/float/str, registry enums, sources from
        # the ParameterSource set) and the versions parsed as the field's validator parses them.
        for entry in self.registry:
            fields[_PARAM_GROUPS[entry.classification]].append(construct_trusted(ResolvedParameter, {
                "key": entry.key, "value": values[entry.key], "classification": entry.classification,
                "source": sources[entry.key]}))
        fields["temporal_server_version"] = _version(server_version)
        fields["dsql_plugin_version"] = _version(plugin_version)
        fields["compiler_version"] = _version(COMPILER_VERSION)
        return construct_trusted(ConfigProfile, fields)

    def check(self, res: Resolution, *, ec2_instance_type: str | None = None) -> list[GuardRailResult]:
        """Every guard-rail result plus the input warnings (expert overrides, rate outside the band).

        ``ec2_instance_type`` None: the tasks run on Fargate (every size must be a Fargate size);
        else on that EC2 instance type (every task must fit it after the ECS agent's reservation)."""
        task_factor = res.modifier.task_factor if res.modifier else 1.0
        results = self.guard_rails.evaluate(res.values, task_factor=task_factor,
                                            ec2=None if ec2_instance_type is None else ec2_capacity_for(ec2_instance_type))
        rate_key = "slo.target_state_transitions_per_sec"
        if rate_key in res.overrides and not res.preset.in_band(float(res.values[rate_key])):
            results.append(GuardRailResult(
                rule_name="target_rate_outside_preset_band", severity="warning",
                message=f"Target {res.values[rate_key]} state transitions/s is outside {res.preset.name}'s band "
                        f"({res.preset.throughput_range.description}); another preset fits better.",
                parameter_keys=[rate_key]))
        for key in res.overrides:
            entry = self.registry.get(key)
            derived = res.derived.get(key, res.values[key])
            # An override equal to the derived value changes nothing: the trace records it as
            # redundant instead of warning (a stock env would otherwise warn on the compiler's own values).
            if derived == res.values[key]:
                continue
            if entry.classification in (ParameterClassification.SAFETY, ParameterClassification.TUNING):
                results.append(GuardRailResult(
                    rule_name="expert_override", severity="warning",
                    message=f"{key} is a {entry.classification.value} parameter normally derived by the compiler; "
                            f"the override {_fmt(res.values[key])} is applied as an expert override "
                            f"(derived value was {_fmt(derived)}).",
                    parameter_keys=[key]))
        return results

    # -- compilation ---------------------------------------------------------------------------

    def compile(
        self,
        preset: str,
        modifier: str | None = None,
        overrides: OverridesInput = None,
        *,
        temporal_server_version: str | None = None,
        dsql_plugin_version: str | None = None,
        sdk: AdapterSelection = None,  # adapters: names/languages, "all" (default) or "none"
        platform: AdapterSelection = None,  # adapters: names/platforms, "all" (default) or "none"
        ec2_instance_type: str | None = None,  # None: Fargate capacity; else the EC2 instance type
    ) -> CompilationResult:
        res = self.resolve(preset, modifier=modifier, overrides=overrides)
        profile = self.profile_from(res, temporal_server_version=temporal_server_version,
                                    dsql_plugin_version=dsql_plugin_version)
        results = self.check(res, ec2_instance_type=ec2_instance_type)
        if any(r.severity == "error" for r in results):
            raise GuardRailError(results, profile)
        v = res.values
        dynamic_config = build_dynamic_config(self.registry, v)
        plugin = build_dsql_plugin_config(v)
        result = CompilationResult(
            profile=profile,
            dynamic_config=dynamic_config,
            dynamic_config_yaml=dynamic_config_yaml(dynamic_config),
            dsql_plugin_config=plugin,
            env=build_env(self.registry, v),
            worker_options=build_worker_options(v),
            services=build_services(v),
            history_shards=int(v["history.shards"]),
            guard_rail_results=results,
            trace=res.trace,
            why_section=self.why_renderer(profile, res.trace, results, self.registry) + render_input_notes(res.input_notes),
            distributed_rate_limiter_table=plugin.distributed_rate_limiter_table,
            conn_lease_table=plugin.conn_lease_table,
            input_notes=res.input_notes,
        )
        # >>> adapters: every discovered (or selected) adapter renders on every compile.
        result.sdk_snippets, result.platform_snippets = self._render_adapters(result, sdk=sdk, platform=platform)
        # <<< adapters
        return result

    # -- adapters (issue 3: temporal_dsql_config.adapters) -------------------------------------------------
    # >>> adapters: discovery through entry points, --sdk/--platform selection, AdapterError.

    def _adapters(self) -> tuple[list[SDKAdapter], list[PlatformAdapter]]:
        if self._sdk_adapters is None:
            self._sdk_adapters = list(discover_sdk_adapters())
        if self._platform_adapters is None:
            self._platform_adapters = list(discover_platform_adapters())
        return self._sdk_adapters, self._platform_adapters

    def _render_adapters(
        self, result: CompilationResult, *, sdk: AdapterSelection, platform: AdapterSelection
    ) -> tuple[list[RenderedSnippet], list[RenderedSnippet]]:
        sdk_adapters, platform_adapters = self._adapters()
        chosen_sdk = select_adapters(sdk_adapters, sdk, field="sdk")
        chosen_platform = select_adapters(platform_adapters, platform, field="platform")
        if not chosen_sdk and not chosen_platform:
            return [], []
        artifacts = ProfileArtifacts(
            profile=result.profile, worker_options=result.worker_options, env=result.env,
            services=result.services, dynamic_config=result.dynamic_config,
            dynamic_config_yaml=result.dynamic_config_yaml, history_shards=result.history_shards,
        )
        seen: dict[str, str] = {}  # filename -> adapter: two adapters may not write one file
        with primed(artifacts):
            sdk_snippets = render_sdk_snippets(result.profile, chosen_sdk, seen=seen)
            platform_snippets = render_platform_snippets(result.profile, chosen_platform, seen=seen)
        return sdk_snippets, platform_snippets

    # <<< adapters

    # -- discovery -------------------------------------------------------------------------------

    def list_presets(self) -> list[PresetSummary]:
        return [PresetSummary(name=p.name, description=p.description, throughput_range=p.throughput_range)
                for p in PRESETS.values()]

    def list_modifiers(self) -> list[ModifierSpec]:
        return list(MODIFIERS.values())

    def describe_preset(self, preset: str, *, modifier: str | None = None) -> PresetDescription:
        res = self.resolve(preset, modifier=modifier)
        groups: dict[ParameterClassification, list[ParameterDescription]] = {c: [] for c in ParameterClassification}
        for entry in self.registry:
            groups[entry.classification].append(ParameterDescription(
                key=entry.key, classification=entry.classification, value=res.values[entry.key],
                source=res.sources[entry.key], rationale=entry.rationale,
                external_names=[*entry.env_vars, *([entry.dynamic_config_key] if entry.dynamic_config_key else []),
                                *([entry.worker_option] if entry.worker_option else [])]))
        return PresetDescription(
            preset=res.preset.name, modifier=modifier, description=res.preset.description,
            throughput_range=res.preset.throughput_range, groups=groups,
            expected_bounds=expected_bounds(res.values, band_max_st_per_sec=res.preset.throughput_range.max_st_per_sec))

    def preset_definition(self, preset: str) -> ScalePreset:
        """The design's ScalePreset view: SLO and topology defaults plus the named derivation rules."""
        res = self.resolve(preset)
        cls = {e.key: e.classification for e in self.registry}

        def rules(c: ParameterClassification) -> list[DerivationRule]:
            return [DerivationRule(name=r.name, key=r.key, expression=r.expression, depends_on=list(r.depends_on))
                    for r in ORDERED_RULES if cls[r.key] == c]

        return ScalePreset(
            name=res.preset.name, description=res.preset.description, throughput_range=res.preset.throughput_range,
            slo_defaults=[PresetDefault(key=k, value=res.values[k])
                          for k in (e.key for e in self.registry.by_classification(ParameterClassification.SLO))],
            topology_defaults=[PresetDefault(key=e.key, value=res.values[e.key])
                               for e in self.registry.by_classification(ParameterClassification.TOPOLOGY)],
            safety_derivations=rules(ParameterClassification.SAFETY),
            tuning_derivations=rules(ParameterClassification.TUNING),
            expected_bounds=expected_bounds(res.values, band_max_st_per_sec=res.preset.throughput_range.max_st_per_sec),
        )
