"""The parameter registry: the single source of truth for every knob's metadata.

Lookups accept the registry key or any real external name (plugin env var, Temporal dynamic-config
key, case-insensitively as Temporal reads it) and legacy names from older deployments.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from temporal_dsql_config._catalog import CATALOG, LEGACY_IGNORED, LEGACY_MAPPED
from temporal_dsql_config.errors import UnknownParameterError
from temporal_dsql_core.types import OutputTarget, ParameterClassification, ParameterEntry

__all__ = ["NameResolution", "ParameterRegistry", "default_registry"]

# Env vars several entries share (one per service); an override by that name means the base entry.
_CANONICAL_FOR_SHARED_NAME = {
    "TEMPORAL_SQL_MAX_CONNS": "dsql.pool_size",
    "DSQL_RESERVOIR_TARGET_READY": "dsql.reservoir_target_ready",
    "DSQL_RESERVOIR_LOW_WATERMARK": "dsql.reservoir_low_watermark",
    # The plugin takes the endpoint from CLUSTER_ENDPOINT, else from the connectAddr host that
    # TEMPORAL_SQL_HOST renders: both names mean the endpoint (sql.host is derived from it). The one
    # mapping, used by -o overrides, --from-env and explain alike.
    "TEMPORAL_SQL_HOST": "dsql.cluster_endpoint",
}


@dataclass(frozen=True, slots=True)
class NameResolution:
    """What an input name means: a registry key (maybe via a legacy name) or an ignored legacy name."""

    name: str
    key: str | None
    via: str  # "key" | "env_var" | "dynamic_config" | "worker_option" | "legacy" | "ignored"
    note: str | None = None


class ParameterRegistry:
    def __init__(self, entries: Iterable[ParameterEntry]) -> None:
        self._entries: dict[str, ParameterEntry] = {}
        self._index: dict[str, NameResolution] | None = None
        self._lower: dict[str, NameResolution] = {}
        for entry in entries:
            self.register(entry)

    def register(self, entry: ParameterEntry) -> None:
        if entry.key in self._entries:
            raise ValueError(f"parameter {entry.key!r} is registered twice")
        self._entries[entry.key] = entry
        self._index = None

    # -- lookups -----------------------------------------------------------------------------

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[ParameterEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[str]:
        return list(self._entries)

    def get(self, key: str) -> ParameterEntry:
        try:
            return self._entries[key]
        except KeyError:
            raise UnknownParameterError(key, self.known_names()) from None

    def by_classification(self, classification: ParameterClassification) -> list[ParameterEntry]:
        return [e for e in self._entries.values() if e.classification == classification]

    def by_target(self, target: OutputTarget) -> list[ParameterEntry]:
        return [e for e in self._entries.values() if target in e.output_targets]

    def env_var_names(self) -> set[str]:
        return {name for e in self._entries.values() for name in e.env_vars}

    def known_names(self) -> list[str]:
        return sorted({*self._entries, *self._name_index().keys()})

    def _name_index(self) -> dict[str, NameResolution]:
        if self._index is not None:
            return self._index
        index: dict[str, NameResolution] = {}
        for entry in self._entries.values():
            for env in entry.env_vars:
                canonical = _CANONICAL_FOR_SHARED_NAME.get(env, entry.key)
                index.setdefault(env, NameResolution(env, canonical, "env_var"))
            if entry.dynamic_config_key:
                index[entry.dynamic_config_key] = NameResolution(entry.dynamic_config_key, entry.key, "dynamic_config")
            if entry.worker_option:
                index[entry.worker_option] = NameResolution(entry.worker_option, entry.key, "worker_option")
        for legacy, key in LEGACY_MAPPED.items():
            index[legacy] = NameResolution(legacy, key, "legacy", f"legacy name, read as {key}")
        for legacy, why in LEGACY_IGNORED.items():
            index[legacy] = NameResolution(legacy, None, "ignored", why)
        self._index = index
        self._lower = {name.lower(): res for name, res in index.items() if res.via in {"dynamic_config", "legacy", "ignored"}}
        return index

    def resolve_name(self, name: str) -> NameResolution:
        """Registry key, env var, dynamic-config key (any case) or legacy name -> what it means."""
        if name in self._entries:
            return NameResolution(name, name, "key")
        index = self._name_index()
        if name in index:
            return index[name]
        lowered = self._lower.get(name.lower())
        if lowered is not None:
            return lowered
        raise UnknownParameterError(name, self.known_names())


_DEFAULT: ParameterRegistry | None = None


def default_registry() -> ParameterRegistry:
    """The shipped registry (built once; entries are frozen)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ParameterRegistry(CATALOG)
    return _DEFAULT
