"""The size limits of everything a client sends, one place for the write and the read side.

Each limit is chosen so that anything accepted on write can be read, compared, made the baseline
and queried (issue 19: a 220-deep ``dynamic_config`` was stored and then every read of it was a
500; an 8,000-character namespace was stored and then its baseline row could not be indexed):

- ``NAMESPACE_MAX_BYTES``: the baseline's scope key (``cluster_id`` + 1 + ``namespace``) is a
  primary key, and DSQL's primary/index keys hold at most 1 KiB (AWS DSQL quotas), so
  200 + 1 + 800 bytes fit. Temporal's own ``limit.maxIDLength`` (1000) bounds task queues.
- ``JSON_MAX_DEPTH``: pydantic's JSON parser refuses documents nested deeper than 200 levels when
  a profile is read back; the profile document adds 4 levels above ``dynamic_config`` and the
  comparison 3, so 32 leaves room and is far beyond any real dynamic-config value (a list of
  constraint maps is 3 deep).
- ``BODY_MAX_BYTES``: both JSON maps at their byte limits plus every string field at its limit,
  with room for JSON escaping; refused before the body is read (``temporal_dsql_copilot.api.limits``).

Byte limits count the UTF-8 bytes of the compact JSON encoding, which is what is stored.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field, JsonValue

__all__ = [
    "BODY_MAX_BYTES",
    "CLUSTER_ID_MAX_BYTES",
    "CURSOR_MAX_CHARS",
    "DYNAMIC_CONFIG_MAX_BYTES",
    "ENV_NAME_MAX_BYTES",
    "ENV_SERVICES_MAX",
    "ENV_VALUE_MAX_BYTES",
    "ENV_VARS_MAX_BYTES",
    "ENV_VARS_MAX_ENTRIES",
    "JSON_MAX_DEPTH",
    "JSON_MAX_ENTRIES",
    "LABEL_MAX_BYTES",
    "NAMESPACE_MAX_BYTES",
    "NAME_MAX_BYTES",
    "PRESET_NAME_MAX_CHARS",
    "PROFILE_ID_MAX_CHARS",
    "TASK_QUEUE_MAX_BYTES",
    "WORKER_SHA_MAX_CHARS",
    "BoundedEnvVars",
    "BoundedJsonMap",
    "ClusterIdText",
    "LabelText",
    "NameText",
    "NamespaceText",
    "PresetNameText",
    "ProfileIdText",
    "TaskQueueText",
    "WorkerShaText",
    "check_clean_text",
    "json_depth_and_entries",
]

NAME_MAX_BYTES = 200
LABEL_MAX_BYTES = 200
CLUSTER_ID_MAX_BYTES = 200
NAMESPACE_MAX_BYTES = 800
TASK_QUEUE_MAX_BYTES = 1000
WORKER_SHA_MAX_CHARS = 64
PROFILE_ID_MAX_CHARS = 64
PRESET_NAME_MAX_CHARS = 100
CURSOR_MAX_CHARS = 200

JSON_MAX_DEPTH = 32
JSON_MAX_ENTRIES = 2000
"""Keys, list items and scalars of one JSON map, counted over the whole tree."""
DYNAMIC_CONFIG_MAX_BYTES = 256 * 1024
ENV_SERVICES_MAX = 16
ENV_VARS_MAX_ENTRIES = 1000
ENV_NAME_MAX_BYTES = 256
ENV_VALUE_MAX_BYTES = 32 * 1024
ENV_VARS_MAX_BYTES = 256 * 1024

BODY_MAX_BYTES = 1024 * 1024


def check_clean_text(value: str) -> str:
    """Refuse what no store can hold: NUL (PostgreSQL/DSQL text) and lone surrogates (not UTF-8)."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (\\u0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it contains a lone surrogate such as \\ud800)") from None
    return value


def _max_bytes(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        check_clean_text(value)
        size = len(value.encode("utf-8"))
        if size > limit:
            raise ValueError(f"must be at most {limit} bytes of UTF-8 (got {size})")
        return value

    return AfterValidator(check)


def _text(limit: int, *, min_length: int = 0) -> Any:
    return Field(min_length=min_length, max_length=limit, json_schema_extra={"x-max-bytes": limit})


NameText = Annotated[str, _text(NAME_MAX_BYTES, min_length=1), _max_bytes(NAME_MAX_BYTES)]
LabelText = Annotated[str, _text(LABEL_MAX_BYTES), _max_bytes(LABEL_MAX_BYTES)]
ClusterIdText = Annotated[str, _text(CLUSTER_ID_MAX_BYTES, min_length=1), _max_bytes(CLUSTER_ID_MAX_BYTES)]
NamespaceText = Annotated[str, _text(NAMESPACE_MAX_BYTES), _max_bytes(NAMESPACE_MAX_BYTES)]
TaskQueueText = Annotated[str, _text(TASK_QUEUE_MAX_BYTES), _max_bytes(TASK_QUEUE_MAX_BYTES)]
WorkerShaText = Annotated[str, _text(WORKER_SHA_MAX_CHARS), _max_bytes(WORKER_SHA_MAX_CHARS)]
ProfileIdText = Annotated[str, _text(PROFILE_ID_MAX_CHARS), _max_bytes(PROFILE_ID_MAX_CHARS)]
PresetNameText = Annotated[str, _text(PRESET_NAME_MAX_CHARS), _max_bytes(PRESET_NAME_MAX_CHARS)]


def json_depth_and_entries(value: object) -> tuple[int, int]:
    """(nesting depth, number of keys/items/scalars) of a JSON value, iteratively (no recursion
    limit to hit on a hostile document)."""
    depth = entries = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        depth = max(depth, level)
        if isinstance(node, dict):
            entries += len(node)
            for key, child in node.items():
                check_clean_text(str(key))
                stack.append((child, level + 1))
        elif isinstance(node, list):
            entries += len(node)
            stack.extend((child, level + 1) for child in node)
        elif isinstance(node, str):
            check_clean_text(node)
    return depth, entries


def _bounded_json(max_bytes: int) -> AfterValidator:
    def check(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        depth, entries = json_depth_and_entries(value)
        if depth > JSON_MAX_DEPTH:
            raise ValueError(f"is nested {depth} levels deep; at most {JSON_MAX_DEPTH} are allowed")
        if entries > JSON_MAX_ENTRIES:
            raise ValueError(f"has {entries} keys/items; at most {JSON_MAX_ENTRIES} are allowed")
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if size > max_bytes:
            raise ValueError(f"is {size} bytes as compact JSON; at most {max_bytes} are allowed")
        return value

    return AfterValidator(check)


BoundedJsonMap = Annotated[
    dict[str, JsonValue],
    Field(json_schema_extra={"x-max-bytes": DYNAMIC_CONFIG_MAX_BYTES, "x-max-depth": JSON_MAX_DEPTH,
                             "x-max-entries": JSON_MAX_ENTRIES, "maxProperties": JSON_MAX_ENTRIES}),
    _bounded_json(DYNAMIC_CONFIG_MAX_BYTES),
]
"""``dynamic_config``: bounded in bytes, depth and entries."""


def _bounded_env(value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    if len(value) > ENV_SERVICES_MAX:
        raise ValueError(f"names {len(value)} services; at most {ENV_SERVICES_MAX} are allowed")
    entries = total = 0
    for service, names in value.items():
        check_clean_text(service)
        if len(service.encode("utf-8")) > ENV_NAME_MAX_BYTES:
            raise ValueError(f"service name {service[:40]!r}... is longer than {ENV_NAME_MAX_BYTES} bytes")
        for name, text in names.items():
            entries += 1
            check_clean_text(name)
            check_clean_text(text)
            name_bytes, value_bytes = len(name.encode("utf-8")), len(text.encode("utf-8"))
            if name_bytes > ENV_NAME_MAX_BYTES:
                raise ValueError(f"variable name {name[:40]!r}... is longer than {ENV_NAME_MAX_BYTES} bytes")
            if value_bytes > ENV_VALUE_MAX_BYTES:
                raise ValueError(f"the value of {service}.{name[:40]} is {value_bytes} bytes; "
                                 f"at most {ENV_VALUE_MAX_BYTES} are allowed")
            total += name_bytes + value_bytes
    if entries > ENV_VARS_MAX_ENTRIES:
        raise ValueError(f"has {entries} variables; at most {ENV_VARS_MAX_ENTRIES} are allowed")
    if total > ENV_VARS_MAX_BYTES:
        raise ValueError(f"names and values add up to {total} bytes; at most {ENV_VARS_MAX_BYTES} are allowed")
    return value


_EnvName = Annotated[str, Field(max_length=ENV_NAME_MAX_BYTES)]
_EnvValue = Annotated[str, Field(max_length=ENV_VALUE_MAX_BYTES)]

BoundedEnvVars = Annotated[
    dict[_EnvName, dict[_EnvName, _EnvValue]],
    Field(json_schema_extra={"maxProperties": ENV_SERVICES_MAX, "x-max-bytes": ENV_VARS_MAX_BYTES,
                             "x-max-entries": ENV_VARS_MAX_ENTRIES, "x-max-name-bytes": ENV_NAME_MAX_BYTES,
                             "x-max-value-bytes": ENV_VALUE_MAX_BYTES}),
    AfterValidator(_bounded_env),
]
"""``server_env_vars`` (service -> name -> value): bounded in services, entries and bytes."""
