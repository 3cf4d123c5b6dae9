"""Regular expressions that run in linear time, for every pattern applied to client text.

Python's ``re`` backtracks: ``[a-z][a-z0-9+.-]*://...`` over 128 KiB of ``a`` took 15-18 s and held
the event loop (issue 19). RE2 (``google-re2``) is an automaton engine whose search time is linear in
the input by construction, so no input can make a pattern here slow; it has no lookaround or
backreferences, which is why the patterns that need a boundary spell it as ``(?:^|[^...])``.

Texts are searched as bytes: UTF-8 with ``surrogatepass`` (a lone surrogate cannot be UTF-8 encoded
otherwise, and RE2 would raise on it) in RE2's Latin-1 mode, so every byte is one character and
invalid UTF-8 cannot confuse the matcher. Every pattern here tests ASCII classes only, for which
the byte view and the character view agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import re2  # type: ignore[import-untyped]

__all__ = ["LinearMatch", "LinearPattern", "compile_linear", "is_linear"]


def _options(*, ignore_case: bool) -> Any:
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.case_sensitive = not ignore_case
    return options


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class LinearPattern:
    """A compiled RE2 pattern over str (searched as UTF-8 bytes, see the module docstring)."""

    pattern: str
    compiled: Any

    def search(self, text: str) -> bool:
        return self.compiled.search(_bytes(text)) is not None

    def fullmatch(self, text: str) -> bool:
        return self.compiled.fullmatch(_bytes(text)) is not None

    def sub(self, replacement: str, text: str) -> str:
        """``text`` with every match replaced by ``replacement`` (a literal, no group references)."""
        literal = _bytes(replacement).replace(b"\\", b"\\\\")
        return str(self.compiled.sub(literal, _bytes(text)).decode("utf-8", "surrogatepass"))

    def sub_with(self, replace: Callable[[LinearMatch], str | None], text: str) -> str:
        """``text`` with each match replaced by ``replace(match)``; None keeps the match as it was.
        One left-to-right pass of the automaton, plus the callbacks' own work."""
        data = _bytes(text)
        out: list[bytes] = []
        last = 0
        for found in self.compiled.finditer(data):
            start, end = found.start(), found.end()
            replacement = replace(LinearMatch(data, start, end, found))
            out += [data[last:start], data[start:end] if replacement is None else _bytes(replacement)]
            last = end
        if not out:
            return text
        out.append(data[last:])
        return b"".join(out).decode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class LinearMatch:
    """One match of :meth:`LinearPattern.sub_with`: its groups as str, and its byte span in ``data``
    (the searched text as UTF-8) for a callback that looks at the bytes around it."""

    data: bytes
    start: int
    end: int
    _match: Any

    def group(self, index: int = 0) -> str:
        value = self._match.group(index)
        return "" if value is None else bytes(value).decode("utf-8", "surrogatepass")


def compile_linear(pattern: str, *, ignore_case: bool = False) -> LinearPattern:
    """Compile with RE2; a pattern RE2 cannot run in linear time (lookaround, backreference) is a
    ``re2.error`` at import, never a slow search at request time."""
    return LinearPattern(pattern, re2.compile(_bytes(pattern), _options(ignore_case=ignore_case)))


def is_linear(pattern: object) -> bool:
    """True for a pattern compiled by RE2 (the structural property the tests assert)."""
    return isinstance(pattern, LinearPattern) and type(pattern.compiled).__module__.startswith("re2")
