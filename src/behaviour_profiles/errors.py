"""Every error the profile API raises on purpose, each with its HTTP status (RFC 7807 mapping).

| error | status | when |
|---|---|---|
| InvalidProfileRequest | 400 | window > 24 h, end before start, future window, same id twice, bad filter |
| ProfileNotFound | 404 | no profile with that id |
| BaselineWithoutTelemetry | 409 | the profile's window had no telemetry, so it cannot be a baseline |
| TelemetryUnavailable | 502 | Prometheus/AMP failed or answered garbage |
| StorageUnavailable | 502 | S3 failed |
| StateStoreUnavailable | 503 | DSQL/PostgreSQL unreachable or kept conflicting |
"""

from __future__ import annotations

from collections.abc import Sequence

from copilot_core.errors import InputError, TemporalDsqlError

__all__ = [
    "BaselineWithoutTelemetry",
    "InvalidProfileRequest",
    "ProfileError",
    "ProfileNotFound",
    "StateStoreUnavailable",
    "StorageUnavailable",
    "TelemetryUnavailable",
]


class ProfileError(TemporalDsqlError):
    """An error with an HTTP status, a short title and extension members for problem details."""

    status: int = 500
    title: str = "Profile API error"

    def __init__(self, detail: str, **extensions: object) -> None:
        self.detail = detail
        self.extensions = extensions
        super().__init__(detail)

    def as_problem(self) -> dict[str, object]:
        return {"detail": self.detail, **self.extensions}


class InvalidProfileRequest(InputError):
    """Bad input (400): names the field, the allowed values and a suggestion."""

    status = 400
    title = "Invalid request"

    def __init__(self, message: str, *, field: str | None = None, allowed: Sequence[object] | None = None,
                 suggestion: str | None = None) -> None:
        super().__init__(message, field=field, allowed=allowed, suggestion=suggestion)


class ProfileNotFound(ProfileError):
    status = 404
    title = "Profile not found"

    def __init__(self, profile_id: str) -> None:
        super().__init__(f"No behaviour profile with id {profile_id!r}.", profile_id=profile_id,
                         suggestion="List profiles with GET /profiles/ to find valid ids.")


class BaselineWithoutTelemetry(ProfileError):
    status = 409
    title = "Profile cannot be a baseline"

    def __init__(self, profile_id: str) -> None:
        super().__init__(
            f"Profile {profile_id!r} has no telemetry (every metric is missing for its window), so drift "
            "measured against it would be meaningless.", profile_id=profile_id, field="profile_id",
            suggestion="Create a profile over a window the cluster reported metrics for (check Prometheus/AMP "
                       "has data for it) and make that the baseline.")


class TelemetryUnavailable(ProfileError):
    status = 502
    title = "Telemetry source failed"


class StorageUnavailable(ProfileError):
    status = 502
    title = "Profile storage (S3) failed"


class StateStoreUnavailable(ProfileError):
    status = 503
    title = "Profile state store unavailable"
