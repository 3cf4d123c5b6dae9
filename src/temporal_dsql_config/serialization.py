"""ConfigProfile to and from JSON and YAML (Requirement 6).

PyYAML is imported by the YAML functions: the CLI imports this module for every command.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from temporal_dsql_config.errors import DsqlConfigError, InputErrors
from temporal_dsql_core.profile import ConfigProfile

__all__ = ["profile_from_json", "profile_from_yaml", "profile_to_json", "profile_to_yaml"]


def profile_to_json(profile: ConfigProfile, *, indent: int | None = 2) -> str:
    return profile.model_dump_json(indent=indent)


_UNION_MEMBERS = frozenset({"bool", "int", "float", "str"})


# pydantic's error types -> the type a field accepts ("string_type", "int_parsing" -> "str", "int").
_TYPE_NAMES = {"string": "str", "int": "int", "float": "float", "bool": "bool", "list": "list",
               "dict": "object", "model": "object", "model_attributes": "object", "decimal": "number"}


def _allowed(item: Mapping[str, Any]) -> list[str] | None:
    """What the field accepts, from pydantic's error: the expected values, the bounds, the pattern or the type."""
    ctx: Mapping[str, Any] = item.get("ctx") or {}
    if ctx.get("expected"):
        return [str(ctx["expected"])]
    if ctx.get("pattern"):
        return [f"a string matching {ctx['pattern']}"]
    bounds = [f"{word} {ctx[key]}" for key, word in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")) if key in ctx]
    if bounds:
        return [" and ".join(bounds)]
    kind = str(item.get("type", ""))
    for suffix in ("_type", "_parsing"):
        if kind.endswith(suffix) and kind.removesuffix(suffix) in _TYPE_NAMES:
            return [_TYPE_NAMES[kind.removesuffix(suffix)]]
    return None  # a validator's own error (a PEP 440 version ...) or a missing field: the message says it


def _field_errors(exc: ValidationError, kind: str) -> InputErrors | DsqlConfigError:
    """Every invalid field of a profile document at once, each named by its path."""
    # A union field (a parameter's value: bool | int | float | str) fails once per member, each
    # with the member's name as the last path part: one error per field, the members as allowed.
    grouped: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for item in exc.errors():
        loc = tuple(str(part) for part in item["loc"])
        grouped.setdefault(loc, []).append(dict(item))
    merged: dict[tuple[str, ...], tuple[str, list[str] | None, object]] = {}
    for loc, items in grouped.items():
        parent = loc[:-1]
        siblings = [k for k in grouped if k[:-1] == parent and parent]
        if len(siblings) > 1 and all(k[-1] in _UNION_MEMBERS for k in siblings):
            merged[parent] = ("Input should be one of the types " + ", ".join(k[-1] for k in siblings),
                              [k[-1] for k in siblings], items[0].get("input"))
            continue
        merged[loc] = (items[0]["msg"], _allowed(items[0]), items[0].get("input"))
    errors = [
        DsqlConfigError(
            f"{kind} field {'.'.join(loc) or 'profile'}: {msg} (got {value!r}).", field=".".join(loc) or "profile",
            allowed=allowed,
            suggestion="Recompile the profile with `temporal-dsql-config compile PRESET --out DIR`, or fix this field.")
        for loc, (msg, allowed, value) in merged.items()
    ]
    return errors[0] if len(errors) == 1 else InputErrors(errors)


def profile_from_json(text: str) -> ConfigProfile:
    try:
        return ConfigProfile.model_validate_json(text)
    except ValidationError as exc:
        if all(e["type"] != "json_invalid" for e in exc.errors()):
            raise _field_errors(exc, "profile.json") from None
        raise DsqlConfigError(f"Not a ConfigProfile JSON document: {exc}", field="profile",
                              suggestion="Pass a profile.json written by `temporal-dsql-config compile --out`.") from None
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
    except ValidationError as exc:
        if all(e["type"] != "model_type" for e in exc.errors()):
            raise _field_errors(exc, "profile.yaml") from None
        raise DsqlConfigError(f"Not a ConfigProfile YAML document: {exc}", field="profile",
                              suggestion="Pass a profile written by profile_to_yaml.") from None
    except (ValueError, yaml.YAMLError) as exc:
        raise DsqlConfigError(f"Not a ConfigProfile YAML document: {exc}", field="profile",
                              suggestion="Pass a profile written by profile_to_yaml.") from None
