"""Issue 19, the parts that need no server: linear-time redaction, bounds, epoch seconds, cursors.

Expected values come from the pre-RE2 patterns (Python's ``re``, kept below as the oracle for
inputs short enough not to backtrack badly) and from the issue's limits.
"""

from __future__ import annotations

import json
import re
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from temporal_dsql_core.instants import parse_instant
from temporal_dsql_core.linear_regex import is_linear
from temporal_dsql_profiles import snapshot
from temporal_dsql_profiles.errors import InvalidProfileRequest
from temporal_dsql_profiles.limits import (
    DYNAMIC_CONFIG_MAX_BYTES,
    ENV_VALUE_MAX_BYTES,
    JSON_MAX_DEPTH,
    NAMESPACE_MAX_BYTES,
)
from temporal_dsql_profiles.models import CompareRequest, CreateProfileRequest
from temporal_dsql_profiles.storage import _decode_cursor, _encode_cursor

# The patterns as they were with Python's backtracking engine (the oracle for short ASCII inputs).
_BACKTRACKING_ORIGINALS = [
    re.compile(r"(?<![A-Z0-9])(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}(?![A-Z0-9])"),
    re.compile(r"X-Amz-(Signature|Credential|Security-Token)=", re.IGNORECASE),
    re.compile(r"-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----"),
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r"^\s*(Bearer|Basic)\s+\S+", re.IGNORECASE),
    re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),
    re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})"),
    re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
]

# Fragments that make backtracking engines slow: the start of each pattern, repeated.
_ADVERSARIAL_UNITS = ["a", "eyJ", "eyJaaaaa.", "-----BEGIN ", "a://a:", "a://", "ghp_", "AKIA", " ", "Bearer ",
                      "X-Amz-", "a1/+=", "0123456789abcdef"]
_ASCII_TEXT = st.text(alphabet=st.sampled_from(list("aAzZ09 :/@.-_+=eyJKIAghpBEGIN\t")), max_size=80)


def test_every_redaction_pattern_runs_on_a_linear_time_engine() -> None:
    # Property: every regex over client text is linear-time (RE2), structurally.
    assert snapshot.CREDENTIAL_PATTERNS and all(is_linear(p) for p in snapshot.CREDENTIAL_PATTERNS)
    assert is_linear(snapshot._GIT_SHA)
    assert not hasattr(snapshot, "re"), "snapshot.py must not use the backtracking `re` module"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_ASCII_TEXT, units=st.lists(st.sampled_from(_ADVERSARIAL_UNITS), max_size=6))
def test_property_linear_patterns_find_what_the_backtracking_ones_found(text: str, units: list[str]) -> None:
    # Property: the RE2 rewrite answers like the original patterns (same credential found or not).
    value = "".join(units) + text
    for linear, original in zip(snapshot.CREDENTIAL_PATTERNS, _BACKTRACKING_ORIGINALS, strict=True):
        assert linear.search(value) == (original.search(value) is not None), (original.pattern, value)


def _reference_words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.upper()) if w]


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=40))
def test_property_name_words_split_like_the_regex_did(name: str) -> None:
    # Property: the one-pass word splitter (no regex) equals the regex split it replaced.
    assert snapshot._words(name) == _reference_words(name)


@pytest.mark.parametrize("unit", _ADVERSARIAL_UNITS)
def test_property_redaction_of_adversarial_strings_at_the_maximum_length_finishes(unit: str) -> None:
    # Property: redaction over a long adversarial string ends (the backtracking engine took
    # 15-18 s for 128 KiB of "a" and minutes for "eyJ" repeated); the bound is 60 s, far above
    # what a linear engine needs on any machine, so the test fails on a quadratic engine only.
    value = (unit * (DYNAMIC_CONFIG_MAX_BYTES // len(unit)))[: DYNAMIC_CONFIG_MAX_BYTES - 100]
    done = threading.Event()
    outcome: list[object] = []

    def run() -> None:
        outcome.append(snapshot.redact("history.someValue", {"k": [value]}))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(timeout=60), f"redaction of {len(value)} chars of {unit!r} did not finish"


def test_lone_surrogates_are_searched_not_raised() -> None:
    assert snapshot.looks_like_credential("a\ud800b") is False
    assert snapshot.redact("x", "postgres://u:pw\ud800@h")[1] is True


# --- bounds ----------------------------------------------------------------------------------

_BASE = {"name": "n", "time_window_start": "2026-11-22T10:00:00Z", "time_window_end": "2026-11-22T11:00:00Z"}


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def test_dynamic_config_depth_is_bounded_at_what_reads_back() -> None:
    # Found: 220 deep was stored (201) and every read of it was a 500.
    ok = CreateProfileRequest.model_validate({**_BASE, "dynamic_config": {"k": _nested(JSON_MAX_DEPTH - 1)}})
    assert ok.dynamic_config is not None
    with pytest.raises(ValidationError, match="levels deep"):
        CreateProfileRequest.model_validate({**_BASE, "dynamic_config": {"k": _nested(JSON_MAX_DEPTH)}})
    with pytest.raises(ValidationError, match="levels deep"):
        CreateProfileRequest.model_validate_json(json.dumps({**_BASE, "dynamic_config": {"k": _nested(180)}}))


def test_dynamic_config_and_env_vars_are_bounded_in_bytes_and_entries() -> None:
    big = "x" * (DYNAMIC_CONFIG_MAX_BYTES + 1)
    with pytest.raises(ValidationError, match="bytes as compact JSON"):
        CreateProfileRequest.model_validate({**_BASE, "dynamic_config": {"k": big}})
    with pytest.raises(ValidationError, match="keys/items"):
        CreateProfileRequest.model_validate({**_BASE, "dynamic_config": {"k": list(range(5000))}})
    with pytest.raises(ValidationError, match="at most"):
        CreateProfileRequest.model_validate({**_BASE, "server_env_vars": {"h": {"V": "a" * (ENV_VALUE_MAX_BYTES + 1)}}})
    with pytest.raises(ValidationError, match="variables"):
        CreateProfileRequest.model_validate({**_BASE, "server_env_vars": {"h": {f"V{i}": "" for i in range(1001)}}})
    with pytest.raises(ValidationError, match="services"):
        CreateProfileRequest.model_validate({**_BASE, "server_env_vars": {f"s{i}": {} for i in range(17)}})


def test_namespace_is_bounded_in_utf8_bytes() -> None:
    # Found: an 8,000-character namespace was stored and its baseline row could not be indexed.
    CreateProfileRequest.model_validate({**_BASE, "namespace": "n" * NAMESPACE_MAX_BYTES})
    with pytest.raises(ValidationError, match="namespace"):
        CreateProfileRequest.model_validate({**_BASE, "namespace": "n" * 8000})
    with pytest.raises(ValidationError, match="bytes of UTF-8"):  # 4-byte characters count as 4
        CreateProfileRequest.model_validate({**_BASE, "namespace": "\U0001F600" * (NAMESPACE_MAX_BYTES // 4 + 1)})


@pytest.mark.parametrize("field", ["name", "label", "namespace", "task_queue", "cluster_id"])
def test_lone_surrogates_and_nul_are_refused_in_every_text_field(field: str) -> None:
    for bad in ("a\ud800b", "a\x00b"):
        with pytest.raises(ValidationError, match=field):
            CreateProfileRequest.model_validate({**_BASE, field: bad})
    with pytest.raises(ValidationError, match="dynamic_config"):
        CreateProfileRequest.model_validate({**_BASE, "dynamic_config": {"k": ["v\udfff"]}})
    with pytest.raises(ValidationError, match="profile_a_id"):
        CompareRequest.model_validate({"profile_a_id": "a\ud800b", "profile_b_id": "b"})


# --- times -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1765072950, "1765072950", 1765072950.5, 0, 99_999_999_999])
def test_epoch_seconds_are_refused_asking_for_milliseconds(value: object) -> None:
    # Found: 1765072950 (seconds) was read as milliseconds: a 3.6 s window in 1970.
    with pytest.raises(ValueError, match="milliseconds") as caught:
        parse_instant(value)
    assert "ISO 8601" in str(caught.value)


def test_epoch_milliseconds_still_parse() -> None:
    assert parse_instant(1765072950000).format_iso() == "2025-12-07T02:02:30Z"
    assert parse_instant(str(10**11)).format_iso() == "1973-03-03T09:46:40Z"


def test_windows_shorter_than_the_scrape_interval_are_refused() -> None:
    from whenever import Instant, TimeDelta

    from temporal_dsql_profiles.service import validate_window

    start = Instant.from_utc(2026, 11, 22, 10)
    with pytest.raises(InvalidProfileRequest, match="scrape interval") as refused:
        validate_window(start, start + TimeDelta(seconds=30), start + TimeDelta(hours=1), TimeDelta(seconds=60))
    # The problem's detail names the field it blames (found by the schema fuzz of `make reliability`).
    assert refused.value.field == "time_window_end" and "time_window_end" in str(refused.value)
    validate_window(start, start + TimeDelta(seconds=60), start + TimeDelta(hours=1), TimeDelta(seconds=60))


# --- cursors ---------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(cursor=st.one_of(st.text(max_size=120), st.binary(max_size=90).map(
    lambda b: __import__("base64").urlsafe_b64encode(b).decode().rstrip("="))))
def test_property_a_forged_cursor_is_a_400_or_the_position_it_encodes(cursor: str) -> None:
    # Property: any cursor string decodes to an in-range keyset position that re-encodes to itself,
    # or is refused as InvalidProfileRequest (400 naming `cursor`); never another exception (500).
    try:
        created, profile_id = _decode_cursor(cursor)
    except InvalidProfileRequest as refused:
        assert refused.field == "cursor"
        return
    assert 0 <= created < 2**63 and _encode_cursor(created, str(profile_id)) == cursor


@pytest.mark.parametrize("created", [2**63, 10**30, -1])
def test_cursors_out_of_bigint_range_are_refused(created: int) -> None:
    forged = _encode_cursor(created, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidProfileRequest):
        _decode_cursor(forged)
