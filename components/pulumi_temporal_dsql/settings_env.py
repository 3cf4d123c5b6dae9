"""Environment variables for a pydantic-settings model, built from its FIELD NAMES only.

The copilot and the profile API read their configuration through pydantic-settings models.
Deriving the variable names from the model (env_prefix + field name, upper case) instead of
typing them here is what prevents the anchor's broken deployment, where the worker was given
`DSQL_ENDPOINT` but read `COPILOT_DSQL_ENDPOINT`. Unknown field names are an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic_settings import BaseSettings

from pulumi_temporal_dsql.errors import ComponentInputError

__all__ = ["settings_env"]


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def settings_env(model: type[BaseSettings], values: Mapping[str, Any]) -> dict[str, str]:
    """`{ENV_NAME: value}` for the given field values; an unknown field name is an error."""
    fields = model.model_fields
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ComponentInputError(
            f"{model.__name__} has no field(s) {', '.join(unknown)}.",
            field=unknown[0],
            allowed=sorted(fields),
            suggestion=f"Set only fields of {model.__module__}.{model.__name__}.",
        )
    prefix = str(model.model_config.get("env_prefix", "") or "")
    env: dict[str, str] = {}
    for name in sorted(values):
        value = values[name]
        if value is None:
            continue
        info = fields[name]
        alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
        env_name = alias if isinstance(alias, str) and alias else f"{prefix}{name}"
        env[env_name.upper()] = _render(value)
    return env
