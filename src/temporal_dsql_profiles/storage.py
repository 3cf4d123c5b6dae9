"""Profile storage: the immutable JSON document in S3, the metadata index in DSQL.

Tables (DSQL-compatible: UUID primary keys, no foreign keys, no sequences, one DDL per
transaction, ``CREATE INDEX ASYNC`` on DSQL and plain ``CREATE INDEX`` on PostgreSQL):

- ``behaviour_profiles``: one row per profile; ``state`` is ``pending`` while its document is being
  written, ``ready`` once visible, ``deleting`` while being removed. Only ``ready`` rows are ever
  listed or returned.
- ``profile_baselines``: the baseline of each (cluster, namespace) scope, keyed by the scope, so
  there is exactly one baseline per scope by construction; switching it is one upsert in one
  transaction (atomic). The flag is never copied into the S3 document, so it cannot go stale.

Create ordering (no half-visible profile, no orphan):
1. insert the row as ``pending`` (invisible);
2. put the document to S3 with ``IfNoneMatch="*"`` (create-only; documents are immutable);
3. flip the row to ``ready`` (visible).
If step 2 fails the pending row is deleted. If step 3 raises, the UPDATE may still have
committed (the COMMIT reply lost with the connection), so the row's state is read again first:
``ready`` means the profile is complete and the save succeeded; ``pending`` means it did not
commit, so the S3 object and the row are deleted; an unreadable state leaves the object alone
(deleting it could leave a ``ready`` row without its document) and only an invisible ``pending``
row can remain. A compensation that fails or is skipped leaves only an invisible ``pending`` row,
which ``sweep_stale_pending`` removes (together with any object) later.

Delete ordering: flip to ``deleting`` and drop its baseline in one transaction (invisible at
once), delete the S3 object, delete the row. A repeated DELETE resumes a half-done one.

Listing reads ``profile_list_keys`` (``temporal_dsql_profiles.listing``): its rows are written in the
transaction that makes a profile ``ready`` and deleted in the one that makes it ``deleting``, so
a page costs the page at any depth and for any combination of filters.

Limits: a stored window is at most 24 h (``MAX_WINDOW_HOURS``), a stored document at most
``MAX_DOCUMENT_BYTES`` (checked on save and again before a read, so compare and drift never load
an unbounded document). Every write transaction modifies at most 8 rows plus the profile's own,
far below DSQL's 3,000-row limit; the one-off key backfill writes at most 2,400 per transaction.

Every transaction runs through ``temporal_dsql_core.dsql.run_transaction`` (whole-transaction OCC retry).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from whenever import Instant, TimeDelta

from temporal_dsql_core.dsql import (
    Dialect,
    IamTokenProvider,
    OccRetryExhausted,
    OccRetryPolicy,
    StaticPassword,
    apply_ddl,
    create_index_sql,
    create_pool,
    run_transaction,
)
from temporal_dsql_profiles.errors import (
    BaselineWithoutTelemetry,
    InvalidProfileRequest,
    ProfileNotFound,
    StateStoreUnavailable,
    StorageUnavailable,
)
from temporal_dsql_profiles.idempotency import (
    IdempotentCreate,
    claim_key,
    expire_keys,
    find_key,
    idempotency_schema,
)
from temporal_dsql_profiles.limits import CURSOR_MAX_CHARS
from temporal_dsql_profiles.listing import ListQuery, key_rows, key_table_statements, keys_of, list_query
from temporal_dsql_profiles.models import MAX_WINDOW_HOURS, BehaviourProfile, ProfileMetadata, ProfilePage

if TYPE_CHECKING:
    import asyncpg

    from temporal_dsql_profiles.settings import ProfileSettings

__all__ = ["BACKFILL_BATCH_PROFILES", "DOCUMENT_PREFIX", "MAX_DOCUMENT_BYTES", "ListFilters", "ProfileStore",
           "document_key", "schema_statements"]

T = TypeVar("T")

DOCUMENT_PREFIX = "profiles/"
MAX_PAGE = 500
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
"""The largest profile document stored or read (JSON bytes). A real profile is tens of KB (the
catalog's telemetry plus a few hundred config keys); the bound keeps one compare or drift read from
holding hundreds of MB however the document was made."""
BACKFILL_BATCH_PROFILES = 300
"""Profiles whose list keys one backfill transaction writes (<= 8 rows each: 2,400 < 3,000)."""
_KEYS_BACKFILLED = "profile_list_keys.v1"
_INSERT_KEYS_NEW = ("INSERT INTO profile_list_keys (list_key, profile_id, created_at_us, window_start_us,"
                    " window_end_us) VALUES ($1, $2, $3, $4, $5)")
_INSERT_KEYS = f"{_INSERT_KEYS_NEW} ON CONFLICT DO NOTHING"


class _KeyClaimed(Exception):
    """Another request claimed the Idempotency-Key first: continue under its profile id."""

    def __init__(self, profile_id: str) -> None:
        super().__init__(profile_id)
        self.profile_id = profile_id


def document_key(profile_id: str) -> str:
    return f"{DOCUMENT_PREFIX}{profile_id}.json"


def schema_statements(dialect: Dialect) -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS behaviour_profiles (
            id UUID PRIMARY KEY,
            name TEXT NOT NULL,
            label TEXT,
            cluster_id TEXT NOT NULL,
            namespace TEXT,
            task_queue TEXT,
            window_start_us BIGINT NOT NULL,
            window_end_us BIGINT NOT NULL,
            created_at_us BIGINT NOT NULL,
            state TEXT NOT NULL,
            s3_key TEXT NOT NULL,
            observed_metrics INTEGER
        )""",
        # Tables created before observed_metrics existed (nullable, no default: DSQL's ADD COLUMN).
        "ALTER TABLE behaviour_profiles ADD COLUMN IF NOT EXISTS observed_metrics INTEGER",
        """CREATE TABLE IF NOT EXISTS profile_baselines (
            scope_key TEXT PRIMARY KEY,
            cluster_id TEXT NOT NULL,
            namespace TEXT,
            profile_id UUID NOT NULL,
            updated_at_us BIGINT NOT NULL
        )""",
        create_index_sql(dialect, "behaviour_profiles_created_idx", "behaviour_profiles",
                         ["created_at_us", "id"]),
        create_index_sql(dialect, "behaviour_profiles_cluster_idx", "behaviour_profiles",
                         ["cluster_id", "created_at_us", "id"]),
        create_index_sql(dialect, "profile_baselines_profile_idx", "profile_baselines", ["profile_id"]),
        # The sweep's "pending or deleting, older than" without reading every ready row.
        create_index_sql(dialect, "behaviour_profiles_state_idx", "behaviour_profiles", ["state", "created_at_us"]),
        *key_table_statements(),
        create_index_sql(dialect, "profile_list_keys_window_idx", "profile_list_keys",
                         ["list_key", "window_end_us", "profile_id"], include=["window_start_us"]),
        """CREATE TABLE IF NOT EXISTS profile_schema_marks (
            name TEXT PRIMARY KEY,
            done_at_us BIGINT NOT NULL
        )""",
        *idempotency_schema(),
    ]


def _us(instant: Instant) -> int:
    return instant.timestamp(unit="nanosecond") // 1000


def _instant(us: int) -> Instant:
    return Instant.from_timestamp(us, unit="microsecond")


def scope_key(cluster_id: str, namespace: str | None) -> str:
    # \x1f cannot appear in either part's meaningful text; None and "" namespaces are one scope.
    return f"{cluster_id}\x1f{namespace or ''}"


@dataclass(frozen=True)
class ListFilters:
    cluster: str | None = None
    label: str | None = None
    namespace: str | None = None
    start: Instant | None = None
    """Profiles whose window ends at or after this instant."""
    end: Instant | None = None
    """Profiles whose window starts at or before this instant."""


def _encode_cursor(created_us: int, profile_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_us}|{profile_id}".encode()).decode().rstrip("=")


_INT64_MAX = 2**63 - 1


def _decode_cursor(cursor: str) -> tuple[int, uuid.UUID]:
    """The keyset position of a cursor this API returned; anything else (forged, truncated,
    out of BIGINT range, not canonical) is a 400 naming ``cursor``, never a 500 from the store."""
    invalid = InvalidProfileRequest("cursor is not one this API returned", field="cursor",
                                    suggestion="Pass next_cursor from the previous page unchanged.")
    if len(cursor) > CURSOR_MAX_CHARS or not cursor.isascii():
        raise invalid
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, profile_id = text.split("|", 1)
        position = int(created), uuid.UUID(profile_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid from exc
    # Only what _encode_cursor produces: a BIGINT in range and the canonical encoding.
    if not 0 <= position[0] <= _INT64_MAX or _encode_cursor(position[0], str(position[1])) != cursor:
        raise invalid
    return position


def _metadata(row: Any) -> ProfileMetadata:
    return ProfileMetadata(
        id=str(row["id"]), name=row["name"], label=row["label"], cluster_id=row["cluster_id"],
        namespace=row["namespace"], task_queue=row["task_queue"],
        time_window_start=_instant(row["window_start_us"]), time_window_end=_instant(row["window_end_us"]),
        is_baseline=bool(row["is_baseline"]), created_at=_instant(row["created_at_us"]),
        observed_metrics=row["observed_metrics"], telemetry_empty=row["observed_metrics"] == 0,
    )


_SELECT_COLUMNS = """SELECT p.id, p.name, p.label, p.cluster_id, p.namespace, p.task_queue, p.window_start_us,
                    p.window_end_us, p.created_at_us, p.observed_metrics,
                    EXISTS (SELECT 1 FROM profile_baselines b WHERE b.profile_id = p.id) AS is_baseline"""
_SELECT = f"{_SELECT_COLUMNS} FROM behaviour_profiles p"


def parse_profile_id(profile_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(profile_id)
    except ValueError:
        raise ProfileNotFound(profile_id) from None


class ProfileStore:
    """S3 documents + DSQL index. Construct with ``from_settings`` or directly (tests)."""

    def __init__(self, *, bucket: str, s3_client: Any | Callable[[], Any],
                 pool_factory: Callable[[], Awaitable[asyncpg.Pool]], dialect: Dialect,
                 retry: OccRetryPolicy | None = None, isolation: str = "repeatable_read",
                 manage_schema: bool = True) -> None:
        """``s3_client``: a boto3 S3 client, or a zero-argument factory called on first use (keeps
        boto3 out of the Lambda's cold import). ``isolation``: DSQL's repeatable read by default;
        the contention tests run PostgreSQL at ``serializable`` to provoke more real conflicts."""
        self.bucket = bucket
        self._s3_value = s3_client
        self._pool_factory = pool_factory
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._schema_ready = not manage_schema  # a dedicated role runs no DDL: the set-up did
        self.dialect = dialect
        self.retry = retry or OccRetryPolicy()
        self.isolation = isolation
        self.retries = 0
        """OCC retries performed so far (observability and tests)."""
        self.conflicts: dict[str, int] = {}
        """The conflicts behind those retries, by SQLSTATE (40001, OC000, OC001)."""

    @classmethod
    def from_settings(cls, settings: ProfileSettings) -> ProfileStore:
        def s3() -> Any:
            import boto3
            from botocore.config import Config

            return boto3.client(
                "s3", region_name=settings.region, endpoint_url=settings.s3_endpoint_url,
                config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}),
            )

        async def pool_factory() -> asyncpg.Pool:
            if settings.database_dsn is not None:
                dsn = urlsplit(settings.database_dsn.get_secret_value())
                return await create_pool(
                    host=dsn.hostname or "127.0.0.1", port=dsn.port or 5432, user=dsn.username or settings.db_user,
                    database=(dsn.path or "/postgres").lstrip("/") or settings.db_name,
                    password=StaticPassword(dsn.password or ""), max_size=settings.db_pool_max_size,
                    timeout=settings.db_connect_timeout_seconds,
                )
            if settings.dsql_endpoint is None:
                raise StateStoreUnavailable("No state store configured: set PROFILES_DSQL_ENDPOINT "
                                            "(or PROFILES_DATABASE_DSN for a PostgreSQL stand-in).")
            return await create_pool(
                host=settings.dsql_endpoint, port=5432, user=settings.db_user, database=settings.db_name,
                password=IamTokenProvider(hostname=settings.dsql_endpoint, region=settings.region,
                                          admin=settings.db_user == "admin"),
                ssl="require", max_size=settings.db_pool_max_size, timeout=settings.db_connect_timeout_seconds,
            )

        return cls(bucket=settings.bucket, s3_client=s3, pool_factory=pool_factory, dialect=settings.dialect,
                   manage_schema=settings.manage_schema)

    # --- plumbing ------------------------------------------------------------------------------

    @property
    def _s3(self) -> Any:
        if callable(self._s3_value) and not hasattr(self._s3_value, "put_object"):
            self._s3_value = self._s3_value()
        return self._s3_value

    async def close(self) -> None:
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pool.close(), timeout=5)
            self._pool = None

    async def pool(self) -> asyncpg.Pool:
        """The connection pool (schema applied when this store manages it), for the set-up job."""
        return await self._get_pool()

    async def _get_pool(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                try:
                    self._pool = await self._pool_factory()
                except StateStoreUnavailable:
                    raise
                except Exception as exc:
                    raise StateStoreUnavailable(f"Cannot connect to the state store: {type(exc).__name__}: {exc}",
                                                retry_after_seconds=5) from exc
            if not self._schema_ready:
                pool = self._pool
                try:
                    await apply_ddl(pool, schema_statements(self.dialect))
                    await self._backfill_list_keys(pool)
                except Exception as exc:
                    raise StateStoreUnavailable(f"Cannot prepare the state store schema: {exc}") from exc
                self._schema_ready = True
            return self._pool

    async def _backfill_list_keys(self, pool: asyncpg.Pool) -> None:
        """Write the list keys of profiles stored before ``profile_list_keys`` existed, once.

        Batches of ``BACKFILL_BATCH_PROFILES`` in id order, each its own transaction of at most
        2,400 rows; inserts are ``ON CONFLICT DO NOTHING``, so a run cut short by a crash is simply
        run again from the start by the next cold start. The mark is written last."""
        async def done(conn: asyncpg.Connection) -> bool:
            return bool(await conn.fetchval("SELECT 1 FROM profile_schema_marks WHERE name = $1", _KEYS_BACKFILLED))

        if await run_transaction(pool, done, policy=self.retry, isolation=self.isolation):
            return
        last = uuid.UUID(int=0)
        while True:
            async def batch(conn: asyncpg.Connection, after: uuid.UUID = last) -> uuid.UUID | None:
                rows = await conn.fetch(
                    "SELECT id, cluster_id, namespace, label, created_at_us, window_start_us, window_end_us"
                    " FROM behaviour_profiles WHERE id > $1 AND state = 'ready' ORDER BY id LIMIT $2",
                    after, BACKFILL_BATCH_PROFILES)
                keys = [k for r in rows for k in key_rows(r["id"], r["cluster_id"], r["namespace"], r["label"],
                                                          r["created_at_us"], r["window_start_us"], r["window_end_us"])]
                if keys:
                    await conn.executemany(_INSERT_KEYS, keys)
                return rows[-1]["id"] if len(rows) == BACKFILL_BATCH_PROFILES else None

            following = await run_transaction(pool, batch, policy=self.retry, isolation=self.isolation)
            if following is None:
                break
            last = following

        async def mark(conn: asyncpg.Connection) -> None:
            await conn.execute("INSERT INTO profile_schema_marks (name, done_at_us) VALUES ($1, $2)"
                               " ON CONFLICT (name) DO NOTHING", _KEYS_BACKFILLED, _us(Instant.now()))

        await run_transaction(pool, mark, policy=self.retry, isolation=self.isolation)

    async def _tx(self, body: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        import asyncpg

        pool = await self._get_pool()

        def count(_attempt: int, exc: BaseException) -> None:
            self.retries += 1
            code = str(getattr(exc, "sqlstate", "?"))
            self.conflicts[code] = self.conflicts.get(code, 0) + 1

        try:
            return await run_transaction(pool, body, policy=self.retry, on_retry=count, isolation=self.isolation)
        except OccRetryExhausted as exc:
            raise StateStoreUnavailable(f"The state store kept reporting conflicts: {exc}",
                                        retry_after_seconds=1) from exc
        except (TimeoutError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError) as exc:
            raise StateStoreUnavailable(f"The state store is unreachable: {type(exc).__name__}: {exc}",
                                        retry_after_seconds=5) from exc

    async def _s3_call(self, what: str, call: Callable[[], T]) -> T:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(call)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise StorageUnavailable(f"S3 {what} failed: {code}: {exc}", bucket=self.bucket, s3_error=code) from exc
        except BotoCoreError as exc:
            # Unreachable or timed out: a retry helps once S3 is back (Retry-After on the 502).
            raise StorageUnavailable(f"S3 {what} failed: {type(exc).__name__}: {exc}", bucket=self.bucket,
                                     retry_after_seconds=5) from exc

    def read_object(self, key: str, *, max_bytes: int | None = None) -> str | None:
        """Synchronous S3 read (None when absent), for ``DeployedConfig.from_objects``.

        With ``max_bytes``, an object larger than that is refused from its ContentLength, before
        its body is read (StorageUnavailable naming the size and the limit)."""
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
        except self._s3.exceptions.NoSuchKey:
            return None
        size = int(response.get("ContentLength") or 0)
        if max_bytes is not None and size > max_bytes:
            response["Body"].close()
            raise StorageUnavailable(f"The object {key} is {size} bytes, over the {max_bytes}-byte limit of a "
                                     "profile document; it is not read.", bucket=self.bucket, key=key)
        body = response["Body"].read() if max_bytes is None else response["Body"].read(max_bytes + 1)
        if max_bytes is not None and len(body) > max_bytes:
            raise StorageUnavailable(f"The object {key} is over the {max_bytes}-byte limit of a profile document; "
                                     "it is not read.", bucket=self.bucket, key=key)
        return str(body.decode())

    async def read_deployed_config(self) -> Any:
        from temporal_dsql_core.deployed_config import DeployedConfig

        return await self._s3_call("read of config/", lambda: DeployedConfig.from_objects(self.read_object))

    # --- operations ----------------------------------------------------------------------------

    async def idempotent_profile(self, create: IdempotentCreate) -> tuple[str, str | None] | None:
        """(profile id, its row's state or None when swept) a live Idempotency-Key stands for;
        None for a new key; IdempotencyKeyReused (422) for the same key with another body."""
        async def read(conn: asyncpg.Connection) -> tuple[str, str | None] | None:
            pid = await find_key(conn, create, Instant.now())
            if pid is None:
                return None
            state = await conn.fetchval("SELECT state FROM behaviour_profiles WHERE id = $1", pid)
            return str(pid), None if state is None else str(state)

        return await self._tx(read)

    async def save(self, profile: BehaviourProfile, *, idempotency: IdempotentCreate | None = None) -> ProfileMetadata:
        """Store a new profile (see the module docstring for the ordering).

        With ``idempotency`` the key is claimed in the pending row's transaction; a create under a
        key another request claimed first continues under that request's profile id, and a retry
        of a half-done create (its process killed) finishes it: the pending row is re-inserted if
        it was swept, and a document the earlier attempt already stored is kept."""
        for _ in range(3):
            try:
                return await self._save(profile, idempotency)
            except _KeyClaimed as claimed:
                profile = profile.model_copy(update={"id": claimed.profile_id})
        raise StateStoreUnavailable("the Idempotency-Key kept moving between profiles", retry_after_seconds=1)

    async def _save(self, profile: BehaviourProfile, idempotency: IdempotentCreate | None) -> ProfileMetadata:
        pid = uuid.UUID(profile.id)
        key = document_key(profile.id)
        if profile.time_window_end - profile.time_window_start > TimeDelta(hours=MAX_WINDOW_HOURS):
            raise InvalidProfileRequest(
                f"a stored profile covers at most {MAX_WINDOW_HOURS} hours from time_window_start to time_window_end",
                field="time_window_end",
                allowed=[f"end - start <= {MAX_WINDOW_HOURS}h"],
                suggestion=f"Store one profile per {MAX_WINDOW_HOURS} h slice.")
        document = profile.model_copy(update={"is_baseline": False}).model_dump_json()
        if len(document.encode()) > MAX_DOCUMENT_BYTES:
            raise InvalidProfileRequest(
                f"the profile document (its config_snapshot and telemetry) would be {len(document.encode())} bytes, "
                f"over the {MAX_DOCUMENT_BYTES}-byte limit of a stored profile", field="config_snapshot", allowed=[f"<= {MAX_DOCUMENT_BYTES} bytes"],
                suggestion="Leave out config entries the comparison does not need (large values, generated keys).")
        keys = key_rows(pid, profile.cluster_id, profile.namespace, profile.label, _us(profile.created_at),
                        _us(profile.time_window_start), _us(profile.time_window_end))

        async def insert_pending(conn: asyncpg.Connection) -> tuple[str, int]:
            if idempotency is not None:
                claimed = await claim_key(conn, idempotency, pid, Instant.now())
                if claimed != pid:
                    raise _KeyClaimed(str(claimed))
            await conn.execute(
                """INSERT INTO behaviour_profiles (id, name, label, cluster_id, namespace, task_queue,
                       window_start_us, window_end_us, created_at_us, state, s3_key, observed_metrics)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11)
                   ON CONFLICT (id) DO NOTHING""",
                pid, profile.name, profile.label, profile.cluster_id, profile.namespace, profile.task_queue,
                _us(profile.time_window_start), _us(profile.time_window_end), _us(profile.created_at), key,
                profile.telemetry.observed_count(),
            )
            row = await conn.fetchrow("SELECT state, created_at_us FROM behaviour_profiles WHERE id = $1", pid)
            return str(row["state"]), int(row["created_at_us"])

        async def current_state(conn: asyncpg.Connection) -> str | None:
            state = await conn.fetchval("SELECT state FROM behaviour_profiles WHERE id = $1", pid)
            return None if state is None else str(state)

        async def mark_ready(conn: asyncpg.Connection) -> None:
            status = await conn.execute(
                "UPDATE behaviour_profiles SET state = 'ready' WHERE id = $1 AND state = 'pending'", pid)
            # UPDATE 0 after an earlier attempt whose COMMIT reply was lost: already ready is done.
            if status != "UPDATE 1":
                if await current_state(conn) != "ready":
                    raise StateStoreUnavailable(f"profile {profile.id} vanished while being stored")
                return  # made ready (and its keys written) by the attempt whose reply was lost
            # Listed from the commit that makes it visible. A plain INSERT (the flip above proves
            # the keys are new): no ON CONFLICT check, which at SERIALIZABLE would lock the hot
            # index pages every concurrent create inserts into.
            await conn.executemany(_INSERT_KEYS_NEW, keys)

        async def drop_pending(conn: asyncpg.Connection) -> None:
            await conn.execute("DELETE FROM behaviour_profiles WHERE id = $1 AND state = 'pending'", pid)

        state, created_us = await self._tx(insert_pending)
        if state == "ready":  # a retry of a create that completed: the same profile
            return await self.get_metadata(profile.id)
        if state != "pending":
            raise StateStoreUnavailable(f"profile {profile.id} is being deleted", retry_after_seconds=1)
        if created_us != _us(profile.created_at):
            # Finishing a create another attempt began: its row's creation time is the profile's,
            # so the document, the row and the list keys agree.
            profile = profile.model_copy(update={"created_at": _instant(created_us)})
            document = profile.model_copy(update={"is_baseline": False}).model_dump_json()
            keys[:] = key_rows(pid, profile.cluster_id, profile.namespace, profile.label, created_us,
                               _us(profile.time_window_start), _us(profile.time_window_end))
        try:
            await self._s3_call("put", lambda: self._s3.put_object(
                Bucket=self.bucket, Key=key, Body=document.encode(), ContentType="application/json",
                IfNoneMatch="*"))
        except StorageUnavailable as exc:
            # Create-only put refused: an earlier attempt of this idempotent create stored it.
            if not (idempotency is not None and exc.extensions.get("s3_error") == "PreconditionFailed"):
                with contextlib.suppress(Exception):
                    await self._tx(drop_pending)
                raise
        except Exception:
            with contextlib.suppress(Exception):
                await self._tx(drop_pending)
            raise
        try:
            await self._tx(mark_ready)
        except Exception:
            # The error may have come after the commit (lost COMMIT reply): ask the store.
            after: str | None
            try:
                after = await self._tx(current_state)
            except Exception:
                after = "unknown"
            if after == "ready":
                return await self.get_metadata(profile.id)
            if after in ("pending", None):
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self._s3.delete_object, Bucket=self.bucket, Key=key)
                with contextlib.suppress(Exception):
                    await self._tx(drop_pending)
            raise
        return await self.get_metadata(profile.id)

    async def get_metadata(self, profile_id: str) -> ProfileMetadata:
        pid = parse_profile_id(profile_id)

        async def read(conn: asyncpg.Connection) -> Any:
            return await conn.fetchrow(f"{_SELECT} WHERE p.id = $1 AND p.state = 'ready'", pid)

        row = await self._tx(read)
        if row is None:
            raise ProfileNotFound(profile_id)
        return _metadata(row)

    async def get(self, profile_id: str) -> BehaviourProfile:
        meta = await self.get_metadata(profile_id)
        key = document_key(meta.id)

        def fetch() -> str | None:
            return self.read_object(key, max_bytes=MAX_DOCUMENT_BYTES)

        body = await self._s3_call("get", fetch)
        if body is None:
            await self.get_metadata(profile_id)  # deleted meanwhile: 404, not a storage fault
            raise StorageUnavailable(f"The document of profile {profile_id} is missing from S3 ({key}).",
                                     bucket=self.bucket, key=key)
        profile = BehaviourProfile.model_validate_json(body)
        return profile.model_copy(update={"is_baseline": meta.is_baseline})

    def page_query(self, filters: ListFilters, *, limit: int,
                   position: tuple[int, uuid.UUID] | None = None) -> ListQuery:
        """The exact SQL and arguments of one list page after ``position`` (the decoded cursor:
        the order column's value and the id of the last row of the previous page)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidProfileRequest(f"limit must be between 1 and {MAX_PAGE}", field="limit",
                                        allowed=[f"1..{MAX_PAGE}"], suggestion="Page with next_cursor instead.")
        if filters.start is not None and filters.end is not None and filters.end < filters.start:
            raise InvalidProfileRequest("the filter's end is before its start", field="end",
                                        suggestion="Swap start and end.")
        return list_query(
            f"{_SELECT_COLUMNS} FROM", cluster=filters.cluster, namespace=filters.namespace, label=filters.label,
            start_us=None if filters.start is None else _us(filters.start),
            end_us=None if filters.end is None else _us(filters.end), cursor=position, limit=limit)

    async def list(self, filters: ListFilters, *, limit: int = 50, cursor: str | None = None) -> ProfilePage:
        """One page, newest first (created; with a time range, latest window end), keyset-paged."""
        return await self.list_after(filters, limit=limit,
                                     position=None if cursor is None else _decode_cursor(cursor))

    async def list_after(self, filters: ListFilters, *, limit: int = 50,
                         position: tuple[int, uuid.UUID] | None = None) -> ProfilePage:
        """The page after a decoded cursor position (what ``list`` runs once the cursor is read)."""
        query = self.page_query(filters, limit=limit, position=position)

        async def read(conn: asyncpg.Connection) -> list[Any]:
            return list(await conn.fetch(query.sql, *query.args))

        rows = await self._tx(read)
        items = [_metadata(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = _encode_cursor(last[query.order_column], str(last["id"]))
        return ProfilePage(items=items, next_cursor=next_cursor)

    async def set_baseline(self, profile_id: str) -> ProfileMetadata:
        """Make the profile the baseline of its (cluster, namespace): one atomic transaction.

        A profile whose window had no telemetry is refused (BaselineWithoutTelemetry, 409): every
        drift finding against it would be "missing"."""
        pid = parse_profile_id(profile_id)
        meta = await self.get_metadata(profile_id)
        if meta.observed_metrics is None and (await self.get(profile_id)).telemetry_empty:
            raise BaselineWithoutTelemetry(profile_id)  # indexed before observed_metrics: read the document

        async def switch(conn: asyncpg.Connection) -> bool:
            # FOR UPDATE puts the profile row in this transaction's write set, so a concurrent
            # delete of the same profile conflicts instead of leaving a dangling baseline.
            row = await conn.fetchrow(
                "SELECT cluster_id, namespace, observed_metrics FROM behaviour_profiles "
                "WHERE id = $1 AND state = 'ready' FOR UPDATE", pid)
            if row is None:
                return False
            if row["observed_metrics"] == 0:
                raise BaselineWithoutTelemetry(profile_id)
            await conn.execute(
                """INSERT INTO profile_baselines (scope_key, cluster_id, namespace, profile_id, updated_at_us)
                   VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (scope_key) DO UPDATE
                   SET profile_id = EXCLUDED.profile_id, updated_at_us = EXCLUDED.updated_at_us""",
                scope_key(row["cluster_id"], row["namespace"]), row["cluster_id"], row["namespace"], pid,
                _us(Instant.now()),
            )
            return True

        if not await self._tx(switch):
            raise ProfileNotFound(profile_id)
        return await self.get_metadata(profile_id)

    async def baseline_for(self, cluster_id: str, namespace: str | None) -> ProfileMetadata | None:
        async def read(conn: asyncpg.Connection) -> Any:
            return await conn.fetchrow(
                f"{_SELECT} JOIN profile_baselines b2 ON b2.profile_id = p.id "
                "WHERE b2.scope_key = $1 AND p.state = 'ready'", scope_key(cluster_id, namespace))

        row = await self._tx(read)
        return None if row is None else _metadata(row)

    async def delete(self, profile_id: str) -> None:
        pid = parse_profile_id(profile_id)

        async def mark(conn: asyncpg.Connection) -> str | None:
            row = await conn.fetchrow(
                "SELECT s3_key, state, cluster_id, namespace, label, created_at_us FROM behaviour_profiles"
                " WHERE id = $1 AND state IN ('ready', 'deleting') FOR UPDATE", pid)
            if row is None:
                return None
            await conn.execute("DELETE FROM profile_baselines WHERE profile_id = $1", pid)
            await conn.execute(
                "DELETE FROM profile_list_keys WHERE list_key = ANY($1::uuid[]) AND created_at_us = $2"
                " AND profile_id = $3",
                list(keys_of(row["cluster_id"], row["namespace"], row["label"])),
                row["created_at_us"], pid)
            await conn.execute("UPDATE behaviour_profiles SET state = 'deleting' WHERE id = $1", pid)
            return str(row["s3_key"])

        async def remove(conn: asyncpg.Connection) -> None:
            await conn.execute("DELETE FROM behaviour_profiles WHERE id = $1 AND state = 'deleting'", pid)

        key = await self._tx(mark)
        if key is None:
            raise ProfileNotFound(profile_id)
        await self._s3_call("delete", lambda: self._s3.delete_object(Bucket=self.bucket, Key=key))
        await self._tx(remove)

    async def sweep_stale_pending(self, older_than: TimeDelta = TimeDelta(minutes=15)) -> int:
        """Remove invisible rows (and their objects) left by a failed compensation."""
        cutoff = _us(Instant.now() - older_than)

        async def stale(conn: asyncpg.Connection) -> list[Any]:
            return list(await conn.fetch(
                "SELECT id, s3_key FROM behaviour_profiles WHERE state IN ('pending', 'deleting') "
                "AND created_at_us < $1", cutoff))

        rows = await self._tx(stale)
        for row in rows:
            key: str = row["s3_key"]

            def remove_object(k: str = key) -> Any:
                return self._s3.delete_object(Bucket=self.bucket, Key=k)

            await self._s3_call("delete", remove_object)

            async def drop(conn: asyncpg.Connection, pid: Any = row["id"]) -> None:
                await conn.execute("DELETE FROM behaviour_profiles WHERE id = $1 AND state <> 'ready'", pid)

            await self._tx(drop)

        async def forget_keys(conn: asyncpg.Connection) -> None:
            await expire_keys(conn, Instant.now())

        await self._tx(forget_keys)
        return len(rows)

    async def count_rows(self, state: str | None = None, *, cluster_id: str | None = None) -> int:
        """Index rows, any state unless ``state``; ``cluster_id`` narrows to one cluster so a caller
        sharing the table with others (tests on a session database) counts only rows it wrote."""
        async def read(conn: asyncpg.Connection) -> int:
            return int(await conn.fetchval(
                "SELECT count(*) FROM behaviour_profiles"
                " WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR cluster_id = $2)",
                state, cluster_id))

        return await self._tx(read)

    async def baseline_count(self, cluster_id: str, namespace: str | None) -> int:
        async def read(conn: asyncpg.Connection) -> int:
            return int(await conn.fetchval("SELECT count(*) FROM profile_baselines WHERE scope_key = $1",
                                           scope_key(cluster_id, namespace)))

        return await self._tx(read)
