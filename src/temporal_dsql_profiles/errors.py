"""Every error the profile API raises on purpose, each with its HTTP status (RFC 7807 mapping).

| error | status | when |
|---|---|---|
| InvalidProfileRequest | 400 | window > 24 h, end before start, future window, same id twice, bad filter |
| ProfileNotFound | 404 | no profile with that id |
| BaselineWithoutTelemetry | 409 | the profile's window had no telemetry, so it cannot be a baseline |
| TelemetryUnavailable | 502 | Prometheus/AMP failed or answered garbage |
| StorageUnavailable | 502 | S3 failed |
| StateStoreUnavailable | 503 | DSQL/PostgreSQL unreachable or kept conflicting |
| AuthSecretUnavailable | 503 | the bearer token's secret cannot be read (Retry-After; cached failure) |
| IdempotencyKeyReused | 422 | the same Idempotency-Key with a different create body |
"""

from __future__ import annotations

from collections.abc import Sequence

from temporal_dsql_core.errors import InputError, TemporalDsqlError

__all__ = [
    "AuthSecretUnavailable",
    "BaselineWithoutTelemetry",
    "IdempotencyKeyReused",
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
    store: str | None = None
    """For a failing dependency (5xx): which one, named in the problem body (``s3``,
    ``telemetry``, ``state_store``, ``auth_secret``). The detail, with bucket names, URLs and
    queries, goes to the server log under the problem's correlation id, never to the client."""

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
            f"Profile {profile_id!r} (profile_id) has no telemetry (every metric is missing for its window), so drift "
            "measured against it would be meaningless.", profile_id=profile_id, field="profile_id",
            suggestion="Create a profile over a window the cluster reported metrics for (check Prometheus/AMP "
                       "has data for it) and make that the baseline.")


class TelemetryUnavailable(ProfileError):
    status = 502
    title = "Telemetry source failed"
    store = "telemetry"


class StorageUnavailable(ProfileError):
    status = 502
    title = "Profile storage (S3) failed"
    store = "s3"


class StateStoreUnavailable(ProfileError):
    status = 503
    title = "Profile state store unavailable"
    store = "state_store"


class AuthSecretUnavailable(ProfileError):
    """The bearer token's secret cannot be read: the API cannot tell a good token from a bad one."""

    status = 503
    title = "Authentication secret unavailable"
    store = "auth_secret"


class IdempotencyKeyReused(InputError):
    """The same Idempotency-Key with a different body (422: the key names another request)."""

    status = 422
    title = "Idempotency-Key reused with a different body"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was used within the last 24 hours for a create with a different body",
            field="Idempotency-Key", allowed=["a new key per distinct create"],
            suggestion="Send a fresh Idempotency-Key (e.g. a UUID) for a different profile, or resend the "
                       "original body unchanged to get the profile it created.")
