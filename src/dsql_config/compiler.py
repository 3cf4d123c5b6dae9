"""The config compiler: preset + modifier + overrides -> resolve -> guard rails -> artifacts."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import TypeAdapter

from copilot_core.errors import InputError
from copilot_core.profile import ConfigProfile
from copilot_core.types import (
    ParameterClassification,
    ParameterEntry,
    ParameterOverrides,
    ParameterSource,
    ParameterValue,
    ParameterValueType,
)

# >>> adapters + explain (issue 3)
from dsql_config.adapters import (
    PlatformAdapter,
    ProfileArtifacts,
    SDKAdapter,
    discover_platform_adapters,
    discover_sdk_adapters,
    render_platform_snippets,
    render_sdk_snippets,
    select_adapters,
)
from dsql_config.adapters._artifacts import primed
from dsql_config.artifacts import (
    build_dsql_plugin_config,
    build_dynamic_config,
    build_env,
    build_services,
    build_worker_options,
    dynamic_config_yaml,
)
from dsql_config.bounds import expected_bounds

# <<< adapters + explain
from dsql_config.errors import ConstraintViolationError, DsqlConfigError, GuardRailError, InputErrors
from dsql_config.explain import (
    KeyExplanation,
    PresetExplanation,
    ProfileExplanation,
    explain_key,
    explain_preset,
    explain_profile,
    render_input_notes,
    render_why,
)
from dsql_config.guard_rails import GuardRailEngine
from dsql_config.models import (
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
)
from dsql_config.modifiers import MODIFIERS, Adjustment, ModifierSpec, get_modifier
from dsql_config.presets import (
    ORDERED_RULES,
    PARTITIONS_KEY,
    PRESETS,
    PresetSpec,
    Rule,
    RuleContext,
    get_preset,
    modifier_partitions,
)
from dsql_config.registry import ParameterRegistry, default_registry
from dsql_config.values import format_duration, parse_go_bool, parse_go_duration, parse_go_int

__all__ = ["COMPILER_VERSION", "ConfigCompiler", "Resolution", "coerce_value", "input_hash"]

COMPILER_VERSION = "0.1.0"
DEFAULT_TEMPORAL_SERVER_VERSION = "1.29.1"
DEFAULT_DSQL_PLUGIN_VERSION = "1.1.0"  # the fork's DSQL schema version

AdapterSelection = str | Sequence[str] | None
OverridesInput = ParameterOverrides | Mapping[str, ParameterValue] | None
WhyRenderer = Callable[[ConfigProfile, Sequence[CompilationTrace], Sequence[GuardRailResult], ParameterRegistry], str]


_T = TypeVar("_T")
_TRACE_LIST: TypeAdapter[list[CompilationTrace]] = TypeAdapter(list[CompilationTrace])


# Go's strconv.ParseBool spellings: what the plugin accepts for a boolean env var.
GO_BOOL_VALUES = ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False")
_TYPE_SUGGESTION = {
    ParameterValueType.BOOL: "Use true or false.",
    ParameterValueType.INT: "Use a whole number such as 10.",
    ParameterValueType.FLOAT: "Use a number such as 0.5.",
    ParameterValueType.DURATION: "Use a Go duration such as 45s, 11m or 1h30m.",
    ParameterValueType.STR: "Use a string.",
}


def _type_error(entry: ParameterEntry, raw: object, what: str) -> ConstraintViolationError:
    return _unparsable(entry, raw, f"expected {what}")


def _unparsable(entry: ParameterEntry, raw: object, reason: str) -> ConstraintViolationError:
    """A value that is not of the parameter's type: name the accepted spellings and an example."""
    allowed = GO_BOOL_VALUES if entry.value_type == ParameterValueType.BOOL else None
    return ConstraintViolationError(entry.key, raw, reason=reason, allowed=allowed,
                                    suggestion=_TYPE_SUGGESTION[entry.value_type])


def coerce_value(entry: ParameterEntry, raw: object) -> ParameterValue:
    """Parse ``raw`` as the parameter's type (strings as the plugin parses them), then check constraints."""
    t = entry.value_type
    value: ParameterValue
    try:
        if t == ParameterValueType.BOOL:
            if isinstance(raw, bool):
                value = raw
            elif isinstance(raw, str):
                value = parse_go_bool(raw)
            else:
                raise _type_error(entry, raw, "a boolean (true/false)")
        elif t == ParameterValueType.INT:
            if isinstance(raw, bool):
                raise _type_error(entry, raw, "an integer")
            if isinstance(raw, int):
                value = raw
            elif isinstance(raw, float) and raw.is_integer():
                value = int(raw)
            elif isinstance(raw, str):
                value = parse_go_int(raw)
            else:
                raise _type_error(entry, raw, "an integer")
        elif t == ParameterValueType.FLOAT:
            if isinstance(raw, bool):
                raise _type_error(entry, raw, "a number")
            if isinstance(raw, int | float | str):
                value = float(raw)
            else:
                raise _type_error(entry, raw, "a number")
            if not math.isfinite(value):
                raise _type_error(entry, raw, "a finite number")
        elif t == ParameterValueType.DURATION:
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                value = format_duration(float(raw))
            elif isinstance(raw, str) and not isinstance(raw, bool):
                value = format_duration(parse_go_duration(raw))
            else:
                raise _type_error(entry, raw, "a Go duration such as 45s, 11m or 1h30m")
        else:
            if not isinstance(raw, str):
                raise _type_error(entry, raw, "a string")
            value = raw
    except ValueError as exc:
        if isinstance(exc, ConstraintViolationError):
            raise
        raise _unparsable(entry, raw, str(exc)) from None
    c = entry.constraints
    if c is not None:
        if c.allowed_values is not None and value not in c.allowed_values:
            raise ConstraintViolationError(entry.key, raw, reason="not an allowed value", allowed=c.allowed_values)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if c.min_value is not None and value < c.min_value:
                raise ConstraintViolationError(entry.key, raw, reason=f"below the minimum {c.min_value:g}",
                                               min_value=c.min_value, max_value=c.max_value)
            if c.max_value is not None and value > c.max_value:
                raise ConstraintViolationError(entry.key, raw, reason=f"above the maximum {c.max_value:g}",
                                               min_value=c.min_value, max_value=c.max_value)
    return value


@dataclass(slots=True)
class Resolution:
    """Resolved values before guard rails: what ``compile`` builds artifacts from."""

    preset: PresetSpec
    modifier: ModifierSpec | None
    values: dict[str, ParameterValue]
    sources: dict[str, ParameterSource]
    trace: list[CompilationTrace]
    overrides: dict[str, ParameterValue]
    input_notes: list[str] = field(default_factory=list)
    # key -> the value the preset/modifier/rules gave before the override replaced it.
    derived: dict[str, ParameterValue] = field(default_factory=dict)

    def redundant_overrides(self) -> list[str]:
        """Overridden keys whose override equals the value the compiler derives anyway."""
        return [k for k, v in self.overrides.items() if k in self.derived and self.derived[k] == v]


def _apply_adjustment(base: ParameterValue, adj: Adjustment) -> ParameterValue:
    """Modifier adjustments never lower a value below the preset's."""
    if adj.kind == "enable":
        return adj.value
    if adj.kind == "scale":
        assert isinstance(base, int | float) and isinstance(adj.value, int | float)
        scaled = base * adj.value
        return max(base, math.ceil(scaled)) if isinstance(base, int) else max(base, float(scaled))
    # at_least
    if isinstance(base, str):
        return base if parse_go_duration(base) >= parse_go_duration(str(adj.value)) else adj.value
    assert isinstance(base, int | float) and isinstance(adj.value, int | float)
    return max(base, adj.value)


def input_hash(preset: str, modifier: str | None, overrides: Mapping[str, ParameterValue],
               temporal_server_version: str, dsql_plugin_version: str) -> str:
    """SHA-256 of the canonical compile inputs (typed overrides by registry key, sorted): the
    profile's provenance. Two compiles of the same inputs give the same hash on any machine, so
    the deployed profile changes only when an input does."""
    canonical = json.dumps(
        {"preset": preset, "modifier": modifier, "overrides": dict(sorted(overrides.items())),
         "temporal_server_version": temporal_server_version, "dsql_plugin_version": dsql_plugin_version,
         "compiler_version": COMPILER_VERSION},
        sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _collect(errors: list[InputError], step: Callable[[], _T]) -> _T | None:
    """Run one input step; keep its error (every one of them: several for InputErrors) for later."""
    try:
        return step()
    except InputErrors as error:
        errors.extend(error.errors)
    except InputError as error:
        errors.append(error)
    return None


def _fmt(value: ParameterValue) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class ConfigCompiler:
    def __init__(
        self,
        registry: ParameterRegistry | None = None,
        *,
        sdk_adapters: Sequence[Any] | None = None,
        platform_adapters: Sequence[Any] | None = None,
    ) -> None:
        self.registry = registry or default_registry()
        # Per-registry plans computed once: which entries take their default, SLO entries, key order.
        rule_keys = {r.key for r in ORDERED_RULES}
        self._default_entries = [e for e in self.registry
                                 if e.key not in rule_keys and e.classification != ParameterClassification.SLO]
        self._slo_entries = self.registry.by_classification(ParameterClassification.SLO)
        self._order = {k: i for i, k in enumerate(self.registry.keys())}
        self.guard_rails = GuardRailEngine()
        # Hook for the explain module: replaces the why-section renderer.
        self.why_renderer: WhyRenderer = render_why
        # Hook for the adapters (issue 3): None means "discover through entry points".
        self._sdk_adapters = list(sdk_adapters) if sdk_adapters is not None else None
        self._platform_adapters = list(platform_adapters) if platform_adapters is not None else None

    # -- inputs --------------------------------------------------------------------------------

    def normalize_overrides(self, overrides: OverridesInput) -> tuple[dict[str, ParameterValue], list[str]]:
        """Input names (keys, env vars, dynamic-config keys, legacy names) -> registry key -> typed value."""
        if overrides is None:
            return {}, []
        raw = overrides.values if isinstance(overrides, ParameterOverrides) else dict(overrides)
        out: dict[str, ParameterValue] = {}
        named_by: dict[str, str] = {}
        notes: list[str] = []
        errors: list[InputError] = []
        # Every bad override is collected and reported at once (InputErrors), as the guard rails do.
        for name, value in raw.items():
            try:
                res = self.registry.resolve_name(name)
                if res.key is None:
                    notes.append(f"{name}: ignored ({res.note})")
                    continue
                if res.via == "legacy":
                    notes.append(f"{name}: {res.note}")
                typed = coerce_value(self.registry.get(res.key), value)
            except InputError as error:
                errors.append(error)
                continue
            if res.key in out and out[res.key] != typed:
                errors.append(DsqlConfigError(
                    f"{named_by[res.key]}={out[res.key]!r} and {name}={value!r} both set {res.key} to different values.",
                    field=res.key,
                    suggestion="Give the parameter one value.",
                ))
                continue
            out[res.key] = typed
            named_by.setdefault(res.key, name)
        InputErrors.raise_all(errors)
        # Registry order, not input order: the same overrides written in another order are the
        # same input and must give the same profile bytes.
        order = self._order
        return {k: out[k] for k in sorted(out, key=lambda k: order[k])}, sorted(notes)

    # -- resolution ----------------------------------------------------------------------------

    def resolve(self, preset: str, *, modifier: str | None = None, overrides: OverridesInput = None) -> Resolution:
        """Resolve every registry parameter; no guard rails, no artifacts."""
        errors: list[InputError] = []
        spec = _collect(errors, lambda: get_preset(preset))
        mod = _collect(errors, lambda: get_modifier(modifier))
        normalized = _collect(errors, lambda: self.normalize_overrides(overrides))
        InputErrors.raise_all(errors)
        assert spec is not None and normalized is not None
        ov, notes = normalized
        values: dict[str, ParameterValue] = {}
        sources: dict[str, ParameterSource] = {}
        trace_rows: list[dict[str, Any]] = []
        derived: dict[str, ParameterValue] = {}

        def settle(key: str, base: ParameterValue, source: ParameterSource, chain: list[str],
                   modified: tuple[int, str] | None = None) -> None:
            value = base
            adj = mod.adjustments.get(key) if mod else None
            if modified is not None:
                value, source = modified[0], "modifier"
                chain.append(modified[1])
            if adj is not None:
                adjusted = _apply_adjustment(value, adj)
                if adjusted != value:
                    chain.append(f"modifier {mod.name if mod else ''} ({adj.kind} {_fmt(adj.value)}): "
                                 f"{_fmt(value)} → {_fmt(adjusted)}; {adj.reason}")
                    value, source = adjusted, "modifier"
            if key in ov:
                derived[key] = value
                if ov[key] == value:
                    # Redundant: recorded, never warned about (it changes nothing).
                    chain.append(f"override: {_fmt(ov[key])} equals the derived value (redundant; can be removed)")
                else:
                    cls = self.registry.get(key).classification
                    expert = cls in (ParameterClassification.SAFETY, ParameterClassification.TUNING)
                    chain.append(f"{'expert override' if expert else 'override'}: {_fmt(value)} → {_fmt(ov[key])}")
                value, source = ov[key], "override"
            values[key], sources[key] = value, source
            trace_rows.append({"parameter_key": key, "source": source, "base_value": base,
                               "final_value": value, "derivation_chain": chain})

        # 1. Parameters no rule derives: the registry's (plugin's / Temporal's) default.
        for entry in self._default_entries:
            settle(entry.key, entry.default_value, "default",
                   [f"default: {_fmt(entry.default_value)} (plugin/Temporal default)"])
        # 2. SLO inputs from the preset.
        for entry in self._slo_entries:
            base = spec.slo.get(entry.key, entry.default_value)
            settle(entry.key, base, "preset", [f"preset {spec.name}: {_fmt(base)}"])
        # 3. Derivation rules, in dependency order.
        ctx = RuleContext(values, spec, mod)
        for rule in ORDERED_RULES:
            base = rule.fn(ctx)
            modified = modifier_partitions(ctx, int(base)) if rule.key == PARTITIONS_KEY else None
            settle(rule.key, base, self._rule_source(rule), [self._rule_step(rule, values, base)], modified)
        order = self._order
        trace_rows.sort(key=lambda t: order[t["parameter_key"]])
        # One validation call for the whole list: far cheaper than 108 model constructions.
        trace = _TRACE_LIST.validate_python(trace_rows)
        return Resolution(spec, mod, values, sources, trace, ov, notes, derived)

    @staticmethod
    def _rule_source(rule: Rule) -> ParameterSource:
        if rule.depends_on:
            return "derived"
        return "preset" if rule.name == "preset_choice" else "default"

    @staticmethod
    def _rule_step(rule: Rule, values: Mapping[str, ParameterValue], result: ParameterValue) -> str:
        inputs = ", ".join(f"{k}={_fmt(values[k])}" for k in rule.depends_on)
        return f"rule {rule.name}: {rule.expression}" + (f" with {inputs}" if inputs else "") + f" → {_fmt(result)}"

    def profile_from(self, res: Resolution, *, temporal_server_version: str | None = None,
                     dsql_plugin_version: str | None = None) -> ConfigProfile:
        # Plain dicts: ConfigProfile validates each list in one pass (faster than 108 model objects).
        groups: dict[ParameterClassification, list[dict[str, Any]]] = {c: [] for c in ParameterClassification}
        for entry in self.registry:
            groups[entry.classification].append({
                "key": entry.key, "value": res.values[entry.key], "classification": entry.classification,
                "source": res.sources[entry.key]})
        return ConfigProfile.model_validate(dict(
            preset_name=res.preset.name,
            modifier=res.modifier.name if res.modifier else None,
            overrides=ParameterOverrides(values=dict(res.overrides)),
            slo_params=groups[ParameterClassification.SLO],
            topology_params=groups[ParameterClassification.TOPOLOGY],
            safety_params=groups[ParameterClassification.SAFETY],
            tuning_params=groups[ParameterClassification.TUNING],
            temporal_server_version=temporal_server_version or DEFAULT_TEMPORAL_SERVER_VERSION,
            dsql_plugin_version=dsql_plugin_version or DEFAULT_DSQL_PLUGIN_VERSION,
            compiler_version=COMPILER_VERSION,
            input_hash=input_hash(res.preset.name, res.modifier.name if res.modifier else None, res.overrides,
                                  temporal_server_version or DEFAULT_TEMPORAL_SERVER_VERSION,
                                  dsql_plugin_version or DEFAULT_DSQL_PLUGIN_VERSION),
            expected_bounds=expected_bounds(res.values, band_max_st_per_sec=res.preset.throughput_range.max_st_per_sec),
        ))

    def check(self, res: Resolution) -> list[GuardRailResult]:
        """Every guard-rail result plus the input warnings (expert overrides, rate outside the band)."""
        task_factor = res.modifier.task_factor if res.modifier else 1.0
        results = self.guard_rails.evaluate(res.values, task_factor=task_factor)
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
    ) -> CompilationResult:
        res = self.resolve(preset, modifier=modifier, overrides=overrides)
        profile = self.profile_from(res, temporal_server_version=temporal_server_version,
                                    dsql_plugin_version=dsql_plugin_version)
        results = self.check(res)
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

    # -- adapters (issue 3: dsql_config.adapters) -------------------------------------------------
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

    # >>> explain (issue 3): the design's three explain levels, rendered by dsql_config.explain.

    def explain_key(self, key: str, profile: ConfigProfile | None = None, *, preset: str = "starter",
                    modifier: str | None = None) -> KeyExplanation:
        return explain_key(key, preset=preset, modifier=modifier, profile=profile, compiler=self)

    def explain_preset(self, preset: str, *, modifier: str | None = None) -> PresetExplanation:
        return explain_preset(preset, modifier=modifier, compiler=self)

    def explain_profile(self, profile: ConfigProfile) -> ProfileExplanation:
        return explain_profile(profile, compiler=self)

    # <<< explain

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
