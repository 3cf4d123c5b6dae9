"""Same input, same plan: the compiler's artifacts are a function of its inputs alone.

Property 27 (issue 13): compiling one preset x modifier x overrides twice gives byte-identical
artifacts (profile JSON/YAML, dynamic config, plugin config, worker options, env files, why
section, adapter snippets): no wall clock, no hash-ordered iteration. The profile carries
provenance that depends on the inputs only (compiler version and input hash).
Property 28: a modifier never lowers a preset value, except the matching partition count and the
values the derivation rules compute from it (the modifier rule, checked over every preset x modifier).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from temporal_dsql_config import ConfigCompiler
from temporal_dsql_config.cli import result_document, write_output_dir
from temporal_dsql_config.errors import GuardRailError
from temporal_dsql_config.modifiers import MODIFIERS
from temporal_dsql_config.presets import PRESETS, values_a_modifier_may_lower
from temporal_dsql_config.values import parse_go_duration
from temporal_dsql_core.types import ParameterValue

COMPILER = ConfigCompiler()  # every discovered adapter renders: snippets are artifacts too
BANDS = {"starter": (1, 49), "mid-scale": (50, 500), "high-throughput": (501, 5000)}


@st.composite
def compilations(draw: st.DrawFn) -> tuple[str, str | None, dict[str, ParameterValue]]:
    """A preset, a modifier (or none) and overrides in any of the spellings a user may write."""
    preset = draw(st.sampled_from(sorted(PRESETS)))
    lo, hi = BANDS[preset]
    overrides: dict[str, ParameterValue] = {}
    if draw(st.booleans()):
        overrides["slo.target_state_transitions_per_sec"] = draw(st.integers(lo, hi))
    if draw(st.booleans()):
        overrides["history.replicas"] = draw(st.integers(1, 6))
    if draw(st.booleans()):
        overrides["TEMPORAL_SQL_MAX_CONNS"] = str(draw(st.integers(5, 80)))  # an env-var spelling
    if draw(st.booleans()):
        overrides["dsql.token_duration"] = draw(st.sampled_from(["10m", "15m", "1h"]))
    if draw(st.booleans()):
        overrides["history.shards"] = 2 ** draw(st.integers(9, 13))
    return preset, draw(st.sampled_from([None, *sorted(MODIFIERS)])), overrides


def artifact_bytes(tmp: Path, name: str, preset: str, modifier: str | None,
                   overrides: dict[str, ParameterValue]) -> dict[str, bytes]:
    """Every file `compile --out` writes plus the JSON document, keyed by relative path."""
    result = COMPILER.compile(preset, modifier, overrides)
    target = tmp / name
    write_output_dir(result, target)
    files = {str(p.relative_to(target)): p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file()}
    files["<json document>"] = json.dumps(result_document(result), indent=2).encode()
    return files


# Feature: issue 13, Property 27: Same input, same artifacts
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=compilations())
def test_property_27_same_input_same_artifacts(tmp_path: Path, data: tuple[str, str | None, dict[str, ParameterValue]]) -> None:
    preset, modifier, overrides = data
    try:
        first = artifact_bytes(tmp_path, "first", preset, modifier, overrides)
    except GuardRailError:
        return  # an invalid compilation has no artifacts (its errors are another property's)
    second = artifact_bytes(tmp_path, "second", preset, modifier, dict(reversed(list(overrides.items()))))
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name
    profile = json.loads(first["profile.json"])
    assert "compiled_at" not in profile
    assert profile["input_hash"].startswith("sha256:")


def test_input_hash_follows_the_inputs_only() -> None:
    base = COMPILER.compile("mid-scale").profile.input_hash
    assert COMPILER.compile("mid-scale").profile.input_hash == base
    assert COMPILER.compile("mid-scale", "orchestrator").profile.input_hash != base
    assert COMPILER.compile("mid-scale", overrides={"history.replicas": 4}).profile.input_hash != base
    # The same override spelled as its env var is the same input.
    assert (COMPILER.compile("mid-scale", overrides={"TEMPORAL_SQL_MAX_CONNS": "60"}).profile.input_hash
            == COMPILER.compile("mid-scale", overrides={"dsql.pool_size": 60}).profile.input_hash)


def test_compile_output_is_identical_across_processes() -> None:
    """Hash randomisation differs per process: two interpreters with different seeds agree."""
    script = (
        "import json, sys\n"
        "from temporal_dsql_config import ConfigCompiler\n"
        "from temporal_dsql_config.cli import result_document\n"
        "c = ConfigCompiler()\n"
        "docs = {f'{p}+{m}': result_document(c.compile(p, m))\n"
        "        for p in ('starter', 'mid-scale', 'high-throughput') for m in (None, 'simple-crud', 'batch-processor')}\n"
        "sys.stdout.write(json.dumps(docs, indent=2))\n"
    )
    outputs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    ]
    assert outputs[0] and outputs[0] == outputs[1]


# Feature: issue 13, Property 28: A modifier lowers only partitions and what derives from them
@pytest.mark.parametrize("modifier", sorted(MODIFIERS))
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_property_28_modifier_lowers_only_partitions_and_their_derivations(preset: str, modifier: str) -> None:
    plain = COMPILER.resolve(preset).values
    modified = COMPILER.resolve(preset, modifier=modifier).values
    may_lower = values_a_modifier_may_lower()
    for key, before in plain.items():
        after = modified[key]
        if isinstance(before, bool) or before == after:
            continue
        if isinstance(before, str):  # durations; other strings (names, endpoints) are not ordered
            try:
                before, after = parse_go_duration(before), parse_go_duration(str(after))
            except ValueError:
                continue
        assert isinstance(after, int | float)
        if after < before:
            assert key in may_lower, f"{modifier} lowers {key} on {preset}: {before} -> {after}"
