"""ConfigProfile to and from JSON and YAML (Requirement 6).

PyYAML is imported by the YAML functions: the CLI imports this module for every command.
"""

from __future__ import annotations

from copilot_core.profile import ConfigProfile
from dsql_config.errors import DsqlConfigError

__all__ = ["profile_from_json", "profile_from_yaml", "profile_to_json", "profile_to_yaml"]


def profile_to_json(profile: ConfigProfile, *, indent: int | None = 2) -> str:
    return profile.model_dump_json(indent=indent)


def profile_from_json(text: str) -> ConfigProfile:
    try:
        return ConfigProfile.model_validate_json(text)
    except ValueError as exc:
        raise DsqlConfigError(f"Not a ConfigProfile JSON document: {exc}", field="profile",
                              suggestion="Pass a profile.json written by `temporal-dsql-config compile --out`.") from None


def profile_to_yaml(profile: ConfigProfile) -> str:
    import yaml

    return yaml.safe_dump(profile.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def profile_from_yaml(text: str) -> ConfigProfile:
    import yaml

    try:
        return ConfigProfile.model_validate(yaml.safe_load(text))
    except (ValueError, yaml.YAMLError) as exc:
        raise DsqlConfigError(f"Not a ConfigProfile YAML document: {exc}", field="profile",
                              suggestion="Pass a profile written by profile_to_yaml.") from None
