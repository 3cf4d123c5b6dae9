"""PEP 440 versions that round-trip through JSON as strings."""

from __future__ import annotations

from typing import Annotated, Any

from packaging.version import InvalidVersion, Version
from pydantic import PlainSerializer, PlainValidator, WithJsonSchema


def _parse_version(value: Any) -> Version:
    if isinstance(value, Version):
        return value
    if isinstance(value, str):
        try:
            return Version(value)
        except InvalidVersion as exc:
            raise ValueError(f"{value!r} is not a PEP 440 version (e.g. '1.32.0')") from exc
    raise ValueError(f"expected a version string, got {type(value).__name__}")


VersionType = Annotated[
    Version,
    PlainValidator(_parse_version),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "examples": ["1.32.0"]}),
]
