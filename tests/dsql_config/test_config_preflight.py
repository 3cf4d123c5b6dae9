"""Preflight (issue 18): what Fargate, AWS and the user's own files would reject or lose, the
compiler refuses first. Expected values come from AWS's documented Fargate table
(tests/data/fargate_task_sizes.tsv, with its source), botocore's service models and endpoint data,
and python-dotenv; never from the compiler's own constants."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import botocore.session
import pytest
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from temporal_dsql_config.aws_rules import (
    check_cidr,
    check_dynamodb_table,
    check_log_group_name,
    check_region,
)
from temporal_dsql_config.cli import OUTPUT_MARKER, app
from temporal_dsql_config.compiler import ConfigCompiler
from temporal_dsql_config.errors import DsqlConfigError, GuardRailError, InputErrors
from temporal_dsql_config.fargate import FARGATE_MEMORY_MIB
from temporal_dsql_config.files import format_env_file, parse_env_text
from temporal_dsql_config.models import SERVICE_NAMES
from temporal_dsql_core.errors import InputError

DATA = Path(__file__).parents[1] / "data" / "fargate_task_sizes.tsv"
PRESETS = ["starter", "mid-scale", "high-throughput"]
MODIFIERS = [None, "simple-crud", "orchestrator", "batch-processor", "long-running"]
COMPILER = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
runner = CliRunner()
BOTO = botocore.session.get_session()


def _documented_fargate_sizes() -> dict[int, set[int]]:
    sizes: dict[int, set[int]] = {}
    for line in DATA.read_text().splitlines():
        if line.startswith("#") or line.startswith("cpu") or not line.strip():
            continue
        cpu, memory = line.split("\t")
        if "/" in memory:
            span, step = memory.split("/")
            first, last = (int(x) for x in span.split("-"))
            sizes[int(cpu)] = set(range(first, last + 1, int(step)))
        else:
            sizes[int(cpu)] = {int(m) for m in memory.split(",")}
    return sizes


FARGATE = _documented_fargate_sizes()


def test_the_compilers_fargate_table_is_the_documented_one() -> None:
    assert {cpu: set(memory) for cpu, memory in FARGATE_MEMORY_MIB.items()} == FARGATE
    assert "docs.aws.amazon.com" in DATA.read_text()  # the source is cited with the data


# Property: Fargate-valid by construction - every preset x modifier x history replicas 1-64
# compiles to cpu/memory pairs that AWS's documented Fargate table accepts.
@settings(max_examples=150, deadline=None)
@given(preset=st.sampled_from(PRESETS), modifier=st.sampled_from(MODIFIERS), replicas=st.integers(1, 64))
def test_property_fargate_valid_sizes_for_every_replica_count(preset: str, modifier: str | None, replicas: int) -> None:
    try:
        result = COMPILER.compile(preset, modifier, {"history.replicas": replicas})
    except GuardRailError as error:
        # Other rails (connection budgets) may refuse a replica count, never a task size.
        assert all(r.rule_name != "fargate_task_size" for r in error.results)
        return
    for spec in result.services.values():
        assert spec.memory_mib in FARGATE.get(spec.cpu, set()), (preset, modifier, replicas, spec)


# Property: Fargate-valid by construction over the rate: any target rate in any preset's range.
@settings(max_examples=80, deadline=None)
@given(preset=st.sampled_from(PRESETS), modifier=st.sampled_from(MODIFIERS), rate=st.integers(1, 5000))
def test_property_fargate_valid_sizes_for_every_rate(preset: str, modifier: str | None, rate: int) -> None:
    try:
        result = COMPILER.compile(preset, modifier, {"slo.target_state_transitions_per_sec": rate})
    except GuardRailError as error:
        assert all(r.rule_name != "fargate_task_size" for r in error.results)
        return
    for spec in result.services.values():
        assert spec.memory_mib in FARGATE.get(spec.cpu, set())


def test_issue_example_rounds_up_and_the_trace_says_so() -> None:
    result = COMPILER.compile("mid-scale", overrides={"history.replicas": 2})
    assert result.services["history"].cpu == 4096 and result.services["history"].memory_mib == 8192
    chain = next(t.derivation_chain for t in result.trace if t.parameter_key == "history.cpu")
    assert any("rounded up to the Fargate CPU size 4096" in step and "3072" in step for step in chain)


def test_explicit_non_fargate_sizes_are_refused_with_the_nearest_valid_ones() -> None:
    with pytest.raises(GuardRailError) as info:
        COMPILER.compile("starter", overrides={"history.cpu": 1536, "worker.memory_mib": 3000})
    rails = [r for r in info.value.errors if r.rule_name == "fargate_task_size"]
    assert {tuple(r.parameter_keys) for r in rails} == {("history.cpu", "history.memory_mib"),
                                                        ("worker.cpu", "worker.memory_mib")}
    history = next(r.message for r in rails if "history" in r.message)
    assert "2048 CPU / 4096 MiB" in history and 4096 in FARGATE[2048]
    res = runner.invoke(app, ["compile", "starter", "-o", "history.cpu=1536"])
    assert res.exit_code != 0 and "fargate_task_size" in res.stderr


def test_ec2_capacity_fits_the_instance_after_the_agent_reservation() -> None:
    # 1536 CPU units is no Fargate size but runs on EC2 when the instance has room.
    ok = COMPILER.compile("starter", overrides={"history.cpu": 1536}, ec2_instance_type="m7g.xlarge")
    assert ok.services["history"].cpu == 1536
    # high-throughput's history task (4096 CPU / 8192 MiB) cannot fit a 1-vCPU, 4 GiB instance.
    with pytest.raises(GuardRailError) as info:
        COMPILER.compile("high-throughput", ec2_instance_type="m7g.medium")
    assert any(r.rule_name == "ec2_task_fits_instance" for r in info.value.errors)
    # A 16 GiB instance: 16384 MiB installed is more than a task of 16384 MiB may use (agent + kernel).
    with pytest.raises(GuardRailError):
        COMPILER.compile("starter", overrides={"history.cpu": 4096, "history.memory_mib": 16384},
                         ec2_instance_type="m7g.xlarge")
    # The instance type must be one botocore's ec2 model lists.
    assert "m7g.xlarge" in BOTO.get_service_model("ec2").shape_for("InstanceType").enum
    with pytest.raises(InputError) as bad:
        COMPILER.compile("starter", ec2_instance_type="m7g.huge")
    assert bad.value.field == "ec2_instance_type"


# -- AWS's own rules --------------------------------------------------------------------------------

def test_issue_examples_of_aws_names_are_all_reported_at_once() -> None:
    with pytest.raises(InputErrors) as info:
        COMPILER.compile("starter", overrides={
            "dsql.distributed_rate_limiter_table": "bad name!", "dsql.conn_lease_table": "ab",
            "CLUSTER_ENDPOINT": "not a host", "dsql.region": ""})
    fields = [e.field for e in info.value.errors]
    assert sorted(fields) == sorted(["dsql.distributed_rate_limiter_table", "dsql.conn_lease_table",
                                     "dsql.cluster_endpoint", "dsql.region"])
    table = BOTO.get_service_model("dynamodb").shape_for("TableName").metadata
    assert all(table["pattern"] in str(e.allowed) for e in info.value.errors if e.field.endswith("table"))


def test_endpoint_region_must_be_the_region() -> None:
    endpoint = "abcdefghijklmnopqrstuvwx12.dsql.eu-west-1.on.aws"
    with pytest.raises(DsqlConfigError) as info:
        COMPILER.compile("starter", overrides={"CLUSTER_ENDPOINT": endpoint})
    assert "eu-west-1" in str(info.value) and "us-east-1" in str(info.value)
    ok = COMPILER.compile("starter", overrides={"CLUSTER_ENDPOINT": endpoint, "REGION": "eu-west-1"})
    assert ok.env["history"]["CLUSTER_ENDPOINT"] == endpoint


_TABLE = BOTO.get_service_model("dynamodb").shape_for("TableName").metadata


# Property: AWS's rules from botocore - a DynamoDB table name is accepted exactly when botocore's
# TableName shape (min, max, pattern) accepts it.
@settings(max_examples=200, deadline=None)
@given(name=st.one_of(st.text(max_size=8), st.from_regex(r"[a-zA-Z0-9_.-]{0,300}", fullmatch=True),
                      st.text("ab_.-!é ", max_size=6)))
def test_property_aws_rules_table_names_follow_botocore(name: str) -> None:
    expected = _TABLE["min"] <= len(name) <= _TABLE["max"] and re.fullmatch(_TABLE["pattern"], name, re.ASCII)
    assert (check_dynamodb_table("t", name) == []) == bool(expected)


def test_aws_rules_regions_log_groups_and_cidrs() -> None:
    endpoints = BOTO.get_component("data_loader").load_data("endpoints")
    regions = {r for p in endpoints["partitions"] for r in p["regions"]}
    assert all(check_region("region", r) == [] for r in regions)
    assert check_region("region", "us-east-7") and check_region("region", "")
    logs = BOTO.get_service_model("logs").shape_for("LogGroupName").metadata
    assert check_log_group_name("g", "/ecs/temporal-prod/history") == []
    assert check_log_group_name("g", "x" * (logs["max"] + 1)) and check_log_group_name("g", "/ecs/a b")
    assert check_cidr("vpc_cidr", "10.42.0.0/16") == []
    assert check_cidr("vpc_cidr", "10.42.0.1/16") and check_cidr("vpc_cidr", "10.0.0.0/8")
    assert check_cidr("vpc_cidr", "not-a-cidr")


# -- no injection; env files round-trip -------------------------------------------------------------

def test_issue_example_newline_injection_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(app, ["compile", "starter", "--out", str(out),
                              "-o", "CLUSTER_ENDPOINT=abc\nDSQL_RESERVOIR_ENABLED=true"])
    assert res.exit_code == 2 and "newline" in res.stderr
    assert not out.exists()
    for bad in ("a\0b", "a\rb"):
        with pytest.raises(InputError):
            COMPILER.compile("starter", overrides={"dsql.distributed_rate_limiter_table": bad})


_ENV_KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
_ENV_VALUES = st.text(st.characters(blacklist_characters="\n\r\0", blacklist_categories=["Cs"]), max_size=20)
# docker compose's env_file syntax (https://docs.docker.com/compose/how-tos/environment-variables/
# variable-interpolation/#env-file-syntax): unquoted values end at whitespace + '#' and interpolate
# '$'; single-quoted values are literal; double-quoted values interpolate '$' and unescape \\ \".
_COMPOSE_LINE = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?:(?P<plain>[A-Za-z0-9_./:,@+%=-]*)|'(?P<single>[^']*)'"
                           r'|"(?P<double>(?:[^"\\$]|\\[\\"])*)")\n')


def _compose_read(text: str) -> dict[str, str]:
    out = {}
    # Only "\n" ends a line for compose (Go's bufio); str.splitlines would also split at \x1e, \x85, ...
    for line in (f"{line}\n" for line in text.split("\n")[:-1]):
        match = _COMPOSE_LINE.fullmatch(line)
        assert match, line
        value = match["plain"] if match["plain"] is not None else match["single"]
        if value is None:
            value = re.sub(r"\\([\\\"])", r"\1", match["double"])
        out[match["key"]] = value
    return out


# Property: no injection / env-file round trip - what format_env_file writes, python-dotenv (with
# and without interpolation) and compose's env_file rules read back as exactly the map written.
@settings(max_examples=300, deadline=None)
@given(env=st.dictionaries(_ENV_KEYS, _ENV_VALUES, max_size=6))
def test_property_no_injection_env_file_round_trip(env: dict[str, str]) -> None:
    try:
        text = format_env_file(env)
    except DsqlConfigError:
        # Refused only for a value no spelling keeps in both readers: '$' with a quote or backslash.
        assert any("$" in v and ("'" in v or "\\" in v) for v in env.values())
        return
    assert dotenv_values(stream=io.StringIO(text), interpolate=False) == env
    assert dotenv_values(stream=io.StringIO(text), interpolate=True) == env
    assert _compose_read(text) == env
    assert parse_env_text(text) == env


def test_env_keys_with_equals_or_values_with_newlines_are_refused_together() -> None:
    with pytest.raises(InputErrors) as info:
        format_env_file({"A=B": "1", "C": "x\ny", "D": "ok"})
    assert [e.field for e in info.value.errors] == ["A=B", "C"]


# -- your files are safe ----------------------------------------------------------------------------

def test_out_refuses_a_foreign_directory_and_force_keeps_its_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    res = runner.invoke(app, ["compile", "starter", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--force" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    res = runner.invoke(app, ["compile", "starter", "--out", str(tmp_path), "--force"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / OUTPUT_MARKER).is_file()
    assert (tmp_path / "env" / "history.env").is_file()


def test_out_rewrites_only_its_own_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["compile", "starter", "--out", str(out)]).exit_code == 0
    (out / "mine.txt").write_text("keep")
    assert (out / "snippets").is_dir()
    # A second compile into its own output: allowed without --force; files it no longer writes go,
    # a file it never wrote stays.
    res = runner.invoke(app, ["compile", "starter", "--out", str(out), "--sdk", "none", "--platform", "none"])
    assert res.exit_code == 0, res.output
    assert (out / "mine.txt").read_text() == "keep"
    assert not [p for p in (out / "snippets").rglob("*") if p.is_file()]
    marker = json.loads((out / OUTPUT_MARKER).read_text())
    assert "env/history.env" in marker["files"] and "mine.txt" not in marker["files"]
    assert not list(out.glob("**/*.tmp"))


def test_unwritable_out_paths_are_typed_errors(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for target in (a_file, a_file / "below"):
        res = runner.invoke(app, ["compile", "starter", "--out", str(target)])
        assert res.exit_code == 2, res.output
        assert res.exception is None or isinstance(res.exception, SystemExit)
        assert "--out" in res.stderr


def test_bad_input_files_are_typed_errors(tmp_path: Path) -> None:
    latin = tmp_path / "latin.env"
    latin.write_bytes("DSQL_TOKEN_DURATION=10m\nX=caf\xe9\n".encode("latin-1"))
    bom = tmp_path / "bom.env"
    bom.write_bytes(b"\xef\xbb\xbfDSQL_TOKEN_DURATION=10m\n")
    for path, words in ((latin, "not UTF-8"), (bom, "byte-order mark"), (tmp_path / "missing.env", "No file")):
        res = runner.invoke(app, ["compile", "starter", "--env-file", str(path)])
        assert res.exit_code == 2 and words in res.stderr, res.output
        assert isinstance(res.exception, SystemExit)
    profile = tmp_path / "profile.json"
    profile.write_bytes(b"\xff\xfe{}")
    res = runner.invoke(app, ["explain", "--profile", str(profile)])
    assert res.exit_code == 2 and "not UTF-8" in res.stderr


def test_env_file_reports_every_bad_line_and_repeated_keys(tmp_path: Path) -> None:
    env = tmp_path / "bad.env"
    env.write_text("DSQL_TOKEN_DURATION=10m\nthis is not a line\nTEMPORAL_SQL_MAX_CONNS=5\n"
                   "ALSO BAD\nDSQL_TOKEN_DURATION=11m\n")
    with pytest.raises(InputErrors) as info:
        parse_env_text(env.read_text())
    messages = [str(e) for e in info.value.errors]
    assert len(messages) == 3 and "Line 2" in messages[0] and "Line 4" in messages[1] and "again" in messages[2]
    res = runner.invoke(app, ["compile", "starter", "--env-file", str(env)])
    assert res.exit_code == 2 and "Line 2" in res.stderr and "Line 4" in res.stderr


def test_repeated_override_is_an_error() -> None:
    res = runner.invoke(app, ["compile", "starter", "-o", "history.replicas=2", "-o", "history.replicas=3"])
    assert res.exit_code == 2 and "twice" in res.stderr


def test_every_service_is_checked() -> None:
    assert set(SERVICE_NAMES) == {"history", "matching", "frontend", "worker"}
