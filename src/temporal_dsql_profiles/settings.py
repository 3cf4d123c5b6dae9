"""Every setting the profile API reads, in one pydantic-settings model.

The Pulumi components set the Lambda environment from exactly these field names, so they are a
public contract: add fields, never rename them. Each field is read from ``PROFILES_<FIELD>``
(upper case), e.g. ``PROFILES_BUCKET``, ``PROFILES_AMP_QUERY_URL``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    # temporal_dsql_core.dsql brings asyncio and whenever; the Lambda's cold path reads settings only.
    from temporal_dsql_core.dsql import Dialect

__all__ = ["ENV_PREFIX", "AuthMode", "ProfileApiSettings", "ProfileSettings"]

ENV_PREFIX = "PROFILES_"

AuthMode = Literal["iam", "token"]


class ProfileSettings(BaseSettings):
    """Configuration of the behaviour-profile API (Lambda or local)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # --- S3: profile documents under profiles/, deployed config under config/ ---
    bucket: str = "temporal-dsql-profiles"
    s3_endpoint_url: str | None = None
    """Only for stand-ins (moto); unset on AWS."""
    region: str = "us-east-1"
    cluster_id: str | None = None
    """Cluster a create request profiles when it names none (the deployment's own cluster)."""

    # --- metadata index: Aurora DSQL (IAM token) or PostgreSQL (static password) ---
    dsql_endpoint: str | None = None
    """DSQL cluster hostname (<id>.dsql.<region>.on.aws); the password is an IAM admin token."""
    database_dsn: SecretStr | None = None
    """postgresql://user:password@host:port/db of a PostgreSQL stand-in; used instead of DSQL."""
    db_user: str = "admin"
    """``admin`` (``dsql:DbConnectAdmin``) or a dedicated role (``dsql:DbConnect``) such as
    ``profile_api``, which the schema set-up created, granted and mapped to the IAM role."""
    manage_schema: bool = True
    """Apply the schema on first use. False for a dedicated role: it may not run DDL, and the
    set-up (``temporal_dsql_profiles.db_roles.setup_profile_store``) already did."""
    db_name: str = "postgres"
    db_pool_max_size: int = Field(default=5, ge=1, le=100)
    db_connect_timeout_seconds: float = 5.0

    # --- telemetry: Amazon Managed Prometheus (or any Prometheus) ---
    amp_query_url: str = "http://127.0.0.1:9090"
    """Query base URL, e.g. https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>."""
    amp_sigv4: bool = True
    """Sign queries with SigV4 (service ``aps``); required on AMP, harmless on plain Prometheus."""
    query_concurrency: int = Field(default=8, ge=1, le=64)
    query_timeout_seconds: float = 10.0
    query_step_seconds: int = Field(default=60, ge=1)
    scrape_interval_seconds: int = Field(default=60, ge=1, le=3600)
    """How often the cluster's metrics are scraped (Prometheus' default is 1 m): a profile window
    shorter than this holds at most one sample per series and is refused."""

    # --- HTTP ---
    auth_mode: AuthMode = "iam"
    """"iam": the Function URL's AWS_IAM auth does it; "token": a bearer token checked by the app."""
    auth_token_secret_arn: str | None = None
    """Secrets Manager secret holding the bearer token (auth_mode="token" on AWS)."""
    auth_token: SecretStr | None = None
    """The bearer token itself (auth_mode="token" locally)."""
    secretsmanager_endpoint_url: str | None = None
    docs_public: bool = False
    """In ``token`` mode, serve /docs and /openapi.json without the token (they follow the API's
    auth by default). ``/health`` is always public."""
    secret_retry_seconds: int = Field(default=30, ge=1, le=3600)
    """After the token secret could not be read: answer 503 with this Retry-After and do not ask
    Secrets Manager again before it has passed (doubling up to 10 x on repeated failures)."""
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=6 * 1024 * 1024)
    """Request bodies larger than this are refused with 413 before they are read (every server:
    uvicorn and Lambda). Lambda Function URLs cap payloads at 6 MB themselves."""
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """CORS origins (comma-separated or a JSON list), e.g. the Grafana URL."""

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _token_source(self) -> ProfileSettings:
        if self.auth_mode == "token" and self.auth_token is None and self.auth_token_secret_arn is None:
            raise ValueError("auth_mode 'token' needs PROFILES_AUTH_TOKEN_SECRET_ARN (or PROFILES_AUTH_TOKEN locally)")
        return self

    @property
    def dialect(self) -> Dialect:
        from temporal_dsql_core.dsql import Dialect

        return Dialect.POSTGRES if self.database_dsn is not None else Dialect.DSQL


ProfileApiSettings = ProfileSettings
"""The name the Pulumi component imports; the same model."""
