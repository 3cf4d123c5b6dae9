"""``whenever.Instant`` as a pydantic field: ISO 8601 in JSON, ISO 8601 or epoch milliseconds in.

Epoch milliseconds are what Grafana's ``${__from}``/``${__to}`` give, so request models accept
them; every document serialises instants as ISO 8601 (UTC, ``Z``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from whenever import Instant

__all__ = ["InstantType", "format_instant", "parse_instant", "second_precision"]


def _from_epoch_ms(value: float) -> Instant:
    # OverflowError (inf, 1e60) is no ValueError: it would escape validation as a 500.
    try:
        return Instant.from_timestamp(int(value), unit="millisecond")
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"{value!r} epoch milliseconds is outside the supported range (years 1-9999)") from exc


def parse_instant(value: Any) -> Instant:
    """Instant from an Instant, an ISO 8601 string with offset, or epoch milliseconds."""
    if isinstance(value, Instant):
        return value
    if isinstance(value, bool):
        raise ValueError("expected an ISO 8601 timestamp or epoch milliseconds, got a boolean")
    if isinstance(value, int | float):
        return _from_epoch_ms(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _from_epoch_ms(int(text))
        try:
            return Instant.parse_iso(text)
        except ValueError:
            pass
        try:
            from whenever import OffsetDateTime

            return OffsetDateTime.parse_iso(text).to_instant()
        except ValueError as exc:
            raise ValueError(
                f"{value!r} is neither ISO 8601 with an offset (2026-11-22T13:00:00Z) "
                "nor epoch milliseconds (1795352400000)"
            ) from exc
    raise ValueError(f"expected an ISO 8601 timestamp or epoch milliseconds, got {type(value).__name__}")


InstantType = Annotated[
    Instant,
    PlainValidator(parse_instant),
    PlainSerializer(lambda i: i.format_iso(), return_type=str),
    # What parse_instant accepts, so the schema and the validator agree (the schema fuzzer sent
    # epoch milliseconds, which the schema used to forbid and the API rightly accepted).
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "pattern": "^[0-9]+$"},
                              {"type": "number"}],
                    "examples": ["2026-11-22T13:00:00Z", "1795352400000"]}),
]


def format_instant(instant: Instant) -> str:
    """ISO 8601 at second precision (floored): the one form every view shows an instant in, so a
    list and a get, the API and the CLI, print the same timestamp."""
    return instant.round("second", mode="floor").format_iso()


def second_precision(text: str) -> str:
    """An ISO 8601 instant (any precision, any offset) in ``format_instant``'s form."""
    return format_instant(parse_instant(text))
