"""What adapters render from: the profile plus the artifacts the compiler derives from it.

Adapters receive only a ``ConfigProfile`` (the design's protocol). Per-service env, service shapes,
worker options and the dynamic config are not parameters, so ``profile_artifacts`` rebuilds them
with the emitters ``ConfigCompiler.compile`` itself uses (``temporal_dsql_config.artifacts``): the compiler
and every adapter read the same derivation, never a copy of it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from temporal_dsql_core.profile import ConfigProfile
from temporal_dsql_core.types import ParameterValue

if TYPE_CHECKING:
    from temporal_dsql_config.models import ServiceSpec, WorkerOptions

__all__ = ["ProfileArtifacts", "primed", "profile_artifacts"]


@dataclass(frozen=True, slots=True)
class ProfileArtifacts:
    profile: ConfigProfile
    worker_options: WorkerOptions
    env: dict[str, dict[str, str]]
    services: dict[str, ServiceSpec]
    dynamic_config: dict[str, ParameterValue]
    dynamic_config_yaml: str
    history_shards: int


def _derive(profile: ConfigProfile) -> ProfileArtifacts:
    from temporal_dsql_config.artifacts import (
        build_dynamic_config,
        build_env,
        build_services,
        build_worker_options,
        dynamic_config_yaml,
    )
    from temporal_dsql_config.registry import default_registry

    values = profile.values()
    dynamic_config = build_dynamic_config(default_registry(), values)
    return ProfileArtifacts(
        profile=profile,
        worker_options=build_worker_options(values),
        env=build_env(default_registry(), values),
        services=build_services(values),
        dynamic_config=dynamic_config,
        dynamic_config_yaml=dynamic_config_yaml(dynamic_config),
        history_shards=int(values["history.shards"]),
    )


# One-entry cache: the compiler hands the same profile object to every adapter in a row, so the
# artifacts are derived once per compile. Keyed by the profile's JSON so a changed profile (pydantic
# models are mutable) never gets stale artifacts.
_lock = threading.Lock()
_cached: tuple[str, ProfileArtifacts] | None = None
# Set only while the compiler renders its own, just-built profile (see ``primed``).
_primed: ProfileArtifacts | None = None


def profile_artifacts(profile: ConfigProfile) -> ProfileArtifacts:
    """The compiler's derived artifacts for ``profile`` (deterministic; cached for the last profile)."""
    global _cached
    with _lock:
        if _primed is not None and _primed.profile is profile:
            return _primed
    fingerprint = profile.model_dump_json()
    with _lock:
        if _cached is not None and _cached[0] == fingerprint:
            return _cached[1]
    artifacts = _derive(profile)
    with _lock:
        _cached = (fingerprint, artifacts)
    return artifacts


@contextmanager
def primed(artifacts: ProfileArtifacts) -> Iterator[None]:
    """While the compiler renders, adapters get the artifacts it has just built for this very profile
    object (nobody else holds it yet, so it cannot change underneath): no re-derivation."""
    global _primed
    with _lock:
        _primed = artifacts
    try:
        yield
    finally:
        with _lock:
            _primed = None
