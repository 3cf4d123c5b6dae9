"""The one reader of a stack's config (`temporal-dsql:*` in `Pulumi.<stack>.yaml`).

The stack program (through `pulumi.Config`), `temporal-dsql plan --stack-config` and `temporal-dsql
diff --stack-config` (through the YAML file) all read the config with `read_stack_config`, which
applies Pulumi's typed-config rules: `Config.get_bool` accepts only "true"/"True" and
"false"/"False", `Config.get_int` is Python's int(), `get_object` is JSON. Anything else is a
`ComponentInputError` naming the key, so `diff` can never read a value as something `pulumi up`
deploys differently (`copilot: "yes"` was on for the stack program and off for the diff).
A YAML file is first turned into what Pulumi holds: every value a string (a YAML `true` is "true",
an object or list is its JSON, as `pulumi config set --path` stores it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_temporal_dsql.errors import ComponentInputError

__all__ = [
    "NAMESPACE",
    "STRING_KEYS",
    "StackConfig",
    "config_strings_from_yaml",
    "namespaced",
    "pulumi_bool",
    "pulumi_int",
    "read_stack_config",
]

NAMESPACE = "temporal-dsql"
# Config key -> TemporalDsqlPresetArgs field, for the plain string settings.
STRING_KEYS: dict[str, str] = {
    "modifier": "modifier",
    "environment": "environment",
    "capacity": "capacity",
    "profileApiAuth": "profile_api_auth",
    "grafanaOrigin": "grafana_origin",
    "vpcId": "vpc_id",
    "vpcCidr": "vpc_cidr",
    "opensearchEndpoint": "opensearch_endpoint",
    "opensearchDomainArn": "opensearch_domain_arn",
    "ampWorkspaceId": "amp_workspace_id",
    "serverImage": "server_image",
    "uiImage": "ui_image",
    "adminToolsImage": "admin_tools_image",
    "collectorImage": "collector_image",
    "copilotWorkerImage": "copilot_worker_image",
    "namespace": "namespace",
    "bedrockModelId": "bedrock_model_id",
    "ec2InstanceType": "ec2_instance_type",
}
_BOOL_KEYS = ("copilot", "profileApi", "buildLambda", "deletionProtection")
_OTHER_KEYS = ("preset", "overrides", "privateSubnetIds", "logRetentionDays", "buildImages")
KNOWN_KEYS = (*STRING_KEYS, *_BOOL_KEYS, *_OTHER_KEYS)

Getter = Callable[[str], str | None]


def pulumi_bool(key: str, value: str | None) -> bool | None:
    """Pulumi's `Config.get_bool` rule (pulumi/config.py `_get_bool`): true/True, false/False."""
    if value is None:
        return None
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    raise ComponentInputError(
        f"Config {NAMESPACE}:{key} is {value!r}, which is not a boolean Pulumi reads.", field=key,
        allowed=["true", "false"], suggestion=f"pulumi config set {NAMESPACE}:{key} true (or false).")


def pulumi_int(key: str, value: str | None) -> int | None:
    """Pulumi's `Config.get_int` rule (pulumi/config.py `_get_int`: Python's int())."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ComponentInputError(f"Config {NAMESPACE}:{key} is {value!r}, not an integer.", field=key,
                                  allowed=["an integer"], suggestion=f"pulumi config set {NAMESPACE}:{key} 30") from None


@dataclass(frozen=True)
class StackConfig:
    """A stack's settings, typed as the stack program deploys them."""

    preset: str
    overrides: dict[str, Any]
    copilot: bool
    profile_api: bool
    build_lambda: bool
    deletion_protection: bool | None
    log_retention_days: int | None
    private_subnet_ids: list[str] | None
    options: dict[str, str] = field(default_factory=dict)  # TemporalDsqlPresetArgs field -> value

    @property
    def modifier(self) -> str | None:
        return self.options.get("modifier")


def _object(key: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise ComponentInputError(
            f"Config {NAMESPACE}:{key} is not JSON: {error}.", field=key,
            suggestion=f'Set it as an object: pulumi config set --path "{key}[\'history.replicas\']" 4') from None


def read_stack_config(get: Getter) -> StackConfig:
    """Every `temporal-dsql:*` setting through Pulumi's typed-config rules; `get(key)` is the raw
    string Pulumi holds for `temporal-dsql:<key>` (pulumi.Config(NAMESPACE).get, or a YAML file's)."""
    preset = get("preset")
    if not preset:
        raise ComponentInputError(f"The stack config sets no {NAMESPACE}:preset.", field="preset",
                                  allowed=["starter", "mid-scale", "high-throughput"],
                                  suggestion=f"pulumi config set {NAMESPACE}:preset mid-scale")
    overrides = _object("overrides", get("overrides")) or {}
    if not isinstance(overrides, dict):
        raise ComponentInputError(f"Config {NAMESPACE}:overrides must be an object of parameter -> value.",
                                  field="overrides")
    subnets = _object("privateSubnetIds", get("privateSubnetIds"))
    if subnets is not None and not isinstance(subnets, list):
        raise ComponentInputError(f"Config {NAMESPACE}:privateSubnetIds must be a list of subnet ids.",
                                  field="privateSubnetIds")
    options = {name: value for key, name in STRING_KEYS.items() if (value := get(key)) is not None}
    copilot, profile_api, build_lambda, deletion = (pulumi_bool(k, get(k)) for k in _BOOL_KEYS)
    return StackConfig(
        preset=preset, overrides=overrides,
        copilot=bool(copilot), profile_api=True if profile_api is None else profile_api,
        build_lambda=True if build_lambda is None else build_lambda, deletion_protection=deletion,
        log_retention_days=pulumi_int("logRetentionDays", get("logRetentionDays")),
        private_subnet_ids=[str(s) for s in subnets] if subnets is not None else None, options=options,
    )


def _pulumi_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def config_strings_from_yaml(text: str) -> dict[str, str]:
    """A `Pulumi.<stack>.yaml`'s `config:` block as Pulumi holds it: full key -> string."""
    import yaml

    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ComponentInputError(f"The stack config is not YAML: {error}.", field="stack_config",
                                  suggestion="Pass a Pulumi.<stack>.yaml file.") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise ComponentInputError("The stack config has no `config:` mapping.", field="stack_config",
                                  suggestion="Pass a Pulumi.<stack>.yaml file.")
    strings: dict[str, str] = {}
    for key, value in config.items():
        full = str(key) if ":" in str(key) else f"{NAMESPACE}:{key}"  # Pulumi's default namespace: the project's
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise ComponentInputError(f"Config {full} is a secret; the offline reader cannot decrypt it.", field=full,
                                      suggestion="Plan with a stack config without secrets, or pass the value with -o.")
        strings[full] = _pulumi_string(value)
    unknown = sorted(k.removeprefix(f"{NAMESPACE}:") for k in strings
                     if k.startswith(f"{NAMESPACE}:") and k.removeprefix(f"{NAMESPACE}:") not in KNOWN_KEYS)
    if unknown:
        from temporal_dsql_core.errors import close_matches

        hits = close_matches(unknown[0], list(KNOWN_KEYS))
        raise ComponentInputError(f"Unknown stack config key {NAMESPACE}:{unknown[0]}.", field=f"{NAMESPACE}:{unknown[0]}",
                                  allowed=list(KNOWN_KEYS),
                                  suggestion=f"Did you mean {hits[0]!r}?" if hits else "Remove the key.")
    return strings


def namespaced(strings: Mapping[str, str]) -> Getter:
    """`get` over a full-key map: `get("copilot")` reads `temporal-dsql:copilot`."""
    return lambda key: strings.get(f"{NAMESPACE}:{key}")
