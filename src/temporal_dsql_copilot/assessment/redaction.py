"""Keep credentials and personal data out of anything sent to the LLM (Requirement 4.9).

Everything that reaches a prompt (log lines, knowledge passages, label values) passes through
:func:`redact`. It replaces what looks like a secret or PII with a typed placeholder, so the
explanation can still say "a connection string" without carrying one.

That text comes from outside (logs, telemetry labels, profile contents, LLM output), so every
pattern runs on RE2 (``temporal_dsql_core.linear_regex``), whose time is linear in the text: the
backtracking ``re`` versions of ``SECRET_ASSIGNMENT`` or ``PHONE`` were quadratic on a long run of
word characters or digits (issue 19). RE2 has no lookaround; the two patterns that had one (the
40-character AWS secret shape, the phone number) find the whole run of their characters and decide
in a callback that looks at the bytes around it, which is what the lookarounds did. Classes are
ASCII (RE2 searches the UTF-8 bytes): a non-ASCII letter next to a match is not a word character.
"""

from __future__ import annotations

from temporal_dsql_core.linear_regex import LinearMatch, LinearPattern, compile_linear
from temporal_dsql_profiles.snapshot import is_secret_name

__all__ = ["REDACTION_PATTERNS", "redact"]

REDACTION_PATTERNS: tuple[tuple[str, LinearPattern], ...] = (
    # ``$`` of Python's ``re`` also matched before a final newline: group 2 keeps that newline.
    ("PRIVATE_KEY", compile_linear(r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|(\n)?$)")),
    ("URL_CREDENTIALS", compile_linear(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@")),
    ("AWS_ACCESS_KEY_ID", compile_linear(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")),
    ("JWT", compile_linear(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    # Any non-delimiter characters: a token with one '!' in it must not be cut short and half leaked.
    ("AUTH_HEADER", compile_linear(r"(?i)\b(?:bearer|basic)\s+[^\s\"',;}]{8,}")),
    ("DSQL_TOKEN", compile_linear(r"(?i)\b[\w.-]*dsql[\w.-]*\.on\.aws[^\s]*X-Amz-[^\s]*")),
    ("SIGNED_QUERY", compile_linear(r"(?i)X-Amz-(?:Signature|Credential|Security-Token)=[^\s&]+")),
    ("SECRET_ASSIGNMENT", compile_linear(
        r"(?i)\b([\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|credential|session)[\w-]*)"
        r"(\s*[=:]\s*|\"\s*:\s*\"?)([^\s\"',;&}]+)")),
    # ``NAME=value`` / ``"NAME": "value"`` under any name the profile registry marks secret
    # (DB_PASS, SSH_KEY, apiKey, ...): the same name rule as stored profiles, one list to keep.
    ("NAMED_SECRET", compile_linear(r"([A-Za-z_][\w.-]*)(\s*=\s*|\"?\s*:\s*\"?)([^\s\"',;&}]+)")),
    # A whole run of the secret alphabet; the callback redacts runs of exactly 40 (what
    # ``(?<![...])[...]{40}(?![...])`` matched).
    ("AWS_SECRET", compile_linear(r"[A-Za-z0-9/+=]+")),
    ("EMAIL", compile_linear(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")),
    ("IPV4", compile_linear(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    # An optional '+' and a whole run of digits, spaces and dashes; the callback finds in it what
    # ``(?<!\w)\+?\d[\d -]{8,}\d(?!\w)`` matched.
    ("PHONE", compile_linear(r"\+?[0-9 -]+")),
)


def _is_word(byte: int) -> bool:
    return byte == 0x5F or 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _is_digit(byte: int) -> bool:
    return 0x30 <= byte <= 0x39


def _phone(match: LinearMatch) -> str | None:
    """The phone number inside one run (at most one: every start shares the run's last valid end).

    A start is a digit (or the '+' before it) not preceded by a word character; an end is just
    after a digit and not followed by one; the backtracking pattern took the first start and the
    last end at least 10 characters after the start's first digit. One pass over the run each way.
    """
    data, begin, end = match.data, match.start, match.end
    run = begin + 1 if data[begin] == 0x2B else begin  # the '+' is outside the run
    last_end = next((e for e in range(end, run, -1)
                     if _is_digit(data[e - 1]) and (e == len(data) or not _is_word(data[e]))), None)
    if last_end is None:
        return None
    start = None
    if run > begin and _is_digit(data[run]) and (begin == 0 or not _is_word(data[begin - 1])):
        start = begin
    else:
        start = next((s for s in range(run, last_end)
                      if _is_digit(data[s]) and (s == 0 or not _is_word(data[s - 1]))), None)
    if start is None:
        return None
    first_digit = start + 1 if data[start] == 0x2B else start
    if last_end - first_digit < 10:
        return None
    decode = lambda part: part.decode("utf-8", "surrogatepass")  # noqa: E731
    return decode(data[begin:start]) + "[REDACTED_PHONE]" + decode(data[last_end:end])


def _substitute(kind: str, match: LinearMatch) -> str | None:
    if kind == "PRIVATE_KEY":
        return "[REDACTED_PRIVATE_KEY]" + match.group(1)
    if kind == "SECRET_ASSIGNMENT":
        return f"{match.group(1)}{match.group(2)}[REDACTED_SECRET]"
    if kind == "NAMED_SECRET":
        if not is_secret_name(match.group(1)) or match.group(3).startswith("[REDACTED_"):
            return None
        return f"{match.group(1)}{match.group(2)}[REDACTED_SECRET]"
    if kind == "AWS_SECRET":
        return "[REDACTED_AWS_SECRET]" if match.end - match.start == 40 else None
    if kind == "PHONE":
        return _phone(match)
    return f"[REDACTED_{kind}]"


def redact(text: str) -> str:
    """Replace secrets and personal data in ``text`` with ``[REDACTED_<KIND>]`` placeholders."""
    for kind, pattern in REDACTION_PATTERNS:
        text = pattern.sub_with(lambda m, k=kind: _substitute(k, m), text)  # type: ignore[misc]
    return text
