"""Bearer-token auth for the "token" mode of the API (the "iam" mode is enforced by AWS).

The token is read once, from Secrets Manager by ARN (boto3 imported on first use) or from the
``PROFILES_AUTH_TOKEN`` setting locally, and compared in constant time. A secret that cannot be
read is a 503 with ``Retry-After`` (the API cannot tell a good token from a bad one: that is not
the client's fault), and the failure is cached: Secrets Manager is asked again only after the
backoff, which doubles on each further failure up to 10 x ``secret_retry_seconds``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from temporal_dsql_profiles.errors import AuthSecretUnavailable, ProfileError
from temporal_dsql_profiles.settings import ProfileSettings

__all__ = ["HEALTH_PATH", "BearerTokenVerifier", "Unauthorized", "require_bearer_token"]

log = logging.getLogger("temporal_dsql.api")


class Unauthorized(ProfileError):
    status = 401
    title = "Unauthorized"


@dataclass
class BearerTokenVerifier:
    settings: ProfileSettings
    clock: Any = time.monotonic
    secret_reads: int = field(default=0, init=False)
    """Secrets Manager reads attempted so far (the cached-failure property counts them)."""
    _token: bytes | None = field(default=None, init=False, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    _failed_until: float = field(default=0.0, init=False, repr=False)
    _backoff: float = field(default=0.0, init=False, repr=False)

    def _unavailable(self) -> AuthSecretUnavailable:
        wait = max(1, math.ceil(self._failed_until - self.clock()))
        return AuthSecretUnavailable("The bearer token's secret could not be read.", retry_after_seconds=wait)

    async def expected(self) -> bytes:
        async with self._lock:
            if self._token is not None:
                return self._token
            if self.settings.auth_token is not None:
                self._token = self.settings.auth_token.get_secret_value().encode()
                return self._token
            if self.clock() < self._failed_until:
                raise self._unavailable()
            self.secret_reads += 1
            try:
                secret = await asyncio.to_thread(self._from_secrets_manager)
            except Exception as exc:  # any failure to read it: AccessDenied, unreachable, no such secret
                base = float(self.settings.secret_retry_seconds)
                self._backoff = min(base * 10, self._backoff * 2) if self._backoff else base
                self._failed_until = self.clock() + self._backoff
                log.warning("cannot read the bearer token secret %s: %s: %s (next try in %.0f s)",
                            self.settings.auth_token_secret_arn, type(exc).__name__, exc, self._backoff)
                raise self._unavailable() from exc
            if not secret:
                self._failed_until = self.clock() + float(self.settings.secret_retry_seconds)
                raise self._unavailable()
            self._token, self._backoff = secret.encode(), 0.0
            return self._token

    def _from_secrets_manager(self) -> str:
        import boto3
        from botocore.config import Config

        client: Any = boto3.client("secretsmanager", region_name=self.settings.region,
                                   endpoint_url=self.settings.secretsmanager_endpoint_url,
                                   config=Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 2}))
        return str(client.get_secret_value(SecretId=self.settings.auth_token_secret_arn)["SecretString"]).strip()

    async def verify(self, authorization: str | None) -> None:
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise Unauthorized("A bearer token is required (Authorization: Bearer <token>).",
                               suggestion="Send the API token configured for this deployment.")
        expected = await self.expected()
        if not hmac.compare_digest(presented.strip().encode("utf-8", "surrogatepass"), expected):
            raise Unauthorized("The bearer token is not valid.")


HEALTH_PATH = "/health"
"""Answered without a token: container and load-balancer health checks send none, and it says
nothing but {"status": "ok"}."""


async def require_bearer_token(request: Request) -> None:
    verifier: BearerTokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is not None and request.url.path != HEALTH_PATH:
        await verifier.verify(request.headers.get("authorization"))
