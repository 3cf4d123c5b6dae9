"""Bearer-token auth for the "token" mode of the API (the "iam" mode is enforced by AWS).

The token is read once, from Secrets Manager by ARN (boto3 imported on first use) or from the
``PROFILES_AUTH_TOKEN`` setting locally, and compared in constant time.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from behaviour_profiles.errors import ProfileError
from behaviour_profiles.settings import ProfileSettings

__all__ = ["HEALTH_PATH", "BearerTokenVerifier", "Unauthorized", "require_bearer_token"]


class Unauthorized(ProfileError):
    status = 401
    title = "Unauthorized"


@dataclass
class BearerTokenVerifier:
    settings: ProfileSettings
    _token: bytes | None = field(default=None, init=False, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def expected(self) -> bytes:
        async with self._lock:
            if self._token is None:
                if self.settings.auth_token is not None:
                    self._token = self.settings.auth_token.get_secret_value().encode()
                else:
                    self._token = (await asyncio.to_thread(self._from_secrets_manager)).encode()
            return self._token

    def _from_secrets_manager(self) -> str:
        import boto3

        client: Any = boto3.client("secretsmanager", region_name=self.settings.region,
                                   endpoint_url=self.settings.secretsmanager_endpoint_url)
        return str(client.get_secret_value(SecretId=self.settings.auth_token_secret_arn)["SecretString"]).strip()

    async def verify(self, authorization: str | None) -> None:
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise Unauthorized("A bearer token is required (Authorization: Bearer <token>).",
                               suggestion="Send the API token configured for this deployment.")
        if not hmac.compare_digest(presented.strip().encode(), await self.expected()):
            raise Unauthorized("The bearer token is not valid.")


HEALTH_PATH = "/health"
"""Answered without a token: container and load-balancer health checks send none, and it says
nothing but {"status": "ok"}."""


async def require_bearer_token(request: Request) -> None:
    verifier: BearerTokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is not None and request.url.path != HEALTH_PATH:
        await verifier.verify(request.headers.get("authorization"))
