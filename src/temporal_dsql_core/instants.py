"""``whenever.Instant`` as a pydantic field: ISO 8601 in JSON, ISO 8601 or epoch milliseconds in.

Epoch milliseconds are what Grafana's ``${__from}``/``${__to}`` give, so request models accept
them; every document serialises instants as ISO 8601 (UTC, ``Z``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from whenever import Instant

__all__ = ["EPOCH_MS_MIN", "INSTANT_MAX_CHARS", "InstantType", "format_instant", "parse_instant", "second_precision"]


INSTANT_MAX_CHARS = 64
EPOCH_MS_MIN = 10**11
"""Smaller epoch numbers read as seconds (10^11 ms is 1973-03-03, 10^11 s is year 5138): they are
refused rather than guessed (issue 19: 1765072950 s was taken as ms, a 3.6 s window in 1970)."""


def _from_epoch_ms(value: float) -> Instant:
    if value < EPOCH_MS_MIN:
        raise ValueError(
            f"{value!r} is too small for epoch milliseconds (it reads as epoch seconds); send epoch "
            f"milliseconds (e.g. {int(value) * 1000 if 0 < value < EPOCH_MS_MIN else 1795352400000}) "
            "or ISO 8601 (2026-11-22T13:00:00Z)")
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
        if len(value) > INSTANT_MAX_CHARS:
            raise ValueError(f"a timestamp is at most {INSTANT_MAX_CHARS} characters (got {len(value)})")
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
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time", "maxLength": INSTANT_MAX_CHARS},
                              {"type": "string", "pattern": "^[1-9][0-9]{11,}$", "maxLength": INSTANT_MAX_CHARS},
                              {"type": "number", "minimum": EPOCH_MS_MIN}],
                    "examples": ["2026-11-22T13:00:00Z", "1795352400000"]}),
]


def format_instant(instant: Instant) -> str:
    """ISO 8601 at second precision (floored): the one form every view shows an instant in, so a
    list and a get, the API and the CLI, print the same timestamp."""
    return instant.round("second", mode="floor").format_iso()


def second_precision(text: str) -> str:
    """An ISO 8601 instant (any precision, any offset) in ``format_instant``'s form."""
    return format_instant(parse_instant(text))
