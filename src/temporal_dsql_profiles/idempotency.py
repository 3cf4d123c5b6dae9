"""Idempotent creates: ``Idempotency-Key`` -> the profile it created, kept 24 h.

Table ``profile_idempotency_keys`` (DSQL-compatible: text primary key, no foreign keys): the key,
the SHA-256 of the create's canonical body, the profile id the key stands for and when it was
first used. The key row is inserted in the same transaction as the profile's ``pending`` row, so
a create that got as far as writing anything has its key recorded; a retry with the same key then
finds the profile id and either returns the profile (``ready``) or finishes the half-done create
under that same id (``pending`` or swept: the process that began it was killed or lost its
connection). A different body under a used key is refused (422). Keys older than 24 h are
forgotten: a reuse after that is a new create, and the sweep deletes them.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from whenever import Instant, TimeDelta

from temporal_dsql_profiles.errors import IdempotencyKeyReused

if TYPE_CHECKING:
    import asyncpg

    from temporal_dsql_profiles.models import CreateProfileRequest

__all__ = ["IDEMPOTENCY_KEY_MAX_CHARS", "IDEMPOTENCY_TTL", "IdempotentCreate", "claim_key", "expire_keys",
           "find_key", "idempotency_schema", "request_hash"]

IDEMPOTENCY_TTL = TimeDelta(hours=24)
IDEMPOTENCY_KEY_MAX_CHARS = 200


def idempotency_schema() -> list[str]:
    return ["""CREATE TABLE IF NOT EXISTS profile_idempotency_keys (
        idempotency_key TEXT PRIMARY KEY,
        request_hash TEXT NOT NULL,
        profile_id UUID NOT NULL,
        created_at_us BIGINT NOT NULL
    )"""]


def request_hash(request: CreateProfileRequest, cluster_id: str) -> str:
    """SHA-256 of the validated body (so whitespace and key order do not matter) and the cluster."""
    canonical = request.model_copy(update={"cluster_id": cluster_id}).model_dump_json()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IdempotentCreate:
    key: str
    body_hash: str


def _us(instant: Instant) -> int:
    return instant.timestamp(unit="nanosecond") // 1000


async def find_key(conn: asyncpg.Connection, create: IdempotentCreate, now: Instant) -> uuid.UUID | None:
    """The profile id a live key stands for (None: unused or expired); 422 for another body."""
    row = await conn.fetchrow(
        "SELECT request_hash, profile_id FROM profile_idempotency_keys WHERE idempotency_key = $1 "
        "AND created_at_us >= $2", create.key, _us(now - IDEMPOTENCY_TTL))
    if row is None:
        return None
    if row["request_hash"] != create.body_hash:
        raise IdempotencyKeyReused(create.key)
    return uuid.UUID(str(row["profile_id"]))


async def claim_key(conn: asyncpg.Connection, create: IdempotentCreate, profile_id: uuid.UUID,
                    now: Instant) -> uuid.UUID:
    """Record ``create.key`` for ``profile_id`` unless a live row has it; the id the key stands for."""
    existing = await find_key(conn, create, now)
    if existing is not None:
        return existing
    # An expired row under the same key is replaced; a live one was checked just above (and a
    # concurrent claim conflicts: the whole transaction is retried and then finds it).
    await conn.execute(
        """INSERT INTO profile_idempotency_keys (idempotency_key, request_hash, profile_id, created_at_us)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (idempotency_key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
               profile_id = EXCLUDED.profile_id, created_at_us = EXCLUDED.created_at_us""",
        create.key, create.body_hash, profile_id, _us(now))
    return profile_id


async def expire_keys(conn: asyncpg.Connection, now: Instant) -> Any:
    return await conn.execute("DELETE FROM profile_idempotency_keys WHERE created_at_us < $1",
                              _us(now - IDEMPOTENCY_TTL))
