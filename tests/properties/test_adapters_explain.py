"""Correctness properties 7 and 22-26 (adapters and explain), checked with Hypothesis.

Profiles are compiled from generated inputs: any preset, any modifier (or none) and overrides
of topology, SLO and expert (tuning) parameters within their constraints. Inputs the guard rails
reject are not valid profiles and are discarded.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from temporal_dsql_config.adapters import (
    PlatformAdapter,
    RenderedSnippet,
    SDKAdapter,
    discover_platform_adapters,
    discover_sdk_adapters,
)
from temporal_dsql_config.compiler import ConfigCompiler
from temporal_dsql_config.errors import GuardRailError
from temporal_dsql_config.explain import (
    KeyExplanation,
    PresetExplanation,
    ProfileExplanation,
    explain_key,
    explain_preset,
    explain_profile,
)
from temporal_dsql_config.modifiers import MODIFIERS
from temporal_dsql_config.presets import PRESETS
from temporal_dsql_core.profile import ConfigProfile

COMPILER = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
REGISTRY = COMPILER.registry
SDK_ADAPTERS = discover_sdk_adapters()
PLATFORM_ADAPTERS = discover_platform_adapters()

presets = st.sampled_from(sorted(PRESETS))
modifiers = st.sampled_from([None, *sorted(MODIFIERS)])
override_values = st.fixed_dictionaries({}, optional={
    "history.replicas": st.integers(1, 12),
    "matching.replicas": st.integers(1, 8),
    "frontend.replicas": st.integers(1, 6),
    "worker.replicas": st.integers(1, 4),
    "slo.target_state_transitions_per_sec": st.integers(1, 2000),
    "sdk.max_concurrent_activities": st.integers(10, 1000),
    "sdk.workflow_task_pollers": st.integers(2, 64),
    "sdk.poller_autoscaling": st.booleans(),
})
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


@st.composite
def compiled_profiles(draw: st.DrawFn) -> ConfigProfile:
    preset, modifier, overrides = draw(presets), draw(modifiers), draw(override_values)
    try:
        return COMPILER.compile(preset, modifier, overrides).profile
    except GuardRailError:
        assume(False)
        raise


def _valid_filename(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and path.name not in ("", ".")


# Feature: enhance-config-ux, Property 7: Adapter output completeness
@PROPERTY_SETTINGS
@given(profile=compiled_profiles(), data=st.data())
def test_property_7_adapter_output_completeness(profile: ConfigProfile, data: st.DataObject) -> None:
    sdk: SDKAdapter = data.draw(st.sampled_from(SDK_ADAPTERS))
    snippet = sdk.render(profile)
    assert isinstance(snippet, RenderedSnippet)
    assert snippet.content.strip() and _valid_filename(snippet.filename)
    platform: PlatformAdapter = data.draw(st.sampled_from(PLATFORM_ADAPTERS))
    snippets = platform.render(profile)
    assert isinstance(snippets, list) and snippets
    for s in snippets:
        assert isinstance(s, RenderedSnippet)
        assert s.content.strip() and _valid_filename(s.filename)
    assert len({s.filename for s in snippets}) == len(snippets)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return '""' if value == "" else str(value)


def _names_for(key: str) -> list[str]:
    entry = REGISTRY.get(key)
    return [key, *entry.env_vars, *([entry.dynamic_config_key] if entry.dynamic_config_key else [])]


# Feature: enhance-config-ux, Property 22: Explain key completeness
@PROPERTY_SETTINGS
@given(profile=compiled_profiles(), key=st.sampled_from(REGISTRY.keys()), data=st.data())
def test_property_22_explain_key_completeness(profile: ConfigProfile, key: str, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(_names_for(key)))
    explanation = explain_key(name, profile=profile, compiler=COMPILER)
    param = profile.get_param(explanation.key)
    assert param is not None
    # Shared env-var names (per-service pools) resolve to their base entry, still a real parameter.
    assert explanation.key == key or REGISTRY.resolve_name(name).key == explanation.key
    assert explanation.description.strip() and explanation.rationale.strip()
    assert explanation.classification == REGISTRY.get(explanation.key).classification
    assert explanation.value == param.value
    # The value is always shown, even an empty table name of a feature that is off.
    assert explanation.to_text().splitlines()[0] == f"{explanation.key} = {_shown(param.value)}"
    assert explanation.source == param.source


# Feature: enhance-config-ux, Property 23: Explain preset completeness
@PROPERTY_SETTINGS
@given(preset=presets, modifier=modifiers)
def test_property_23_explain_preset_completeness(preset: str, modifier: str | None) -> None:
    explanation = explain_preset(preset, modifier=modifier, compiler=COMPILER)
    assert explanation.preset_name == preset and explanation.modifier == modifier
    assert explanation.slo_targets and all(p.key.startswith("slo.") for p in explanation.slo_targets)
    assert explanation.topology_derivation and all(step.strip() for step in explanation.topology_derivation)
    assert explanation.locked_safety_params
    assert all(p.reason.strip() for p in explanation.locked_safety_params)
    assert explanation.reasoning_narrative.strip()
    assert preset in explanation.reasoning_narrative


# Feature: enhance-config-ux, Property 24: Explain profile completeness
@PROPERTY_SETTINGS
@given(profile=compiled_profiles())
def test_property_24_explain_profile_completeness(profile: ConfigProfile) -> None:
    explanation = explain_profile(profile, compiler=COMPILER)
    assert explanation.base_preset == profile.preset_name and explanation.modifier == profile.modifier
    base = COMPILER.resolve(profile.preset_name, modifier=profile.modifier)
    overrides = {o.key: o for o in explanation.overrides_applied}
    assert set(overrides) == set(profile.overrides.values)
    for key, value in profile.overrides.values.items():
        assert overrides[key].override_value == value
        assert overrides[key].preset_value == base.values[key]
    res = COMPILER.resolve(profile.preset_name, modifier=profile.modifier, overrides=profile.overrides)
    assert explanation.guard_rails_fired == COMPILER.check(res)
    non_default = {p.key for p in profile.all_params() if p.value != REGISTRY.get(p.key).default_value}
    chains = {t.parameter_key: t for t in explanation.derivation_chains}
    assert non_default <= set(chains)
    assert all(chains[k].derivation_chain and chains[k].final_value == profile.get_param(k).value  # type: ignore[union-attr]
               for k in non_default)
    assert explanation.composition_narrative.strip() and explanation.value_mismatches == []


def _explain(kind: str, profile: ConfigProfile, key: str) -> KeyExplanation | PresetExplanation | ProfileExplanation:
    if kind == "key":
        return explain_key(key, profile=profile, compiler=COMPILER)
    if kind == "preset":
        return explain_preset(profile.preset_name, modifier=profile.modifier, compiler=COMPILER)
    return explain_profile(profile, compiler=COMPILER)


# Feature: enhance-config-ux, Property 25: Explain determinism
@PROPERTY_SETTINGS
@given(profile=compiled_profiles(), key=st.sampled_from(REGISTRY.keys()),
       kind=st.sampled_from(["key", "preset", "profile"]))
def test_property_25_explain_determinism(profile: ConfigProfile, key: str, kind: str) -> None:
    first, second = _explain(kind, profile, key), _explain(kind, profile, key)
    assert first == second
    assert first.to_text() == second.to_text()
    assert first.to_json() == second.to_json()
    # A fresh compiler (no shared state) explains identically too.
    other = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    if kind == "profile":
        assert explain_profile(profile, compiler=other).to_json() == first.to_json()


# Feature: enhance-config-ux, Property 26: Explain dual format
@PROPERTY_SETTINGS
@given(profile=compiled_profiles(), key=st.sampled_from(REGISTRY.keys()),
       kind=st.sampled_from(["key", "preset", "profile"]))
def test_property_26_explain_dual_format(profile: ConfigProfile, key: str, kind: str) -> None:
    explanation = _explain(kind, profile, key)
    text = explanation.to_text()
    assert text.strip()
    document = json.loads(explanation.to_json())
    assert isinstance(document, dict) and document
    assert type(explanation).model_validate(document) == explanation
