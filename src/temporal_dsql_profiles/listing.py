"""The profile list's SQL: one index range per list shape, keyset pages as index conditions.

Why a key table. The list filters by any combination of ``cluster``, ``namespace`` and ``label``
(equality) and a time range, and pages newest first. A b-tree serves a shape in O(page) only when
its equality columns lead the index and the sort key follows; eight equality combinations, two
orders, on text columns of up to a few hundred characters, would mean 16 wide indexes and keys
past DSQL's 1 KiB index-key limit. Instead ``profile_list_keys`` holds one row per profile and per
combination of its non-null equality fields (at most 8), keyed by ``list_key`` = uuid5 of the
combination (16 bytes whatever the text lengths). Every equality filter, alone or combined, is
then one ``list_key = $1`` range of two indexes:

- the primary key ``(list_key, created_at_us, profile_id)``: newest created first (no time range);
- ``(list_key, window_end_us, profile_id) INCLUDE (window_start_us)``: with ``start``/``end``,
  latest window first.

Both cover every column the page reads from the key table, so PostgreSQL reads them as index-only
scans in key order, the way DSQL reads a table stored in its primary key's order.

Time range. ``start`` (window ends at/after) is an exact bound on ``window_end_us``. ``end``
(window starts at/before) bounds ``window_end_us <= end + 24 h`` because a stored window is at
most 24 h long (``MAX_WINDOW_HOURS``, checked on save); the exact ``window_start_us <= end`` is
then a filter over at most the profiles whose window ends in that 24 h slice, and only on the
pages that reach it.

Keyset condition, in the form DSQL accepts. The page after (c, id) in the order (c DESC, id DESC)
is written ``k.c <= $c AND (k.c < $c OR k.profile_id < $id)``: the leading bound is a plain scalar
comparison on the index's next column after ``list_key``, which PostgreSQL and DSQL (whose
EXPLAIN shows the same "Index Cond") both use as the index range; the OR only breaks ties on
``c`` and is a filter over the rows that share the cursor's value (the cursor row itself and any
profile created in the same microsecond, or whose window ends at the same instant). Rejected:

- the whole condition as an OR, ``c < $c OR (c = $c AND id < $id)``: no index bound at all,
  so PostgreSQL reads and discards every row above the cursor (900,001 rows at 1M, issue 24);
- the row comparison ``(c, id) < ($c, $id)``: exact on PostgreSQL, but DSQL documents neither
  row constructors nor their push-down to storage, and where a planner keeps it as a filter a
  page costs its depth again; combined with the scalar bound, PostgreSQL counts the same
  selectivity twice, underestimates the range and sorts it instead of reading it in order;
- OFFSET: reads every skipped row.

Rows of ``profile_list_keys`` exist only for ``ready`` profiles: they are written in the
transaction that flips a row to ``ready`` and deleted in the one that flips it to ``deleting``.
Indexes are created with ``CREATE INDEX ASYNC`` on DSQL (no ASC/DESC: DSQL indexes are ascending
and the descending pages are backward scans).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from temporal_dsql_profiles.models import MAX_WINDOW_HOURS

__all__ = [
    "LIST_KEY_NAMESPACE",
    "MAX_WINDOW_US",
    "ListQuery",
    "key_rows",
    "key_table_statements",
    "keys_of",
    "list_key",
    "list_query",
]

LIST_KEY_NAMESPACE = uuid.UUID("6b1f0d2e-94a7-4c1b-a0f3-2d8e7c5b9a41")
MAX_WINDOW_US = MAX_WINDOW_HOURS * 3600 * 1_000_000
"""The longest stored window (MAX_WINDOW_HOURS) in microseconds: the ``end`` filter's bound."""

_FIELDS = ("cluster", "namespace", "label")


def list_key(cluster: str | None = None, namespace: str | None = None, label: str | None = None) -> uuid.UUID:
    """The key of one combination of equality filters (None = not filtered on that field).

    JSON of the present fields keeps the encoding injective whatever characters the values hold."""
    present = {k: v for k, v in zip(_FIELDS, (cluster, namespace, label), strict=True) if v is not None}
    return uuid.uuid5(LIST_KEY_NAMESPACE, json.dumps(present, sort_keys=True, ensure_ascii=False))


def keys_of(cluster: str, namespace: str | None, label: str | None) -> Iterator[uuid.UUID]:
    """Every list key a profile with these fields is listed under (2^(non-null fields))."""
    values = {"cluster": cluster, "namespace": namespace, "label": label}
    fields = [f for f in _FIELDS if values[f] is not None]
    for size in range(len(fields) + 1):
        for chosen in combinations(fields, size):
            yield list_key(**{f: values[f] for f in chosen})


def key_rows(profile_id: uuid.UUID, cluster: str, namespace: str | None, label: str | None,
             created_at_us: int, window_start_us: int, window_end_us: int) -> list[tuple[Any, ...]]:
    """The ``profile_list_keys`` rows of one profile: one per combination it can be listed by."""
    return [(key, profile_id, created_at_us, window_start_us, window_end_us)
            for key in keys_of(cluster, namespace, label)]


@dataclass(frozen=True)
class ListQuery:
    sql: str
    args: list[Any]
    order_column: str
    """The row column the next cursor's first part is read from."""


def list_query(select: str, *, cluster: str | None, namespace: str | None, label: str | None,
               start_us: int | None, end_us: int | None, cursor: tuple[int, uuid.UUID] | None,
               limit: int) -> ListQuery:
    """The SQL of one page. ``select`` lists the columns over ``p`` (behaviour_profiles) and must
    end with ``FROM``; the rows come from ``profile_list_keys k`` joined to ``p`` on the id."""
    # No re-check of the equality fields on ``p``: a uuid5 collision is a 2^-122 event, and a
    # re-check would let the planner drive the join from a filter on behaviour_profiles instead.
    args: list[Any] = [list_key(cluster, namespace, label)]
    where = ["k.list_key = $1", "p.state = 'ready'"]

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    timed = start_us is not None or end_us is not None
    order = "window_end_us" if timed else "created_at_us"
    if start_us is not None:
        where.append(f"k.window_end_us >= {arg(start_us)}")
    if end_us is not None:
        where.append(f"k.window_end_us <= {arg(end_us + MAX_WINDOW_US)}")
        where.append(f"k.window_start_us <= {arg(end_us)}")
    if cursor is not None:
        at, last_id = arg(cursor[0]), arg(cursor[1])
        where.append(f"k.{order} <= {at}")
        where.append(f"(k.{order} < {at} OR k.profile_id < {last_id})")
    sql = (f"{select} profile_list_keys k JOIN behaviour_profiles p ON p.id = k.profile_id "
           f"WHERE {' AND '.join(where)} ORDER BY k.{order} DESC, k.profile_id DESC LIMIT {arg(limit + 1)}")
    return ListQuery(sql=sql, args=args, order_column=order)


def key_table_statements() -> Sequence[str]:
    """DDL of the key table (its indexes come from ``create_index_sql`` in the store's schema)."""
    return ("""CREATE TABLE IF NOT EXISTS profile_list_keys (
            list_key UUID NOT NULL,
            created_at_us BIGINT NOT NULL,
            profile_id UUID NOT NULL,
            window_start_us BIGINT NOT NULL,
            window_end_us BIGINT NOT NULL,
            PRIMARY KEY (list_key, created_at_us, profile_id)
        )""",)
