"""The compiled artifacts a deployment stores under `config/` in its profile bucket.

The Pulumi components write these objects; behaviour profiles read them to snapshot the config a
cluster really runs with. One model and one key layout, so writer and reader cannot drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from pydantic import BaseModel, Field

from temporal_dsql_core.profile import ConfigProfile
from temporal_dsql_core.types import ParameterValue

CONFIG_PREFIX = "config/"
PROFILE_KEY = CONFIG_PREFIX + "profile.json"
DYNAMIC_CONFIG_KEY = CONFIG_PREFIX + "dynamic_config.yaml"
DSQL_PLUGIN_KEY = CONFIG_PREFIX + "dsql_plugin.json"
WORKER_OPTIONS_KEY = CONFIG_PREFIX + "worker_options.json"
VERSIONS_KEY = CONFIG_PREFIX + "versions.json"
ENV_PREFIX = CONFIG_PREFIX + "env/"
SERVICES = ("history", "matching", "frontend", "worker")


def env_key(service: str) -> str:
    return f"{ENV_PREFIX}{service}.json"


class DeployedVersions(BaseModel):
    temporal_server_version: str | None = None
    dsql_plugin_version: str | None = None
    worker_code_sha: str | None = None


class DeployedConfig(BaseModel):
    profile: ConfigProfile
    dynamic_config_yaml: str
    # Flat name -> scalar, exactly dsql_config's DSQLPluginConfig.model_dump() (per-role pools as
    # max_conns_<role>): behaviour profiles snapshot and compare it key by key, so no nesting.
    dsql_plugin_config: dict[str, ParameterValue | None]
    worker_options: dict[str, ParameterValue | None]
    env: dict[str, dict[str, str]]
    versions: DeployedVersions = Field(default_factory=DeployedVersions)

    def dynamic_config(self) -> dict[str, object]:
        """Key -> value, read back from the Temporal file format (key: [{value, constraints}])."""
        import yaml  # only readers of a stored config parse it: the compiler CLI starts without PyYAML

        document = yaml.safe_load(self.dynamic_config_yaml) or {}
        return {key: entries[0]["value"] for key, entries in document.items() if entries}

    def to_objects(self) -> dict[str, str]:
        """S3 key -> object body."""
        objects = {
            PROFILE_KEY: self.profile.model_dump_json(indent=2),
            DYNAMIC_CONFIG_KEY: self.dynamic_config_yaml,
            DSQL_PLUGIN_KEY: json.dumps(self.dsql_plugin_config, indent=2, sort_keys=True),
            WORKER_OPTIONS_KEY: json.dumps(self.worker_options, indent=2, sort_keys=True),
            VERSIONS_KEY: self.versions.model_dump_json(indent=2),
        }
        for service, env in sorted(self.env.items()):
            objects[env_key(service)] = json.dumps(env, indent=2, sort_keys=True)
        return objects

    @classmethod
    def from_objects(cls, read: Callable[[str], str | None]) -> DeployedConfig | None:
        """Rebuild from a reader (key -> body, or None when absent); None when nothing is stored."""
        profile = read(PROFILE_KEY)
        if profile is None:
            return None
        env: dict[str, dict[str, str]] = {}
        for service in SERVICES:
            body = read(env_key(service))
            if body is not None:
                env[service] = json.loads(body)
        versions = read(VERSIONS_KEY)
        return cls(
            profile=ConfigProfile.model_validate_json(profile),
            dynamic_config_yaml=read(DYNAMIC_CONFIG_KEY) or "",
            dsql_plugin_config=json.loads(read(DSQL_PLUGIN_KEY) or "{}"),
            worker_options=json.loads(read(WORKER_OPTIONS_KEY) or "{}"),
            env=env,
            versions=DeployedVersions.model_validate_json(versions) if versions else DeployedVersions(),
        )
