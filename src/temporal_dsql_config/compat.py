"""Backward compatibility with existing DSQL env-var configurations (Requirement 8).

Existing names are accepted unchanged and parsed as the plugin parses them: Go durations
(``1h30m``), Go ParseBool values, Atoi integers (``"1"`` for an integer stays the integer 1). A value
the plugin could not parse is reported (the plugin would silently use its default), never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from temporal_dsql_config.compiler import ConfigCompiler
from temporal_dsql_config.errors import ConstraintViolationError, DsqlConfigError, InputErrors
from temporal_dsql_config.files import parse_env_text
from temporal_dsql_config.models import CompilationResult
from temporal_dsql_config.registry import ParameterRegistry, default_registry
from temporal_dsql_config.resolve import coerce_value
from temporal_dsql_core.errors import InputError
from temporal_dsql_core.types import ParameterOverrides, ParameterValue

__all__ = [
    "EnvImport",
    "MigrationEntry",
    "MigrationReport",
    "compile_from_env",
    "env_to_overrides",
    "has_dsql_env",
    "migration_report",
    "parse_env",
    "read_env_file",
]

# Per-process names that are not configuration (set by the deployment for each role).
_NOT_CONFIG = {"SERVICES"}
# Region names in the order the plugin reads them.
_REGION_ORDER = ("REGION", "AWS_REGION", "TEMPORAL_SQL_AWS_REGION")


@dataclass(slots=True)
class EnvImport:
    overrides: dict[str, ParameterValue] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # env var -> registry key it set
    values: dict[str, ParameterValue] = field(default_factory=dict)  # env var -> parsed value
    ignored: dict[str, str] = field(default_factory=dict)  # env var -> why
    invalid: dict[str, str] = field(default_factory=dict)  # env var -> why
    # The same invalid values as typed errors (field = the env var), for compile_from_env to raise.
    errors: list[InputError] = field(default_factory=list)


def has_dsql_env(env: Mapping[str, str], registry: ParameterRegistry | None = None) -> bool:
    reg = registry or default_registry()
    names = reg.env_var_names() - _NOT_CONFIG - {"AWS_REGION"}
    return any(n in names or n.startswith("DSQL_") for n in env)


def parse_env(env: Mapping[str, str], registry: ParameterRegistry | None = None) -> EnvImport:
    """Env vars the plugin or the runtime image reads -> typed overrides by registry key."""
    reg = registry or default_registry()
    out = EnvImport()
    known = reg.env_var_names()
    for name in sorted(env):
        raw = env[name]
        if name in _NOT_CONFIG:
            continue
        if name not in known:
            if name.startswith(("DSQL_", "TEMPORAL_SQL_")) or name in {"TEMPORAL_HISTORY_SHARDS"}:
                try:
                    res = reg.resolve_name(name)
                except ValueError:
                    out.ignored[name] = "not read by the DSQL plugin or the runtime image"
                    continue
                if res.key is None:
                    out.ignored[name] = res.note or "legacy name"
            continue
        res = reg.resolve_name(name)
        assert res.key is not None
        key = res.key  # TEMPORAL_SQL_HOST resolves to dsql.cluster_endpoint in the registry
        entry = reg.get(key)
        try:
            value = coerce_value(entry, raw)
        except ConstraintViolationError as exc:
            if name == "DSQL_STAGGERED_STARTUP":
                value = True  # the plugin treats empty or invalid as true
            else:
                out.invalid[name] = f"{exc.message} The plugin would use its default."
                out.errors.append(DsqlConfigError(
                    f"{name}={raw!r} cannot be read as {key}: {exc.message}", field=name, allowed=exc.allowed,
                    suggestion=f"{exc.suggestion + ' ' if exc.suggestion else ''}Or pass --accept-plugin-defaults "
                               f"to accept the plugin's default for {name}."))
                continue
        out.values[name] = value
        out.names[name] = key
    # One value per key; the plugin's reading order decides between names of the same key.
    for name in [*_REGION_ORDER, "CLUSTER_ENDPOINT", "TEMPORAL_SQL_HOST"]:
        if name in out.names:
            key = out.names[name]
            if key in out.overrides:
                if out.overrides[key] != out.values[name]:
                    out.ignored[name] = f"{key} already set by an earlier name the plugin reads first"
                continue
            out.overrides[key] = out.values[name]
    for name, key in out.names.items():
        if name in (*_REGION_ORDER, "CLUSTER_ENDPOINT", "TEMPORAL_SQL_HOST"):
            continue
        out.overrides[key] = out.values[name]
    return out


def read_env_file(text: str) -> dict[str, str]:
    """A dotenv / docker-compose env_file, read by python-dotenv's parser (temporal_dsql_config.files):
    every bad line and repeated key is reported at once."""
    return parse_env_text(text)


def env_to_overrides(env: Mapping[str, str], registry: ParameterRegistry | None = None) -> ParameterOverrides:
    return ParameterOverrides(values=parse_env(env, registry).overrides)


class MigrationEntry(BaseModel):
    name: str
    value: str
    key: str | None = None
    parsed: ParameterValue | None = None
    preset_value: ParameterValue | None = None
    status: Literal["redundant", "override", "ignored", "invalid"]
    note: str | None = None


class MigrationReport(BaseModel):
    preset: str
    modifier: str | None = None
    entries: list[MigrationEntry] = Field(default_factory=list)

    @property
    def redundant(self) -> list[str]:
        return [e.name for e in self.entries if e.status == "redundant"]

    @property
    def overrides(self) -> list[str]:
        return [e.name for e in self.entries if e.status == "override"]

    @property
    def ignored(self) -> list[str]:
        return [e.name for e in self.entries if e.status == "ignored"]

    @property
    def invalid(self) -> list[str]:
        return [e.name for e in self.entries if e.status == "invalid"]

    def to_text(self) -> str:
        lines = [f"Migration to preset {self.preset}" + (f" + {self.modifier}" if self.modifier else "")]
        for status, title in (("redundant", "Redundant (equal to the preset; remove them)"),
                              ("override", "Kept as overrides (differ from the preset)"),
                              ("ignored", "Ignored (never read)"), ("invalid", "Invalid (the plugin would use its default)")):
            rows = [e for e in self.entries if e.status == status]
            if rows:
                lines.append(f"{title}:")
                for e in rows:
                    extra = f" (preset: {e.preset_value})" if status == "override" else ""
                    note = f" - {e.note}" if e.note else ""
                    lines.append(f"  {e.name}={e.value}{extra}{note}")
        return "\n".join(lines) + "\n"


def migration_report(
    env: Mapping[str, str],
    preset: str = "starter",
    modifier: str | None = None,
    *,
    compiler: ConfigCompiler | None = None,
) -> MigrationReport:
    """Which existing env vars the preset already produces (redundant), which differ, which are dead."""
    comp = compiler or ConfigCompiler()
    imported = parse_env(env, comp.registry)
    preset_values = comp.resolve(preset, modifier=modifier).values
    entries: list[MigrationEntry] = []
    for name in sorted(set(imported.names) | set(imported.ignored) | set(imported.invalid)):
        if name in imported.invalid:
            entries.append(MigrationEntry(name=name, value=env[name], status="invalid", note=imported.invalid[name]))
        elif name in imported.ignored:
            entries.append(MigrationEntry(name=name, value=env[name], status="ignored", note=imported.ignored[name],
                                          key=imported.names.get(name)))
        else:
            key = imported.names[name]
            parsed, derived = imported.values[name], preset_values[key]
            entries.append(MigrationEntry(
                name=name, value=env[name], key=key, parsed=parsed, preset_value=derived,
                status="redundant" if parsed == derived else "override"))
    return MigrationReport(preset=preset, modifier=modifier, entries=entries)


def compile_from_env(
    env: Mapping[str, str],
    preset: str | None = None,
    modifier: str | None = None,
    overrides: Mapping[str, ParameterValue] | None = None,
    *,
    compiler: ConfigCompiler | None = None,
    accept_plugin_defaults: bool = False,
    ec2_instance_type: str | None = None,
) -> tuple[CompilationResult, MigrationReport]:
    """Env vars as overrides on ``preset`` (starter when none is given); explicit overrides win.

    An env value the plugin cannot parse is an error (the plugin would silently run on its
    default, and a CI gate must not pass that env) unless ``accept_plugin_defaults``; every such
    value and every bad explicit override is reported in one `InputErrors`.
    """
    comp = compiler or ConfigCompiler()
    chosen = preset or "starter"
    imported = parse_env(env, comp.registry)
    errors: list[InputError] = [] if accept_plugin_defaults else list(imported.errors)
    merged: dict[str, ParameterValue] = dict(imported.overrides)
    if overrides:
        try:
            explicit, _ = comp.normalize_overrides(overrides)
            merged.update(explicit)
        except InputErrors as error:
            errors.extend(error.errors)
        except InputError as error:
            errors.append(error)
    InputErrors.raise_all(errors)
    result = comp.compile(chosen, modifier, merged, ec2_instance_type=ec2_instance_type)
    return result, migration_report(env, chosen, modifier, compiler=comp)
