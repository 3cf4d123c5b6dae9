"""Keep credentials and personal data out of anything sent to the LLM (Requirement 4.9).

Everything that reaches a prompt (log lines, knowledge passages, label values) passes through
:func:`redact`. It replaces what looks like a secret or PII with a typed placeholder, so the
explanation can still say "a connection string" without carrying one.
"""

from __future__ import annotations

import re

from temporal_dsql_profiles.snapshot import is_secret_name

__all__ = ["REDACTION_PATTERNS", "redact"]

REDACTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("PRIVATE_KEY", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)),
    ("URL_CREDENTIALS", re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@")),
    ("AWS_ACCESS_KEY_ID", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")),
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    # Any non-delimiter characters: a token with one '!' in it must not be cut short and half leaked.
    ("AUTH_HEADER", re.compile(r"(?i)\b(?:bearer|basic)\s+[^\s\"',;}]{8,}")),
    ("DSQL_TOKEN", re.compile(r"(?i)\b[\w.-]*dsql[\w.-]*\.on\.aws[^\s]*X-Amz-[^\s]*")),
    ("SIGNED_QUERY", re.compile(r"(?i)X-Amz-(?:Signature|Credential|Security-Token)=[^\s&]+")),
    ("SECRET_ASSIGNMENT", re.compile(
        r"(?i)\b([\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|credential|session)[\w-]*)"
        r"(\s*[=:]\s*|\"\s*:\s*\"?)([^\s\"',;&}]+)")),
    # ``NAME=value`` / ``"NAME": "value"`` under any name the profile registry marks secret
    # (DB_PASS, SSH_KEY, apiKey, ...): the same name rule as stored profiles, one list to keep.
    ("NAMED_SECRET", re.compile(r"([A-Za-z_][\w.-]*)(\s*=\s*|\"?\s*:\s*\"?)([^\s\"',;&}]+)")),
    ("AWS_SECRET", re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")),
    ("EMAIL", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")),
    ("IPV4", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    ("PHONE", re.compile(r"(?<!\w)\+?\d[\d -]{8,}\d(?!\w)")),
)


def _substitute(kind: str, match: re.Match[str]) -> str:
    if kind == "SECRET_ASSIGNMENT":
        return f"{match.group(1)}{match.group(2)}[REDACTED_SECRET]"
    if kind == "NAMED_SECRET":
        if not is_secret_name(match.group(1)) or match.group(3).startswith("[REDACTED_"):
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}[REDACTED_SECRET]"
    return f"[REDACTED_{kind}]"


def redact(text: str) -> str:
    """Replace secrets and personal data in ``text`` with ``[REDACTED_<KIND>]`` placeholders."""
    for kind, pattern in REDACTION_PATTERNS:
        text = pattern.sub(lambda m, k=kind: _substitute(k, m), text)  # type: ignore[misc]
    return text
