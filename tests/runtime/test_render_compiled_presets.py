"""Every preset (x every modifier) compiled by temporal_dsql_config, for every service, through the entrypoint's
preparation: rendered, parsed, checked, with the compiled values in the server config."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import yaml

from temporal_dsql_config import ConfigCompiler

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "docker" / "runtime"
COMPILER = ConfigCompiler()
CASES = [(preset.name, modifier) for preset in COMPILER.list_presets()
         for modifier in [None, *(m.name for m in COMPILER.list_modifiers())]]


@pytest.mark.parametrize(("preset", "modifier"), CASES, ids=[f"{p}+{m}" if m else p for p, m in CASES])
def test_compiled_env_renders_for_every_service(render_config: ModuleType, refresher: ModuleType, tmp_path: Path,
                                                preset: str, modifier: str | None) -> None:
    result = COMPILER.compile(preset, modifier=modifier)
    assert sorted(result.env) == sorted(render_config.ROLES)
    dynamic_config = tmp_path / "dynamicconfig.yaml"
    dynamic_config.write_text(result.dynamic_config_yaml)
    for service in result.env:
        env = result.env_for(service, cluster_endpoint="k5abc.dsql.eu-west-1.on.aws", region="eu-west-1")
        # What the component adds beside the compiled env: visibility, and where files live.
        env.update({
            "TEMPORAL_ELASTICSEARCH_HOST": "vpc-temporal-abc.eu-west-1.es.amazonaws.com",
            "TEMPORAL_ELASTICSEARCH_INDEX": "temporal_visibility_v1_prod",
            "TEMPORAL_BROADCAST_ADDRESS": "10.0.4.21",
            "TEMPORAL_PERSISTENCE_TEMPLATE": str(RUNTIME_DIR / "persistence-dsql-opensearch.template.yaml"),
            "TEMPORAL_RENDERED_CONFIG": str(tmp_path / f"{service}.yaml"),
            "TEMPORAL_DYNAMIC_CONFIG_FILE": str(dynamic_config),
        })
        argv, exec_env = render_config.prepare(env)
        assert argv[-2:] == ["--service", service]
        document = yaml.safe_load((tmp_path / f"{service}.yaml").read_text())
        sql = document["persistence"]["datastores"]["dsql-default"]["sql"]
        assert sql["connectAddr"] == "k5abc.dsql.eu-west-1.on.aws:5432"
        assert sql["maxConns"] == int(env["TEMPORAL_SQL_MAX_CONNS"]) == sql["maxIdleConns"]
        assert document["persistence"]["numHistoryShards"] == result.history_shards
        assert document["persistence"]["datastores"]["os-visibility"]["elasticsearch"]["aws-request-signing"][
            "region"] == "eu-west-1"
        # The plugin's own tuning reaches the server process untouched.
        assert {k: v for k, v in exec_env.items() if k.startswith("DSQL_")} == \
            {k: v for k, v in env.items() if k.startswith("DSQL_")}
    # The compiled dynamic config is what the refresher delivers: it passes the refresher's checks.
    refresher.check_body(result.dynamic_config_yaml.encode(), max_bytes=refresher.DEFAULT_MAX_BYTES)
