"""docker/runtime/render_config.py: rendering, every failure mode's message, broadcast address, start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from temporal_dsql_standins import free_port

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "docker" / "runtime"
TaskMetadataServer = Any  # the task_metadata_server fixture (tests/runtime/conftest.py)

TEMPLATE_PATH = RUNTIME_DIR / "persistence-dsql-opensearch.template.yaml"
TEMPLATE = TEMPLATE_PATH.read_text()
REQUIRED = {
    "AWS_REGION", "TEMPORAL_BROADCAST_ADDRESS", "TEMPORAL_ELASTICSEARCH_HOST",
    "TEMPORAL_ELASTICSEARCH_INDEX", "TEMPORAL_HISTORY_SHARDS", "TEMPORAL_SQL_HOST",
    "TEMPORAL_SQL_MAX_CONNS", "TEMPORAL_SQL_MAX_IDLE_CONNS",
}


def deployment_env(**extra: str) -> dict[str, str]:
    """What a component sets on a Temporal task besides the compiler's env."""
    return {
        "TEMPORAL_SQL_HOST": "abc123.dsql.eu-west-1.on.aws",
        "TEMPORAL_SQL_MAX_CONNS": "50",
        "TEMPORAL_SQL_MAX_IDLE_CONNS": "50",
        "TEMPORAL_HISTORY_SHARDS": "512",
        "TEMPORAL_ELASTICSEARCH_HOST": "vpc-temporal.eu-west-1.es.amazonaws.com",
        "TEMPORAL_ELASTICSEARCH_INDEX": "temporal_visibility_v1_dev",
        "AWS_REGION": "eu-west-1",
        **extra,
    }


def sql_store(document: dict[str, Any]) -> dict[str, Any]:
    return document["persistence"]["datastores"]["dsql-default"]["sql"]


def test_template_declares_exactly_the_required_variables(render_config: ModuleType) -> None:
    variables = render_config.template_variables(TEMPLATE)
    assert {name for name, default in variables.items() if default is None} == REQUIRED
    assert variables["TEMPORAL_SQL_PORT"] == "5432"


def test_render_substitutes_values_and_defaults(render_config: ModuleType) -> None:
    rendered = render_config.render(TEMPLATE, deployment_env(TEMPORAL_BROADCAST_ADDRESS="10.0.2.106"))
    document = yaml.safe_load(rendered)
    sql = sql_store(document)
    assert sql["connectAddr"] == "abc123.dsql.eu-west-1.on.aws:5432"
    assert sql["maxConns"] == 50 and sql["maxIdleConns"] == 50
    assert sql["pluginName"] == "dsql" and sql["tls"]["enabled"] is True
    assert document["persistence"]["numHistoryShards"] == 512
    os_store = document["persistence"]["datastores"]["os-visibility"]["elasticsearch"]
    assert os_store["url"]["host"] == "vpc-temporal.eu-west-1.es.amazonaws.com:443"
    assert os_store["aws-request-signing"]["region"] == "eu-west-1"
    assert document["global"]["membership"]["broadcastAddress"] == "10.0.2.106"
    assert document["dynamicConfigClient"]["filepath"] == render_config.DEFAULT_DYNAMIC_CONFIG
    assert "${" not in rendered


def test_missing_variables_are_all_named_at_once(render_config: ModuleType) -> None:
    with pytest.raises(render_config.MissingVariablesError) as caught:
        render_config.render(TEMPLATE, {"TEMPORAL_SQL_HOST": "h", "TEMPORAL_SQL_MAX_CONNS": "  "})
    assert set(caught.value.names) == REQUIRED - {"TEMPORAL_SQL_HOST"}
    for name in REQUIRED - {"TEMPORAL_SQL_HOST"}:
        assert name in str(caught.value)
    assert "TEMPORAL_SQL_MAX_CONNS" in caught.value.names  # blank counts as missing


def test_value_that_would_break_yaml_is_refused(render_config: ModuleType) -> None:
    env = deployment_env(TEMPORAL_BROADCAST_ADDRESS="10.0.0.1", TEMPORAL_ELASTICSEARCH_INDEX='idx"\nx: 1')
    with pytest.raises(render_config.RenderError) as caught:
        render_config.render(TEMPLATE, env)
    assert caught.value.field == "TEMPORAL_ELASTICSEARCH_INDEX"
    assert "quote, backslash, newline" in str(caught.value)


def test_non_integer_and_non_boolean_values_are_named(render_config: ModuleType) -> None:
    env = deployment_env(TEMPORAL_BROADCAST_ADDRESS="10.0.0.1", TEMPORAL_HISTORY_SHARDS="lots",
                         TEMPORAL_SQL_MAX_IDLE_CONNS="0", TEMPORAL_SQL_TLS_ENABLED="maybe")
    with pytest.raises(render_config.RenderError) as caught:
        render_config.render(TEMPLATE, env)
    message = str(caught.value)
    assert "TEMPORAL_HISTORY_SHARDS must be a positive integer, got 'lots'" in message
    assert "TEMPORAL_SQL_MAX_IDLE_CONNS must be a positive integer, got 0" in message
    assert "TEMPORAL_SQL_TLS_ENABLED must be a boolean, got 'maybe'" in message


def test_leftover_placeholder_is_reported(render_config: ModuleType) -> None:
    template = TEMPLATE + 'extra:\n  shell_style: "$TEMPORAL_SQL_HOST"\n  broken: "${UNCLOSED"\n'
    with pytest.raises(render_config.RenderError) as caught:
        render_config.render(template, deployment_env(TEMPORAL_BROADCAST_ADDRESS="10.0.0.1"))
    assert "placeholders left after rendering" in str(caught.value)
    assert "$TEMPORAL_SQL_HOST" in str(caught.value) and "${UNCLOSED" in str(caught.value)


def test_unparseable_yaml_is_reported(render_config: ModuleType) -> None:
    with pytest.raises(render_config.RenderError) as caught:
        render_config.render("persistence: [unclosed\n  shards: ${TEMPORAL_HISTORY_SHARDS}\n",
                             {"TEMPORAL_HISTORY_SHARDS": "4"})
    assert "not valid YAML" in str(caught.value)


def test_services_are_checked_against_the_roles(render_config: ModuleType) -> None:
    assert render_config.parse_services("history") == ["history"]
    assert render_config.parse_services("history, matching,frontend worker,history") == list(render_config.ROLES)
    with pytest.raises(render_config.RenderError) as caught:
        render_config.parse_services("history,scheduler")
    assert caught.value.field == "SERVICES" and caught.value.allowed == list(render_config.ROLES)
    assert "scheduler" in str(caught.value)
    with pytest.raises(render_config.MissingVariablesError):
        render_config.parse_services(" ")


# --- broadcast address --------------------------------------------------------------------------

def ecs_task(ip: str | None) -> dict[str, Any]:
    networks = [{"NetworkMode": "awsvpc", "IPv4Addresses": [ip], "IPv4SubnetCIDRBlock": "10.0.2.0/24"}]
    return {
        "Cluster": "temporal-dev",
        "TaskARN": "arn:aws:ecs:eu-west-1:111122223333:task/temporal-dev/158d1c8083dd",
        "Family": "temporal-history",
        "Containers": [
            {"Name": "alloy-init", "Networks": []},
            {"Name": "temporal-history", "Networks": networks if ip else []},
        ],
        "LaunchType": "EC2",
    }


def test_broadcast_address_from_task_metadata(render_config: ModuleType,
                                              task_metadata_server: TaskMetadataServer) -> None:
    task_metadata_server.task_document = ecs_task("10.0.2.106")
    task_metadata_server.status = 200
    env = {"ECS_CONTAINER_METADATA_URI_V4": task_metadata_server.base_uri}
    assert render_config.broadcast_address(env) == "10.0.2.106"
    assert task_metadata_server.requests[-1] == "/v4/abc-123/task"


def test_explicit_broadcast_address_wins_and_is_validated(render_config: ModuleType,
                                                         task_metadata_server: TaskMetadataServer) -> None:
    env = {"ECS_CONTAINER_METADATA_URI_V4": task_metadata_server.base_uri,
           "TEMPORAL_BROADCAST_ADDRESS": "192.168.7.9"}
    assert render_config.broadcast_address(env) == "192.168.7.9"
    with pytest.raises(render_config.BroadcastAddressError) as caught:
        render_config.broadcast_address({"TEMPORAL_BROADCAST_ADDRESS": "temporal-history"})
    assert "is not an IP address" in str(caught.value)


def test_task_metadata_without_an_address_fails_with_a_message(
        render_config: ModuleType, task_metadata_server: TaskMetadataServer) -> None:
    task_metadata_server.task_document = ecs_task(None)
    with pytest.raises(render_config.BroadcastAddressError) as caught:
        render_config.broadcast_address({"ECS_CONTAINER_METADATA_URI_V4": task_metadata_server.base_uri})
    assert "lists no container with a Networks[].IPv4Addresses entry" in str(caught.value)
    assert "awsvpc" in str(caught.value)


def test_unreachable_task_metadata_is_retried_then_reported(render_config: ModuleType) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v4/gone"
    with pytest.raises(render_config.BroadcastAddressError) as caught:
        render_config.broadcast_address({"ECS_CONTAINER_METADATA_URI_V4": closed}, attempts=3, backoff=0.01)
    assert "did not answer after 3 attempts" in str(caught.value)
    assert caught.value.field == "ECS_CONTAINER_METADATA_URI_V4"


def test_task_metadata_error_status_is_retried(render_config: ModuleType,
                                               task_metadata_server: TaskMetadataServer) -> None:
    task_metadata_server.task_document = ecs_task("10.0.2.7")
    task_metadata_server.status = 500
    try:
        with pytest.raises(render_config.BroadcastAddressError) as caught:
            render_config.broadcast_address({"ECS_CONTAINER_METADATA_URI_V4": task_metadata_server.base_uri},
                                            attempts=2, backoff=0.01)
        assert "HTTPError" in str(caught.value)
    finally:
        task_metadata_server.status = 200


# --- the entrypoint, end to end (exec of a recording stand-in for temporal-server) --------------

@pytest.fixture
def fake_server(tmp_path: Path) -> tuple[Path, Path]:
    """An executable standing in for temporal-server that records its argv and environment."""
    record = tmp_path / "exec-record.json"
    script = tmp_path / "temporal-server"
    script.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'env': dict(os.environ)}}, open({str(record)!r}, 'w'))\n"
    )
    script.chmod(0o755)
    return script, record


def start_env(tmp_path: Path, server: Path, **extra: str) -> dict[str, str]:
    dynamic_config = tmp_path / "dynamicconfig" / "dynamicconfig.yaml"
    dynamic_config.parent.mkdir(exist_ok=True)
    dynamic_config.write_text("{}\n")
    return {
        "PATH": os.environ["PATH"],
        "TEMPORAL_PERSISTENCE_TEMPLATE": str(TEMPLATE_PATH),
        "TEMPORAL_RENDERED_CONFIG": str(tmp_path / "rendered" / "temporal.yaml"),
        "TEMPORAL_DYNAMIC_CONFIG_FILE": str(dynamic_config),
        "TEMPORAL_SERVER_BIN": str(server),
        **extra,
    }


def run_start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RUNTIME_DIR / "render_config.py"), "start"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_start_renders_and_execs_the_server_for_the_role(
        tmp_path: Path, fake_server: tuple[Path, Path], task_metadata_server: TaskMetadataServer) -> None:
    server, record = fake_server
    task_metadata_server.task_document = ecs_task("10.0.3.44")
    env = start_env(tmp_path, server, SERVICES="matching",
                    ECS_CONTAINER_METADATA_URI_V4=task_metadata_server.base_uri,
                    TEMPORAL_ENVIRONMENT="development", DSQL_RESERVOIR_ENABLED="true",
                    **deployment_env())
    result = run_start(env)
    assert result.returncode == 0, result.stderr
    executed = json.loads(record.read_text())
    config_file = env["TEMPORAL_RENDERED_CONFIG"]
    assert executed["argv"] == ["--config-file", config_file, "--allow-no-auth", "start", "--service", "matching"]
    assert "TEMPORAL_ENVIRONMENT" not in executed["env"]  # the server CLI would read it as a flag
    assert executed["env"]["DSQL_RESERVOIR_ENABLED"] == "true"  # plugin tuning reaches the server
    assert executed["env"]["TEMPORAL_BROADCAST_ADDRESS"] == "10.0.3.44"
    document = yaml.safe_load(Path(config_file).read_text())
    assert document["global"]["membership"]["broadcastAddress"] == "10.0.3.44"
    assert document["dynamicConfigClient"]["filepath"] == env["TEMPORAL_DYNAMIC_CONFIG_FILE"]


def test_start_names_every_missing_variable_and_writes_nothing(
        tmp_path: Path, fake_server: tuple[Path, Path]) -> None:
    server, record = fake_server
    env = start_env(tmp_path, server, TEMPORAL_SQL_HOST="abc.dsql.eu-west-1.on.aws")
    result = run_start(env)
    assert result.returncode == 2
    expected = sorted((REQUIRED - {"TEMPORAL_SQL_HOST", "TEMPORAL_BROADCAST_ADDRESS"}) | {"SERVICES"})
    assert f"missing required environment variables: {', '.join(expected)}" in result.stderr
    assert not record.exists() and not Path(env["TEMPORAL_RENDERED_CONFIG"]).exists()


def test_start_refuses_without_the_dynamic_config_file(
        tmp_path: Path, fake_server: tuple[Path, Path]) -> None:
    server, record = fake_server
    env = start_env(tmp_path, server, SERVICES="history", TEMPORAL_BROADCAST_ADDRESS="10.1.1.1",
                    **deployment_env())
    Path(env["TEMPORAL_DYNAMIC_CONFIG_FILE"]).unlink()
    result = run_start(env)
    assert result.returncode == 2
    assert f"dynamic config file {env['TEMPORAL_DYNAMIC_CONFIG_FILE']} does not exist" in result.stderr
    assert "dynconfig_refresher.py" in result.stderr
    assert not record.exists()


def test_variables_command_lists_required_and_defaults(render_config: ModuleType,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert render_config.main(["variables", "--template", str(TEMPLATE_PATH)], env={}) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "TEMPORAL_SQL_HOST required" in lines
    assert "TEMPORAL_SQL_PORT default=5432" in lines


# --- properties ---------------------------------------------------------------------------------

hostnames = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){1,3}", fullmatch=True)


# Property: rendering round-trip (every value set in the environment reads back from the rendered YAML)
@settings(max_examples=60, deadline=None)
@given(host=hostnames, shards=st.integers(1, 16384), conns=st.integers(1, 10000),
       index=st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True),
       tls=st.sampled_from(["true", "false"]),
       ip=st.ip_addresses(v=4).map(str))
def test_property_rendering_round_trip(render_config: ModuleType, host: str, shards: int, conns: int,
                                       index: str, tls: str, ip: str) -> None:
    env = deployment_env(TEMPORAL_SQL_HOST=host, TEMPORAL_HISTORY_SHARDS=str(shards),
                         TEMPORAL_SQL_MAX_CONNS=str(conns), TEMPORAL_SQL_MAX_IDLE_CONNS=str(conns),
                         TEMPORAL_ELASTICSEARCH_INDEX=index, TEMPORAL_SQL_TLS_ENABLED=tls,
                         TEMPORAL_BROADCAST_ADDRESS=ip)
    document = yaml.safe_load(render_config.render(TEMPLATE, env))
    sql = sql_store(document)
    assert sql["connectAddr"] == f"{host}:5432"
    assert (sql["maxConns"], sql["maxIdleConns"]) == (conns, conns)
    assert document["persistence"]["numHistoryShards"] == shards
    assert sql["tls"]["enabled"] is (tls == "true")
    assert document["persistence"]["datastores"]["os-visibility"]["elasticsearch"]["indices"]["visibility"] == index
    assert document["global"]["membership"]["broadcastAddress"] == ip


# Property: every missing required variable is named (for any subset removed, the error names exactly it)
@settings(max_examples=60, deadline=None)
@given(removed=st.sets(st.sampled_from(sorted(REQUIRED)), min_size=1))
def test_property_every_missing_variable_named(render_config: ModuleType, removed: set[str]) -> None:
    env = {k: v for k, v in deployment_env(TEMPORAL_BROADCAST_ADDRESS="10.0.0.1").items() if k not in removed}
    with pytest.raises(render_config.MissingVariablesError) as caught:
        render_config.render(TEMPLATE, env)
    assert set(caught.value.names) == removed


def test_start_with_a_command_execs_it_and_renders_nothing(tmp_path: Path) -> None:
    """ENTRYPOINT + a task's command (e.g. the refresher) runs that command unchanged."""
    env = {"PATH": os.environ["PATH"], "TEMPORAL_RENDERED_CONFIG": str(tmp_path / "temporal.yaml")}
    result = subprocess.run([sys.executable, str(RUNTIME_DIR / "render_config.py"), "start", sys.executable, "-c",
                             "import sys; print('ran', sys.argv[1:])", "--once"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ran ['--once']"
    assert "exec (pass-through)" in result.stderr
    assert not (tmp_path / "temporal.yaml").exists()


def test_healthcheck_exits_0_on_a_listening_port_and_1_with_the_reason_otherwise() -> None:
    """The ECS health check of every Temporal container (`render_config.py healthcheck --port N`)."""
    import socket

    script = [sys.executable, str(RUNTIME_DIR / "render_config.py"), "healthcheck"]
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        ok = subprocess.run([*script, "--port", str(port)], capture_output=True, text=True, timeout=30, check=False)
        assert ok.returncode == 0, ok.stderr
    closed = free_port()
    down = subprocess.run([*script, "--port", str(closed), "--timeout", "1"], capture_output=True, text=True,
                          timeout=30, check=False)
    assert down.returncode == 1
    assert f"healthcheck: 127.0.0.1:{closed} not accepting connections" in down.stderr
