"""Item 5: the compiler on arbitrary input (Hypothesis; ``make reliability`` runs more examples).

Override maps (registry keys, env-var names, dynamic-config-looking keys and junk, with values of
any JSON type), env maps for ``--from-env`` and YAML/JSON profile files: the compiler either
succeeds or raises its typed error (``InputError``) naming the field; never another exception. The
CLI with ``--out`` either writes every artifact or leaves nothing at all on disk.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_results import ReliabilityRow, budget  # type: ignore[import-not-found]
from typer.testing import CliRunner

from temporal_dsql_config.cli import app as config_cli
from temporal_dsql_config.compat import compile_from_env
from temporal_dsql_config.compiler import ConfigCompiler
from temporal_dsql_config.errors import InputErrors
from temporal_dsql_config.serialization import profile_from_json, profile_from_yaml, profile_to_json
from temporal_dsql_core.errors import InputError

COMPILER = ConfigCompiler()
KEYS = COMPILER.registry.keys()
ENV_NAMES = sorted(COMPILER.registry.env_var_names())
PRESETS = [p.name for p in COMPILER.list_presets()]
EXAMPLES = budget(ci=60, full=600)
_TRIED = {"overrides": 0, "env": 0, "files": 0, "cli": 0, "typed errors": 0}

scalars = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                    st.text(max_size=30), st.sampled_from(["10m", "1h", "0", "-1", "true", "1e309", "", " "]))
names = st.one_of(st.sampled_from(KEYS), st.sampled_from(ENV_NAMES), st.text(min_size=1, max_size=40),
                  st.from_regex(r"[a-z]+\.[a-zA-Z]+", fullmatch=True))


def assert_typed(exc: BaseException) -> None:
    """The compiler's own error, naming what is wrong (every error of a batch names its field)."""
    assert isinstance(exc, InputError), f"{type(exc).__name__}: {exc}"
    _TRIED["typed errors"] += 1
    if isinstance(exc, InputErrors):
        assert exc.errors and all(e.field for e in exc.errors), exc
    else:
        assert exc.field, exc


FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(preset=st.sampled_from(PRESETS), overrides=st.dictionaries(names, scalars, max_size=6))
def test_compiler_fuzz_overrides(preset: str, overrides: dict[str, object]) -> None:
    _TRIED["overrides"] += 1
    try:
        COMPILER.compile(preset, None, overrides, sdk="none", platform="none")  # type: ignore[arg-type]
    except Exception as exc:
        assert_typed(exc)


@FUZZ
@given(env=st.dictionaries(st.one_of(st.sampled_from(ENV_NAMES), st.text(max_size=20)),
                           st.one_of(scalars.map(str), st.text(max_size=30)), max_size=6))
def test_compiler_fuzz_from_env(env: dict[str, str]) -> None:
    _TRIED["env"] += 1
    try:
        compile_from_env(env, "starter", compiler=COMPILER)
    except Exception as exc:
        assert_typed(exc)


_PROFILE = json.loads(profile_to_json(COMPILER.compile("mid-scale", sdk="none", platform="none").profile))


@FUZZ
@given(data=st.data())
def test_compiler_fuzz_profile_files(data: st.DataObject) -> None:
    """A real profile document with fields removed, retyped or added, as JSON and as YAML."""
    _TRIED["files"] += 1
    doc = dict(_PROFILE)
    for key in data.draw(st.lists(st.sampled_from(sorted(doc)), max_size=3)):
        doc[key] = data.draw(st.one_of(scalars, st.none(), st.lists(scalars, max_size=2)))
    doc.update(data.draw(st.dictionaries(st.text(max_size=10), scalars, max_size=2)))
    for parse, text in ((profile_from_json, json.dumps(doc, default=str)),
                        (profile_from_yaml, yaml.safe_dump(json.loads(json.dumps(doc, default=str))))):
        try:
            parse(text)
        except Exception as exc:
            assert_typed(exc)
    for junk in (data.draw(st.text(max_size=40)), "{", "- [", "null"):
        for parse in (profile_from_json, profile_from_yaml):
            try:
                parse(junk)
            except Exception as exc:
                assert_typed(exc)


@settings(max_examples=budget(ci=15, full=150), deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(overrides=st.dictionaries(names.filter(lambda n: "=" not in n and n.strip() == n and n), scalars.map(str),
                                 max_size=3))
def test_compiler_fuzz_cli_out_is_all_or_nothing(overrides: dict[str, str]) -> None:
    _TRIED["cli"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out"
        args = ["compile", "mid-scale", "--sdk", "none", "--platform", "none", "--out", str(target), "--format", "json"]
        for name, value in overrides.items():
            args += ["-o", f"{name}={value}"]
        result = CliRunner().invoke(config_cli, args)
        # 0 written, 2 bad input, 3 refused by a guard rail (the shared exit-code table); never a crash.
        assert result.exit_code in (0, 2, 3), (result.exit_code, result.output, result.exception)
        leftovers = sorted(p.name for p in Path(tmp).iterdir())
        if result.exit_code == 0:
            assert leftovers == ["out"] and (target / "profile.json").exists() and (target / "why.md").exists()
        else:
            assert leftovers == [], f"a failed compile left {leftovers}"


def test_compiler_fuzz_summary(reliability: ReliabilityRow) -> None:
    """Runs last in this module: the row for the table, with what the properties above tried."""
    reliability.test = "compiler input fuzz"
    reliability.load = (f"{_TRIED['overrides']} override maps, {_TRIED['env']} env maps, {_TRIED['files']} profile "
                        f"docs x2 formats, {_TRIED['cli']} CLI --out runs")
    reliability.faults = "arbitrary keys/values, junk YAML/JSON"
    reliability.notes["typed errors"] = _TRIED["typed errors"]
    assert _TRIED["overrides"] and _TRIED["env"] and _TRIED["files"] and _TRIED["cli"]


def test_infinite_duration_override_is_a_typed_error() -> None:
    """The fuzzer's find: an infinite duration raised OverflowError out of format_duration."""
    duration_key = next(e.key for e in COMPILER.registry if e.value_type.value == "duration")
    for value in (float("inf"), float("nan"), "1e309s"):
        try:
            COMPILER.compile("mid-scale", None, {duration_key: value}, sdk="none", platform="none")
        except InputError as exc:
            assert duration_key in str(exc)
        else:
            raise AssertionError(f"{value!r} was accepted for {duration_key}")


@given(seconds=st.floats(min_value=0, max_value=10**7, allow_nan=False))
def test_formatted_durations_parse_back(seconds: float) -> None:
    """The fuzzer's second find: tiny durations were formatted with an exponent ('3.9e-240ms'),
    which Go (and parse_go_duration) rejects, crashing artifact generation."""
    from temporal_dsql_config.values import format_duration, parse_go_duration

    text = format_duration(seconds)
    assert "e-" not in text and "e+" not in text, text
    assert abs(parse_go_duration(text) - seconds) <= max(1e-6, seconds * 1e-9)
