"""Parsing and formatting values the way the DSQL plugin and Temporal read them.

Durations follow Go ``time.ParseDuration`` (``45s``, ``11m``, ``1h30m``, ``500ms``); booleans follow
Go ``strconv.ParseBool``; integers follow ``strconv.Atoi`` (so ``"1"`` is the integer 1, never True).
"""

from __future__ import annotations

import math
import re

__all__ = [
    "GO_FALSE",
    "GO_TRUE",
    "INT64_MAX",
    "INT64_MIN",
    "duration_in_go_range",
    "format_duration",
    "parse_decimal_float",
    "parse_go_bool",
    "parse_go_duration",
    "parse_go_duration_ns",
    "parse_go_int",
]

GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})

# Go's time.unitMap in nanoseconds (µ is U+00B5 MICRO SIGN, μ U+03BC GREEK SMALL LETTER MU).
_UNIT_NS: dict[bytes, int] = {
    b"ns": 1, b"us": 1_000, "µs".encode(): 1_000, "μs".encode(): 1_000, b"ms": 1_000_000,
    b"s": 1_000_000_000, b"m": 60_000_000_000, b"h": 3_600_000_000_000,
}
_U63 = 1 << 63  # Go's bound: |duration| as uint64 before the sign is applied
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
_DIGITS = b"0123456789"


def _invalid(text: str) -> ValueError:
    return ValueError(f"invalid duration {text!r} (Go syntax: 45s, 11m, 1h30m, 500ms; "
                      "at most 2562047h47m16.854775807s)")


def parse_go_duration_ns(text: str) -> int:
    """Nanoseconds in a Go duration string, exactly as Go's ``time.ParseDuration`` computes them
    (a line-by-line port of go1.19 src/time/format.go, on the UTF-8 bytes as Go reads a string);
    ValueError wherever Go returns an error: ASCII digits only, a unit on every number, int64 range."""
    s = text.encode()
    d = 0
    neg = False
    if s and s[0:1] in (b"-", b"+"):
        neg = s[0:1] == b"-"
        s = s[1:]
    if s == b"0":
        return 0
    if not s:
        raise _invalid(text)
    while s:
        v = f = 0
        scale = 1.0
        if not (s[0:1] == b"." or s[0] in _DIGITS):
            raise _invalid(text)
        # leadingInt
        i = 0
        while i < len(s) and s[i] in _DIGITS:
            if v > _U63 // 10:
                raise _invalid(text)
            v = v * 10 + (s[i] - 48)
            if v > _U63:
                raise _invalid(text)
            i += 1
        pre = i != 0
        s = s[i:]
        post = False
        if s[0:1] == b".":
            s = s[1:]
            # leadingFraction: digits past uint64 precision are dropped, as Go drops them
            i, overflow = 0, False
            while i < len(s) and s[i] in _DIGITS:
                if not overflow:
                    if f > (_U63 - 1) // 10:
                        overflow = True
                    else:
                        y = f * 10 + (s[i] - 48)
                        if y > _U63:
                            overflow = True
                        else:
                            f, scale = y, scale * 10
                i += 1
            post = i != 0
            s = s[i:]
        if not pre and not post:
            raise _invalid(text)
        i = 0
        while i < len(s) and not (s[i:i + 1] == b"." or s[i] in _DIGITS):
            i += 1
        if i == 0:
            raise ValueError(f"missing unit in duration {text!r} (Go units: ns, us, ms, s, m, h)")
        unit = _UNIT_NS.get(s[:i])
        if unit is None:
            raise ValueError(f"unknown unit {s[:i].decode(errors='replace')!r} in duration {text!r} "
                             "(Go units: ns, us, µs, ms, s, m, h)")
        s = s[i:]
        if v > _U63 // unit:
            raise _invalid(text)
        v *= unit
        if f > 0:
            # float64, as Go computes the fraction (nanosecond accurate for fractions of hours)
            v += int(float(f) * (float(unit) / scale))
            if v > _U63:
                raise _invalid(text)
        d += v
        if d > _U63:
            raise _invalid(text)
    if neg:
        return -d
    if d > INT64_MAX:
        raise _invalid(text)
    return d


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string; ValueError when Go would reject it (see parse_go_duration_ns)."""
    return parse_go_duration_ns(text) / 1e9


def duration_in_go_range(seconds: float) -> bool:
    """Whether ``seconds`` is a time.Duration (int64 nanoseconds) Go can hold."""
    return INT64_MIN <= seconds * 1e9 <= INT64_MAX


def _fixed(number: float) -> str:
    return f"{number:.6f}".rstrip("0").rstrip(".")


def format_duration(seconds: float) -> str:
    """Compact Go-parseable form: 3600 -> '1h', 5400 -> '1h30m', 45 -> '45s', 0.5 -> '500ms'."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    rest = abs(seconds)
    if rest < 1:
        # Fixed-point, never an exponent ("3.9e-240ms" is no Go duration); Go's resolution is 1 ns.
        ms = round(rest * 1000, 6)
        return f"{sign}{_fixed(ms)}ms" if ms else "0s"
    parts: list[str] = []
    hours = math.floor(rest / 3600)
    if hours:
        parts.append(f"{hours}h")
        rest -= hours * 3600
    minutes = math.floor(rest / 60)
    if minutes:
        parts.append(f"{minutes}m")
        rest -= minutes * 60
    if rest > 1e-9:
        secs = round(rest, 6)
        parts.append(f"{_fixed(secs)}s")
    return sign + "".join(parts)


def parse_go_bool(text: str) -> bool:
    """Go strconv.ParseBool; ValueError for anything else."""
    s = text
    if s in GO_TRUE:
        return True
    if s in GO_FALSE:
        return False
    raise ValueError(f"invalid boolean {text!r} (Go ParseBool accepts 1/t/T/TRUE/true/True/0/f/F/FALSE/false/False)")


_GO_INT = re.compile(r"[+-]?[0-9]+")  # ASCII digits: Python's \d also matches Arabic-Indic digits, Go does not


def parse_go_int(text: str) -> int:
    """Go strconv.Atoi on 64-bit: optional sign, ASCII decimal digits, int64 range; ValueError otherwise."""
    if not _GO_INT.fullmatch(text):
        raise ValueError(f"invalid integer {text!r} (Go strconv.Atoi: an optional sign and ASCII digits 0-9)")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"integer {text!r} is out of Go's int64 range [{INT64_MIN}, {INT64_MAX}]")
    return value


_GO_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_decimal_float(text: str) -> float:
    """A finite decimal number in ASCII (a subset of Go's strconv.ParseFloat); ValueError otherwise.
    Python's float() would also take Arabic-Indic digits, "1_0", " 5 " and "inf", which no Go reader of ours does."""
    if not _GO_FLOAT.fullmatch(text):
        raise ValueError(f"invalid number {text!r} (ASCII decimal such as 0.5 or 2e3)")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text!r} is out of range")
    return value
