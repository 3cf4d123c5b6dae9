"""The profile list at scale: N profiles seeded with COPY, the documented list shapes, their plans.

Used by ``make bench`` (1M rows) and by the EXPLAIN test in ``make test`` (100k rows), so both
judge the same shapes over the same data. Seeding writes ``behaviour_profiles`` and
``profile_list_keys`` rows directly with COPY in chunks, in a session that skips the stand-in's
DSQL row-limit trigger (``session_replication_role = replica``): seeding is not a store write path.

The data: one profile a minute going back in time (30-minute windows), ten clusters, three
namespaces, six labels and no label on one profile in seven; creation times are a permutation
unrelated to the windows, so no time filter can lean on creation order.
"""

from __future__ import annotations

import functools
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from whenever import Instant, TimeDelta

from temporal_dsql_profiles.listing import ListQuery, keys_of

if TYPE_CHECKING:
    import asyncpg

    from temporal_dsql_profiles.storage import ListFilters, ProfileStore

__all__ = [
    "BIG_TABLES",
    "PlanSummary",
    "deep_position",
    "explain",
    "list_shapes",
    "seed_profiles",
]

BIG_TABLES = frozenset({"behaviour_profiles", "profile_list_keys"})
"""Tables that grow with the profiles (a scan of ``profile_baselines`` is bounded by the scopes)."""

_MINUTE_US = 60_000_000
_CHUNK = 20_000
_PROFILE_COLUMNS = ["id", "name", "label", "cluster_id", "namespace", "task_queue", "window_start_us",
                    "window_end_us", "created_at_us", "state", "s3_key", "observed_metrics"]
_KEY_COLUMNS = ["list_key", "profile_id", "created_at_us", "window_start_us", "window_end_us"]


@functools.lru_cache(maxsize=1024)
def _keys(cluster: str, namespace: str, label: str | None) -> tuple[uuid.UUID, ...]:
    return tuple(keys_of(cluster, namespace, label))


def _profile(i: int, now_us: int, rng: random.Random) -> tuple[Any, ...]:
    window_end = now_us - i * _MINUTE_US
    created = now_us - ((i * 7919) % 1_000_003) * 1000
    label = None if i % 7 == 0 else f"label-{i % 7}"
    pid = uuid.UUID(int=rng.getrandbits(128), version=4)
    return (pid, f"p{i}", label, f"cluster-{i % 10}", f"ns-{i % 3}", None, window_end - 30 * _MINUTE_US,
            window_end, created, "ready", f"profiles/{pid}.json", 10)


async def seed_profiles(conn: asyncpg.Connection, *, first: int, count: int, now: Instant) -> None:
    """Profiles ``first .. first + count - 1`` (and their list keys), then ANALYZE."""
    now_us = now.timestamp(unit="nanosecond") // 1000
    rng = random.Random(first)
    # A bulk load: the secondary indexes are dropped and built again afterwards (the store's own
    # definitions, read back from the catalog), which is several times faster than maintaining them.
    secondary = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY($1::text[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        ["behaviour_profiles", "profile_list_keys"])
    await conn.execute("SET session_replication_role = replica")
    await conn.execute("SET maintenance_work_mem = '256MB'")
    try:
        for index in secondary:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        for start in range(first, first + count, _CHUNK):
            profiles = [_profile(i, now_us, rng) for i in range(start, min(start + _CHUNK, first + count))]
            keys = [(key, p[0], p[8], p[6], p[7]) for p in profiles for key in _keys(p[3], p[4], p[2])]
            await conn.copy_records_to_table("behaviour_profiles", records=profiles, columns=_PROFILE_COLUMNS)
            await conn.copy_records_to_table("profile_list_keys", records=keys, columns=_KEY_COLUMNS)
    finally:
        for index in secondary:
            await conn.execute(index["indexdef"].replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
        await conn.execute("RESET maintenance_work_mem")
        await conn.execute("RESET session_replication_role")
    # VACUUM sets the visibility map after COPY, so PostgreSQL's index-only scans read the key
    # table in key order the way DSQL reads it (stored in primary-key order, no vacuum needed).
    await conn.execute("VACUUM (ANALYZE) behaviour_profiles")
    await conn.execute("VACUUM (ANALYZE) profile_list_keys")


def list_shapes(now: Instant, count: int) -> dict[str, ListFilters]:
    """Every documented filter alone, the combinations the README and the copilot use, a label
    that matches nothing and an old time range, over data seeded by ``seed_profiles``."""
    from temporal_dsql_profiles.storage import ListFilters

    old = now - TimeDelta(minutes=int(count * 0.9))
    return {
        "newest": ListFilters(),
        "cluster": ListFilters(cluster="cluster-3"),
        "namespace": ListFilters(namespace="ns-1"),
        "label": ListFilters(label="label-2"),
        "label, no match": ListFilters(label="no-such-label"),
        "cluster+label": ListFilters(cluster="cluster-3", label="label-2"),
        "cluster+namespace": ListFilters(cluster="cluster-3", namespace="ns-1"),
        "cluster+ns+label": ListFilters(cluster="cluster-3", namespace="ns-1", label="label-2"),
        "namespace+start": ListFilters(namespace="ns-1", start=now - TimeDelta(hours=500)),
        "start": ListFilters(start=now - TimeDelta(minutes=count // 2)),
        "end": ListFilters(end=now - TimeDelta(minutes=count // 2)),
        "old range": ListFilters(start=old, end=old + TimeDelta(hours=24 * 10)),
        "cluster+range": ListFilters(cluster="cluster-3", start=old - TimeDelta(hours=24 * 30), end=old),
    }


async def deep_position(conn: asyncpg.Connection, store: ProfileStore, filters: ListFilters,
                        fraction: float) -> tuple[tuple[int, uuid.UUID] | None, int]:
    """The cursor position ``fraction`` of the way down the shape's answer, and the answer's size
    (computed with OFFSET over the store's own query: a test fixture, not a page the API serves)."""
    query = store.page_query(filters, limit=1, position=None)
    sql = query.sql.rsplit(" LIMIT ", 1)[0]
    total = int(await conn.fetchval(f"SELECT count(*) FROM ({sql}) s", *query.args[:-1]))
    if total == 0:
        return None, 0
    row = await conn.fetchrow(f"SELECT s.{query.order_column} AS at, s.id FROM ({sql}) s "
                              f"ORDER BY s.{query.order_column} DESC, s.id DESC OFFSET {int(total * fraction)} LIMIT 1",
                              *query.args[:-1])
    return (row["at"], row["id"]), total


@dataclass(frozen=True)
class PlanSummary:
    node_types: frozenset[str]
    seq_scanned: frozenset[str]
    """Relations read by a sequential scan."""
    rows_removed: int
    """Rows read and discarded by filters or index rechecks, over all loops of all nodes."""
    plan: dict[str, Any]

    def text(self) -> str:
        return json.dumps(self.plan, indent=1)[:4000]


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


async def explain(conn: asyncpg.Connection, query: ListQuery) -> PlanSummary:
    """``EXPLAIN (ANALYZE, FORMAT JSON)`` of the exact SQL and arguments the store sends."""
    raw = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {query.sql}", *query.args)
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes = list(_nodes(plan))
    removed = sum(int((n.get("Rows Removed by Filter", 0) + n.get("Rows Removed by Index Recheck", 0))
                      * n.get("Actual Loops", 1)) for n in nodes)
    return PlanSummary(node_types=frozenset(n["Node Type"] for n in nodes),
                       seq_scanned=frozenset(n.get("Relation Name", "?") for n in nodes if n["Node Type"] == "Seq Scan"),
                       rows_removed=removed, plan=plan)
