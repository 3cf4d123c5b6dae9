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
    "format_duration",
    "parse_go_bool",
    "parse_go_duration",
    "parse_go_int",
]

GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string; ValueError when Go would reject it."""
    s = text
    if not s:
        raise ValueError("empty duration")
    sign = 1.0
    if s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    pos = 0
    total = 0.0
    while pos < len(s):
        m = _PART.match(s, pos)
        if m is None:
            raise ValueError(f"invalid duration {text!r} (Go syntax: 45s, 11m, 1h30m, 500ms)")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * total


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


def parse_go_int(text: str) -> int:
    """Go strconv.Atoi: optional sign and decimal digits only."""
    s = text
    if not re.fullmatch(r"[+-]?\d+", s):
        raise ValueError(f"invalid integer {text!r}")
    return int(s)
