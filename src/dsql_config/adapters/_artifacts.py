"""What adapters render from: the profile plus the artifacts the compiler derives from it.

Adapters receive only a ``ConfigProfile`` (the design's protocol). Per-service env, service shapes,
worker options and the dynamic config are not parameters, so ``profile_artifacts`` rebuilds them
with the emitters ``ConfigCompiler.compile`` itself uses (``dsql_config.artifacts``): the compiler
and every adapter read the same derivation, never a copy of it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from copilot_core.profile import ConfigProfile
from copilot_core.types import ParameterValue

if TYPE_CHECKING:
    from dsql_config.models import ServiceSpec, WorkerOptions

__all__ = ["ProfileArtifacts", "prime_profile_artifacts", "profile_artifacts"]


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
    from dsql_config.artifacts import (
        build_dynamic_config,
        build_env,
        build_services,
        build_worker_options,
        dynamic_config_yaml,
    )
    from dsql_config.registry import default_registry

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


def profile_artifacts(profile: ConfigProfile) -> ProfileArtifacts:
    """The compiler's derived artifacts for ``profile`` (deterministic; cached for the last profile)."""
    global _cached
    fingerprint = profile.model_dump_json()
    with _lock:
        if _cached is not None and _cached[0] == fingerprint:
            return _cached[1]
    artifacts = _derive(profile)
    with _lock:
        _cached = (fingerprint, artifacts)
    return artifacts


def prime_profile_artifacts(artifacts: ProfileArtifacts) -> None:
    """Seed the cache with artifacts the compiler has just built for ``artifacts.profile``.

    ``ConfigCompiler.compile`` builds them anyway; seeding saves every adapter a re-derivation.
    """
    global _cached
    with _lock:
        _cached = (artifacts.profile.model_dump_json(), artifacts)
