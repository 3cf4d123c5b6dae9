"""The resolved configuration profile.

It lives here rather than in dsql_config because behaviour profiles snapshot it and the copilot
reads it, and neither may import the compiler's sibling packages.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from temporal_dsql_core.models import TelemetryBound
from temporal_dsql_core.types import ParameterOverrides, ResolvedParameter
from temporal_dsql_core.versions import VersionType


class ConfigProfile(BaseModel):
    preset_name: str
    modifier: str | None = None
    overrides: ParameterOverrides = Field(default_factory=ParameterOverrides)

    slo_params: list[ResolvedParameter]
    topology_params: list[ResolvedParameter]
    safety_params: list[ResolvedParameter]
    tuning_params: list[ResolvedParameter]

    temporal_server_version: VersionType
    dsql_plugin_version: VersionType

    # Provenance without a wall clock: the profile is deployed (S3 object, stack output), and a
    # timestamp would make every preview of an unchanged program show a diff. input_hash is the
    # SHA-256 of the canonical inputs (preset, modifier, overrides, versions); profiles stored
    # before it existed (they carried compiled_at, now ignored) read back with "".
    compiler_version: VersionType
    input_hash: str = ""

    # The preset's expected telemetry bounds, carried so conformance needs only the profile.
    expected_bounds: list[TelemetryBound] = Field(default_factory=list)

    def all_params(self) -> list[ResolvedParameter]:
        return [*self.slo_params, *self.topology_params, *self.safety_params, *self.tuning_params]

    def get_param(self, key: str) -> ResolvedParameter | None:
        for param in self.all_params():
            if param.key == key:
                return param
        return None

    def values(self) -> dict[str, bool | int | float | str]:
        return {p.key: p.value for p in self.all_params()}
