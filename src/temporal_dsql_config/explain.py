"""Explain (Requirement 17): why a value is what it is, at three levels, in text and JSON.

- key: one parameter (asked for by registry key, plugin env var or Temporal dynamic-config key):
  purpose, classification, value, source, rationale and the derivation steps that produced it;
- preset: the SLO targets a preset assumes, how topology follows from them, which safety values
  are locked and why, and the reasoning chain as a narrative;
- profile: a compiled profile's composition: base preset, modifier, every override with the value
  it replaced, the guard rails that fired and the derivation chain of every non-default value.

Everything is rendered from structured data only (registry metadata, preset definitions and the
compilation trace) through fixed templates: no LLM, no clock, no randomness, so the same input
always gives byte-identical output. The compile command's "why" section is rendered here too
(``render_why``), so compile and explain can never disagree.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from temporal_dsql_config.errors import UnknownParameterError
from temporal_dsql_config.models import CompilationTrace, GuardRailResult
from temporal_dsql_config.registry import ParameterRegistry

# The why section is rendered below the compiler (which writes it on every compile); re-exported here.
from temporal_dsql_config.why import KEY_VALUES, render_input_notes, render_why
from temporal_dsql_config.why import fmt as _fmt
from temporal_dsql_config.why import title as _title
from temporal_dsql_core.profile import ConfigProfile
from temporal_dsql_core.types import (
    ParameterClassification,
    ParameterSource,
    ParameterValue,
    ResolvedParameter,
)

if TYPE_CHECKING:
    from temporal_dsql_config.compiler import ConfigCompiler
    from temporal_dsql_config.resolve import Resolution

__all__ = [
    "KEY_VALUES",
    "KeyExplanation",
    "LockedParam",
    "OverrideDetail",
    "PresetExplanation",
    "ProfileExplanation",
    "explain_key",
    "explain_preset",
    "explain_profile",
    "render_input_notes",
    "render_why",
]

_VIA = {
    "env_var": "an environment variable the plugin or entrypoint reads",
    "dynamic_config": "a Temporal dynamic-config key",
    "worker_option": "an SDK worker option",
    "legacy": "a legacy name",
}


def _compiler(compiler: ConfigCompiler | None) -> ConfigCompiler:
    if compiler is not None:
        return compiler
    from temporal_dsql_config.compiler import ConfigCompiler

    return ConfigCompiler()





# -- models ----------------------------------------------------------------------------------------


class _Explanation(BaseModel, abc.ABC):
    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"

    @abc.abstractmethod
    def to_text(self) -> str:
        """The human-readable rendering; every explanation level defines its own."""


class KeyExplanation(_Explanation):
    key: str
    asked_as: str
    found_via: str  # key | env_var | dynamic_config | worker_option | legacy
    classification: ParameterClassification
    value: ParameterValue
    description: str
    rationale: str
    source: ParameterSource
    preset: str
    modifier: str | None
    external_names: list[str]
    derivation_chain: list[str]
    notes: list[str] = Field(default_factory=list)

    def to_text(self) -> str:
        lines = [f"{self.key} = {_fmt(self.value)}"]
        if self.asked_as != self.key:
            lines.append(f"  (asked as {self.asked_as}: {_VIA.get(self.found_via, self.found_via)})")
        lines += [
            f"  classification: {self.classification.value}",
            f"  source:         {self.source} ({_title(self.preset, self.modifier)})",
            f"  purpose:        {self.description}",
            f"  rationale:      {self.rationale}",
        ]
        if self.external_names:
            lines.append(f"  emitted as:     {', '.join(self.external_names)}")
        if self.derivation_chain:
            lines.append("  derivation:")
            lines += [f"    - {step}" for step in self.derivation_chain]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


class LockedParam(BaseModel):
    key: str
    value: ParameterValue
    reason: str


class PresetExplanation(_Explanation):
    preset_name: str
    modifier: str | None
    description: str
    throughput: str
    slo_targets: list[ResolvedParameter]
    topology_derivation: list[str]
    locked_safety_params: list[LockedParam]
    modifier_adjustments: list[str]
    guard_rails: list[GuardRailResult]
    reasoning_narrative: str

    def to_text(self) -> str:
        lines = [f"# Preset {_title(self.preset_name, self.modifier)}", "", self.reasoning_narrative, "",
                 "## SLO targets", ""]
        lines += [f"- {p.key} = {_fmt(p.value)}" for p in self.slo_targets]
        lines += ["", "## How topology is derived", ""]
        lines += [f"- {step}" for step in self.topology_derivation]
        if self.modifier_adjustments:
            lines += ["", f"## Modifier {self.modifier}", ""]
            lines += [f"- {a}" for a in self.modifier_adjustments]
        lines += ["", "## Locked safety parameters", ""]
        lines += [f"- {p.key} = {_fmt(p.value)}: {p.reason}" for p in self.locked_safety_params]
        lines += ["", "## Guard rails", ""]
        lines += [f"- {r.severity.upper()} [{r.rule_name}] {r.message}" for r in self.guard_rails] or ["- none fired"]
        return "\n".join(lines) + "\n"


class OverrideDetail(BaseModel):
    key: str
    preset_value: ParameterValue
    override_value: ParameterValue
    classification: ParameterClassification


class ProfileExplanation(_Explanation):
    base_preset: str
    modifier: str | None
    overrides_applied: list[OverrideDetail]
    guard_rails_fired: list[GuardRailResult]
    derivation_chains: list[CompilationTrace]
    value_mismatches: list[str]
    composition_narrative: str
    why_section: str

    def to_text(self) -> str:
        lines = [f"# Profile composition ({_title(self.base_preset, self.modifier)})", "",
                 self.composition_narrative, "", "## Overrides", ""]
        lines += [
            f"- {o.key} ({o.classification.value}): preset {_fmt(o.preset_value)} → override {_fmt(o.override_value)}"
            for o in self.overrides_applied
        ] or ["- none"]
        lines += ["", "## Guard rails fired", ""]
        lines += [f"- {r.severity.upper()} [{r.rule_name}] {r.message}" for r in self.guard_rails_fired] or ["- none"]
        if self.value_mismatches:
            lines += ["", "## Values this compiler would not derive", ""]
            lines += [f"- {m}" for m in self.value_mismatches]
        lines += ["", "## Derivation of every non-default value", ""]
        for t in self.derivation_chains:
            lines.append(f"- {t.parameter_key} = {_fmt(t.final_value)} ({t.source})")
            lines += [f"  - {step}" for step in t.derivation_chain]
        return "\n".join(lines) + "\n\n" + self.why_section


# -- level 1: one key ----------------------------------------------------------------------------


def _external_names(registry: ParameterRegistry, key: str) -> list[str]:
    entry = registry.get(key)
    names = [*entry.env_vars]
    if entry.dynamic_config_key:
        names.append(entry.dynamic_config_key)
    if entry.worker_option:
        names.append(entry.worker_option)
    return names


def _resolve_for(compiler: ConfigCompiler, profile: ConfigProfile) -> Resolution:
    return compiler.resolve(profile.preset_name, modifier=profile.modifier, overrides=profile.overrides)


def explain_key(
    name: str,
    *,
    preset: str = "starter",
    modifier: str | None = None,
    profile: ConfigProfile | None = None,
    compiler: ConfigCompiler | None = None,
) -> KeyExplanation:
    """Explain one parameter by registry key, env-var name or dynamic-config key.

    The value comes from ``profile`` when given, else from ``preset`` (+ ``modifier``).
    Unknown names raise UnknownParameterError with close-match suggestions.
    """
    c = _compiler(compiler)
    resolution = c.registry.resolve_name(name)
    if resolution.key is None:
        raise UnknownParameterError(name, c.registry.known_names(), note=f"It is a legacy name: {resolution.note}.")
    key = resolution.key
    entry = c.registry.get(key)
    notes: list[str] = []
    if resolution.note:
        notes.append(resolution.note)
    if profile is not None:
        res = _resolve_for(c, profile)
        param = profile.get_param(key)
        if param is None:
            raise UnknownParameterError(name, [p.key for p in profile.all_params()],
                                        note="The profile has no value for it (compiled by another version?).")
        value, source = param.value, param.source
        if res.values.get(key) != value:
            notes.append(f"this compiler would derive {_fmt(res.values[key])}; the profile holds {_fmt(value)}")
        preset_name, mod = profile.preset_name, profile.modifier
    else:
        res = c.resolve(preset, modifier=modifier)
        value, source = res.values[key], res.sources[key]
        preset_name, mod = res.preset.name, res.modifier.name if res.modifier else None
    chain = next((t.derivation_chain for t in res.trace if t.parameter_key == key), [])
    return KeyExplanation(
        key=key, asked_as=name, found_via=resolution.via, classification=entry.classification, value=value,
        description=entry.description, rationale=entry.rationale, source=source, preset=preset_name, modifier=mod,
        external_names=_external_names(c.registry, key), derivation_chain=list(chain), notes=notes,
    )


# -- level 2: a preset ---------------------------------------------------------------------------


def _steps(trace: CompilationTrace) -> str:
    return "; ".join(trace.derivation_chain)


def _modifier_sentence(modifier: str, adjusted: Sequence[CompilationTrace]) -> str:
    lowered = [t.parameter_key for t in adjusted
               if isinstance(t.base_value, int | float) and not isinstance(t.base_value, bool)
               and isinstance(t.final_value, int | float) and t.final_value < t.base_value]
    if not lowered:
        return f"The {modifier} modifier then adjusts {len(adjusted)} value(s), never below the preset's."
    # simple-crud's partitions (Requirement 3.4): the only value a modifier lowers itself; the rules
    # size the forwarder from the partitions, so those follow (presets.values_a_modifier_may_lower).
    return (f"The {modifier} modifier then adjusts {len(adjusted)} value(s); it lowers {', '.join(lowered)} "
            "but never below the preset's floor (the values derived from the partitions follow), "
            "and raises or enables the rest.")


def explain_preset(preset: str, *, modifier: str | None = None, compiler: ConfigCompiler | None = None) -> PresetExplanation:
    c = _compiler(compiler)
    res = c.resolve(preset, modifier=modifier)
    registry = c.registry
    by_key = {t.parameter_key: t for t in res.trace}
    slo = [
        ResolvedParameter(key=e.key, value=res.values[e.key], classification=e.classification, source=res.sources[e.key])
        for e in registry.by_classification(ParameterClassification.SLO)
    ]
    topology = [
        f"{e.key} = {_fmt(res.values[e.key])}: {_steps(by_key[e.key])}. Why: {e.rationale}"
        for e in registry.by_classification(ParameterClassification.TOPOLOGY)
    ]
    locked = [
        LockedParam(key=e.key, value=res.values[e.key], reason=f"{e.rationale} ({_steps(by_key[e.key])})")
        for e in registry.by_classification(ParameterClassification.SAFETY)
    ]
    adjusted = [t for t in res.trace if t.source == "modifier"]
    adjustments = [f"{t.parameter_key}: {_fmt(t.base_value)} → {_fmt(t.final_value)}" for t in adjusted]
    results = c.check(res)
    spec = res.preset
    targets = ", ".join(f"{p.key.removeprefix('slo.')} {_fmt(p.value)}" for p in slo)
    derived = sum(1 for t in res.trace if t.source == "derived")
    narrative = " ".join(filter(None, [
        f"{spec.name} is for {spec.throughput_range.description}: {spec.description}",
        f"It assumes these SLO targets: {targets}.",
        f"From them {derived} values are derived by named rules (shown with each parameter); "
        f"topology follows the target rate ({len(topology)} topology parameters).",
        (_modifier_sentence(modifier, adjusted) if modifier else "No workload modifier is applied."),
        f"{len(locked)} safety parameters are locked: adopters do not set them because a wrong value "
        "breaks DSQL connection limits, rate limits or token rotation.",
        (f"Guard rails: {sum(r.severity == 'warning' for r in results)} warning(s), "
         f"{sum(r.severity == 'error' for r in results)} error(s)." if results else "Every guard rail passes."),
    ]))
    return PresetExplanation(
        preset_name=spec.name, modifier=res.modifier.name if res.modifier else None, description=spec.description,
        throughput=spec.throughput_range.description, slo_targets=slo, topology_derivation=topology,
        locked_safety_params=locked, modifier_adjustments=adjustments, guard_rails=results,
        reasoning_narrative=narrative,
    )


# -- level 3: a compiled profile -----------------------------------------------------------------


def explain_profile(profile: ConfigProfile, *, compiler: ConfigCompiler | None = None) -> ProfileExplanation:
    c = _compiler(compiler)
    registry = c.registry
    base = c.resolve(profile.preset_name, modifier=profile.modifier)
    res = _resolve_for(c, profile)
    overrides = [
        OverrideDetail(key=key, preset_value=base.values[key], override_value=value,
                       classification=registry.get(key).classification)
        for key, value in sorted(res.overrides.items())
    ]
    fired = c.check(res)
    values: Mapping[str, Any] = profile.values()
    mismatches = [
        f"{key}: profile {_fmt(values[key])}, derived {_fmt(res.values[key])}"
        for key in (e.key for e in registry) if key in values and values[key] != res.values[key]
    ]
    non_default = [t for t in res.trace if t.final_value != registry.get(t.parameter_key).default_value]
    narrative = " ".join(filter(None, [
        f"This profile starts from the {profile.preset_name} preset"
        + (f" with the {profile.modifier} modifier." if profile.modifier else " with no modifier."),
        (f"{len(overrides)} override(s) replace preset values: "
         + ", ".join(f"{o.key} {_fmt(o.preset_value)} → {_fmt(o.override_value)}" for o in overrides) + "."
         if overrides else "No overrides are applied."),
        (f"{len(fired)} guard rail(s) fired: " + ", ".join(f"{r.rule_name} ({r.severity})" for r in fired) + "."
         if fired else "No guard rail fired."),
        f"{len(non_default)} values differ from the plugin's or Temporal's defaults; each derivation is listed below.",
        (f"{len(mismatches)} value(s) in the profile differ from what this compiler derives from the same inputs."
         if mismatches else ""),
    ]))
    return ProfileExplanation(
        base_preset=profile.preset_name, modifier=profile.modifier, overrides_applied=overrides,
        guard_rails_fired=fired, derivation_chains=non_default, value_mismatches=mismatches,
        composition_narrative=narrative, why_section=render_why(profile, res.trace, fired, registry),
    )
