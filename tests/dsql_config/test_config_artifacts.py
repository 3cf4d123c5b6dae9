"""Artifacts: env maps per service, dynamic-config YAML, plugin config, deployed config."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from temporal_dsql_config import ConfigCompiler
from temporal_dsql_config.models import SERVICE_NAMES
from temporal_dsql_core.deployed_config import DeployedConfig


def test_env_has_endpoint_and_region_everywhere_and_pools_per_service() -> None:
    for preset in ("starter", "mid-scale", "high-throughput"):
        result = ConfigCompiler().compile(preset)
        assert set(result.env) == set(SERVICE_NAMES)
        for service, env in result.env.items():
            for name in ("CLUSTER_ENDPOINT", "REGION", "AWS_REGION", "TEMPORAL_SQL_MAX_CONNS", "TEMPORAL_HISTORY_SHARDS"):
                assert env[name], (service, name)
            assert env["SERVICES"] == service
            assert env["TEMPORAL_SQL_MAX_CONNS"] == env["TEMPORAL_SQL_MAX_IDLE_CONNS"]
            assert int(env["TEMPORAL_SQL_MAX_CONNS"]) == result.dsql_plugin_config.pool_size(service)
            if env["DSQL_RESERVOIR_ENABLED"] == "true":
                assert env["DSQL_RESERVOIR_TARGET_READY"] == env["TEMPORAL_SQL_MAX_CONNS"]
            else:
                assert "DSQL_RESERVOIR_TARGET_READY" not in env
        plugin = result.dsql_plugin_config
        assert plugin.pool_size("history") == plugin.max_conns > plugin.pool_size("worker")


def test_env_for_substitutes_the_real_endpoint_and_region() -> None:
    result = ConfigCompiler().compile("high-throughput")
    env = result.env_for("history", cluster_endpoint="xyz.dsql.eu-central-1.on.aws", region="eu-central-1")
    assert env["CLUSTER_ENDPOINT"] == env["TEMPORAL_SQL_HOST"] == "xyz.dsql.eu-central-1.on.aws"
    assert env["REGION"] == env["AWS_REGION"] == env["TEMPORAL_SQL_AWS_REGION"] == "eu-central-1"
    assert "us-east-1" not in env.values() and "cluster-id.dsql.us-east-1.on.aws" not in env.values()
    assert env["DSQL_RESERVOIR_ENABLED"] == "true"
    assert {k: v for k, v in env.items() if v != result.env["history"][k]}.keys() == {
        "CLUSTER_ENDPOINT", "TEMPORAL_SQL_HOST", "REGION", "AWS_REGION", "TEMPORAL_SQL_AWS_REGION"}
    # Names, not values, decide what is substituted: an overridden host is replaced too.
    other = ConfigCompiler().compile("starter", overrides={"TEMPORAL_SQL_HOST": "abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws"})
    assert other.env_for("worker", cluster_endpoint="e", region="r")["TEMPORAL_SQL_HOST"] == "e"


def test_dynamic_config_yaml_is_temporal_file_format() -> None:
    result = ConfigCompiler().compile("mid-scale", "long-running")
    document = yaml.safe_load(result.dynamic_config_yaml)
    assert {k: v[0]["value"] for k, v in document.items()} == result.dynamic_config
    assert all(v == [{"value": v[0]["value"], "constraints": {}}] for v in document.values())
    assert document["matching.longPollExpirationInterval"][0]["value"] == "1m"


def test_plugin_config_and_worker_options() -> None:
    result = ConfigCompiler().compile("high-throughput", "batch-processor")
    plugin = result.dsql_plugin_config
    assert plugin.reservoir_base_lifetime_min == 11.0 and plugin.reservoir_guard_window_sec == 45.0
    assert plugin.max_conn_lifetime_min == 50.0
    assert plugin.token_bucket_rate == 100 and plugin.token_bucket_capacity == 1000
    assert plugin.slot_block_size == 100 and plugin.slot_block_count == 100
    wo = result.worker_options
    assert wo.workflow_task_pollers <= wo.max_concurrent_workflow_tasks
    assert wo.sticky_schedule_to_start_timeout_sec == 1.0 and wo.poller_autoscaling is True  # e2e 1000 ms / 2, at least 1s
    starter = ConfigCompiler().compile("starter").dsql_plugin_config
    assert starter.token_bucket_rate is None and starter.slot_block_size is None
    assert starter.distributed_rate_limiter_table is None


def test_services_shape() -> None:
    result = ConfigCompiler().compile("high-throughput")
    assert result.services["frontend"].grpc_port == 7233 and result.services["history"].grpc_port == 7234
    assert all(s.metrics_port == 9090 for s in result.services.values())
    assert result.services["history"].replicas == result.profile.values()["history.replicas"]
    assert result.services["history"].memory_mib == 2 * result.services["history"].cpu
    assert result.history_shards == 4096


def test_deployed_config_round_trips_through_its_object_layout() -> None:
    result = ConfigCompiler().compile("mid-scale")
    deployed = result.deployed_config()
    objects = deployed.to_objects()
    restored = DeployedConfig.from_objects(objects.get)
    assert restored is not None
    assert restored.profile == result.profile
    assert restored.dynamic_config() == result.dynamic_config
    assert restored.env == result.env
    assert restored.worker_options == result.worker_options.model_dump()
    assert restored.versions.temporal_server_version == str(result.profile.temporal_server_version)


def test_plugin_config_has_one_flat_shape_for_cli_deployed_object_and_snapshot(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The CLI's dsql_plugin.json, the deployed config/dsql_plugin.json and the model are one flat
    scalar mapping, per-role pools included, so behaviour profiles can compare it key by key."""
    import json

    from typer.testing import CliRunner

    from temporal_dsql_config.cli import app

    result = ConfigCompiler().compile("high-throughput")
    dumped = result.dsql_plugin_config.model_dump()
    assert all(not isinstance(v, dict | list) for v in dumped.values()), dumped
    assert {dumped["max_conns"], dumped["max_conns_matching"], dumped["max_conns_frontend"],
            dumped["max_conns_worker"]} == {int(result.env[s]["TEMPORAL_SQL_MAX_CONNS"]) for s in SERVICE_NAMES}
    deployed = result.deployed_config()
    assert deployed.dsql_plugin_config == dumped
    restored = DeployedConfig.from_objects(deployed.to_objects().get)
    assert restored is not None and restored.dsql_plugin_config == dumped
    # A nested shape (the old role -> size mapping) is refused at the boundary, not stored.
    nested = deployed.model_dump()
    nested["dsql_plugin_config"]["pool_sizes"] = {"history": dumped["max_conns"]}
    with pytest.raises(ValidationError):
        DeployedConfig.model_validate(nested)
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["compile", "high-throughput", "--sdk", "none", "--platform", "none",
                                    "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert json.loads((out / "dsql_plugin.json").read_text()) == json.loads(json.dumps(dumped))
