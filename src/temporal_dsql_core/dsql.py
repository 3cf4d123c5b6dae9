"""Aurora DSQL access shared by the profile store and the copilot's state store.

- ``Dialect``: DSQL and its PostgreSQL stand-in differ in DDL (``CREATE INDEX ASYNC``).
- ``IamTokenProvider``: the password callable asyncpg calls for every new connection; it mints a
  DSQL admin token with boto3 (a local SigV4 presign) and reuses it until shortly before expiry.
- ``create_pool``: an asyncpg pool authenticating with the token (or a static password locally).
- ``run_transaction``: runs a WHOLE transaction (acquire, BEGIN, body, COMMIT) and retries it on
  OCC conflicts (SQLSTATE 40001, OC000, OC001) with exponential backoff and full jitter. DSQL
  reports conflicts at COMMIT, PostgreSQL on the statement; retrying the whole unit covers both.
- ``apply_ddl``: one DDL statement per transaction, as DSQL requires.

asyncpg and boto3 are imported inside functions so importing this module stays cheap.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from whenever import Instant, TimeDelta

if TYPE_CHECKING:
    import asyncpg

__all__ = [
    "OCC_SQLSTATES",
    "Dialect",
    "IamTokenProvider",
    "OccRetryExhausted",
    "OccRetryPolicy",
    "StaticPassword",
    "apply_ddl",
    "create_index_sql",
    "create_pool",
    "is_occ_conflict",
    "run_transaction",
]

T = TypeVar("T")

OCC_SQLSTATES: frozenset[str] = frozenset({"40001", "OC000", "OC001"})


class Dialect(StrEnum):
    DSQL = "dsql"
    POSTGRES = "postgres"


def create_index_sql(dialect: Dialect, name: str, table: str, columns: Sequence[str],
                     *, unique: bool = False, include: Sequence[str] = ()) -> str:
    """DSQL builds secondary indexes asynchronously (``CREATE INDEX ASYNC``); PostgreSQL would
    parse ASYNC as the index name, so the stand-in gets a plain CREATE INDEX. ``include``: non-key
    columns stored in the index (``INCLUDE``, in DSQL's CREATE INDEX ASYNC syntax too)."""
    kind = "UNIQUE INDEX" if unique else "INDEX"
    asynchronous = " ASYNC" if dialect is Dialect.DSQL else ""
    covering = f" INCLUDE ({', '.join(include)})" if include else ""
    return f"CREATE {kind}{asynchronous} IF NOT EXISTS {name} ON {table} ({', '.join(columns)}){covering}"


@dataclass
class IamTokenProvider:
    """Password callable for asyncpg: a DSQL IAM token, refreshed before it expires.

    ``admin`` picks DbConnectAdmin (user ``admin``) over DbConnect (custom roles).
    """

    hostname: str
    region: str
    admin: bool = True
    expires_in: TimeDelta = field(default_factory=lambda: TimeDelta(minutes=15))
    refresh_margin: TimeDelta = field(default_factory=lambda: TimeDelta(minutes=3))
    _token: str | None = field(default=None, init=False, repr=False)
    _expires_at: Instant | None = field(default=None, init=False, repr=False)
    _client: Any = field(default=None, init=False, repr=False)

    def token(self, now: Instant | None = None) -> str:
        now = now or Instant.now()
        if self._token is None or self._expires_at is None or now >= self._expires_at - self.refresh_margin:
            self._token = self._generate()
            self._expires_at = now + self.expires_in
        return self._token

    def _generate(self) -> str:
        if self._client is None:
            import boto3

            self._client = boto3.client("dsql", region_name=self.region)
        seconds = int(self.expires_in.total("seconds"))
        if self.admin:
            return str(self._client.generate_db_connect_admin_auth_token(
                Hostname=self.hostname, Region=self.region, ExpiresIn=seconds))
        return str(self._client.generate_db_connect_auth_token(
            Hostname=self.hostname, Region=self.region, ExpiresIn=seconds))

    async def __call__(self) -> str:
        return self.token()


@dataclass(frozen=True)
class StaticPassword:
    """Password callable for the local PostgreSQL stand-in."""

    password: str

    async def __call__(self) -> str:
        return self.password


async def create_pool(*, host: str, port: int, user: str, database: str,
                      password: str | Callable[[], Awaitable[str]],
                      ssl: str | None = None, min_size: int = 1, max_size: int = 10,
                      timeout: float = 10.0) -> asyncpg.Pool:
    """An asyncpg pool; ``password`` is called once per new connection when it is a callable."""
    import asyncpg

    pool = await asyncpg.create_pool(
        host=host, port=port, user=user, database=database, password=password, ssl=ssl,
        min_size=min_size, max_size=max_size, timeout=timeout, command_timeout=timeout,
    )
    assert pool is not None
    return pool


def is_occ_conflict(exc: BaseException) -> bool:
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate in OCC_SQLSTATES


@dataclass(frozen=True)
class OccRetryPolicy:
    max_attempts: int = 20
    base_delay: float = 0.005
    max_delay: float = 0.5

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^attempt)]."""
        cap = min(self.max_delay, self.base_delay * (2 ** attempt))
        return (rng or random).uniform(0, cap)


class OccRetryExhausted(RuntimeError):
    """A transaction kept conflicting after every allowed attempt."""

    def __init__(self, attempts: int, last: BaseException) -> None:
        self.attempts = attempts
        self.last = last
        super().__init__(f"transaction still conflicting after {attempts} attempts: {last}")


async def run_transaction(pool: asyncpg.Pool, body: Callable[[asyncpg.Connection], Awaitable[T]],
                          *, policy: OccRetryPolicy | None = None,
                          isolation: str = "repeatable_read",
                          on_retry: Callable[[int, BaseException], None] | None = None) -> T:
    """Run ``body`` in its own transaction, retrying the whole transaction on OCC conflicts.

    DSQL runs at repeatable read (snapshot isolation with OCC), hence the default isolation.
    """
    policy = policy or OccRetryPolicy()
    for attempt in range(policy.max_attempts):
        try:
            async with pool.acquire() as conn, conn.transaction(isolation=isolation):
                return await body(conn)
        except Exception as exc:
            if not is_occ_conflict(exc):
                raise
            if attempt + 1 >= policy.max_attempts:
                raise OccRetryExhausted(attempt + 1, exc) from exc
            if on_retry is not None:
                on_retry(attempt + 1, exc)
            await asyncio.sleep(policy.delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


async def apply_ddl(pool: asyncpg.Pool, statements: Sequence[str]) -> None:
    """Apply DDL one statement per transaction (DSQL forbids mixing DDL in one transaction)."""
    for statement in statements:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(statement)
