"""PEP 440 versions that round-trip through JSON as strings."""

from __future__ import annotations

from typing import Annotated, Any

from packaging.version import InvalidVersion, Version
from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

VERSION_MAX_CHARS = 64


def _parse_version(value: Any) -> Version:
    if isinstance(value, Version):
        return value
    if isinstance(value, str):
        if len(value) > VERSION_MAX_CHARS:
            # Checked before the PEP 440 regex (a backtracking engine) sees client text.
            raise ValueError(f"a version is at most {VERSION_MAX_CHARS} characters (got {len(value)})")
        try:
            return Version(value)
        except InvalidVersion as exc:
            raise ValueError(f"{value!r} is not a PEP 440 version (e.g. '1.32.0')") from exc
    raise ValueError(f"expected a version string, got {type(value).__name__}")


VersionType = Annotated[
    Version,
    PlainValidator(_parse_version),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "maxLength": VERSION_MAX_CHARS, "examples": ["1.32.0"]}),
]
