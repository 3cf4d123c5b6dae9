"""Go parity, proven against Go (issue 18, item 3).

Every integer, boolean and duration the plugin or the Temporal server parses goes through
``temporal_dsql_config.values`` and through Go itself (``goparse.go``: strconv.Atoi, strconv.ParseBool,
time.ParseDuration, built at test time with the system's ``go``); accept/reject and the value must
agree. Inputs are drawn from Go-shaped text (digits, signs, units, dots) mixed with the traps a
Python parser falls into: Unicode digits, int64 bounds, Go's duration range, ``µ``/``μ``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from temporal_dsql_config.compiler import ConfigCompiler
from temporal_dsql_config.errors import DsqlConfigError
from temporal_dsql_config.values import parse_go_bool, parse_go_duration_ns, parse_go_int

GO_SOURCE = Path(__file__).parent / "go" / "goparse.go"


class GoParser:
    """One long-running goparse process: a line in, a line out."""

    def __init__(self, binary: Path) -> None:
        self.proc = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, kind: str, text: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{kind} {text.encode().hex()}\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def go(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoParser]:
    go_bin = shutil.which("go")
    assert go_bin is not None, "golang-go is a system dependency of this project (see HELPERS/DEVELOPERS)"
    work = tmp_path_factory.mktemp("goparse")
    shutil.copy(GO_SOURCE, work / "goparse.go")
    env = {**os.environ, "GO111MODULE": "off", "GOPROXY": "off", "GOTOOLCHAIN": "local", "GOFLAGS": "",
           "GOPATH": str(work / "gopath"), "GOCACHE": os.environ.get("GOCACHE", str(work / "gocache"))}
    built = subprocess.run([go_bin, "build", "-o", str(work / "goparse"), "goparse.go"], cwd=work, env=env,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    parser = GoParser(work / "goparse")
    yield parser
    parser.close()


def _ours(kind: str, text: str) -> str:
    try:
        if kind == "int":
            return f"ok {parse_go_int(text)}"
        if kind == "bool":
            return f"ok {'true' if parse_go_bool(text) else 'false'}"
        return f"ok {parse_go_duration_ns(text)}"
    except ValueError:
        return "err"


_DIGITS = st.sampled_from([*"0123456789", "\u0665", "\u0660", "\uff11", "\u00b2", "_"])
_INT_TEXT = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.builds(lambda sign, digits: sign + "".join(digits), st.sampled_from(["", "+", "-", "--", " "]),
              st.lists(_DIGITS, max_size=22)),
    st.sampled_from(["9223372036854775807", "9223372036854775808", "-9223372036854775808",
                     "-9223372036854775809", "0x10", "1e3", "\u0665\u0660", "+", "", "00012", "1_000", " 1"]),
)
_UNITS = st.sampled_from(["ns", "us", "µs", "μs", "ms", "s", "m", "h", "", "d", "S", "hh", "mss"])
_NUM = st.one_of(st.integers(min_value=0, max_value=10**20).map(str),
                 st.builds(lambda a, b: f"{a}.{b}", st.sampled_from(["", "0", "1", "12"]),
                           st.sampled_from(["", "5", "25", "123456789012345678901234567890"])),
                 st.lists(_DIGITS, min_size=1, max_size=6).map("".join))
_DURATION_TEXT = st.one_of(
    st.builds(lambda sign, parts: sign + "".join(parts), st.sampled_from(["", "+", "-"]),
              st.lists(st.builds(lambda n, u: n + u, _NUM, _UNITS), min_size=0, max_size=4)),
    st.sampled_from(["0", "-0", "+0", "2562047h47m16.854775807s", "2562047h47m16.854775808s",
                     "-2562047h47m16.854775808s", "2562047h48m", "9223372036854775807ns",
                     "9223372036854775808ns", ".5s", "1.s", ".s", "1.5.5s", "1h.", "\u0665s", "00h"]),
)
_BOOL_TEXT = st.one_of(st.sampled_from(["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false",
                                        "False", "yes", "on", "tRUE", " true", "", "2"]), st.text(max_size=5))

_PARITY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# Property: Go parity (integers) - parse_go_int accepts exactly what strconv.Atoi accepts, with its value.
@_PARITY
@given(text=_INT_TEXT)
def test_property_go_parity_int_matches_strconv_atoi(go: GoParser, text: str) -> None:
    assert _ours("int", text) == go.ask("int", text), text


# Property: Go parity (booleans) - parse_go_bool accepts exactly what strconv.ParseBool accepts.
@_PARITY
@given(text=_BOOL_TEXT)
def test_property_go_parity_bool_matches_strconv_parsebool(go: GoParser, text: str) -> None:
    assert _ours("bool", text) == go.ask("bool", text), text


# Property: Go parity (durations) - parse_go_duration_ns accepts exactly what time.ParseDuration
# accepts and gives the same nanoseconds (units, fractions, int64 range).
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_DURATION_TEXT)
def test_property_go_parity_duration_matches_time_parseduration(go: GoParser, text: str) -> None:
    assert _ours("duration", text) == go.ask("duration", text), text


# Property: what the compiler accepts as an override, Go accepts too (the compiler never passes a
# value to the plugin that the plugin's own parser would reject or read differently).
@_PARITY
@given(text=st.one_of(_INT_TEXT, _DURATION_TEXT))
def test_property_go_parity_compiler_overrides_accept_only_what_go_parses(go: GoParser, text: str) -> None:
    compiler = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    for key, kind in (("TEMPORAL_SQL_MAX_CONNS", "int"), ("sdk.sticky_schedule_to_start_timeout", "duration")):
        try:
            typed, _ = compiler.normalize_overrides({key: text})
        except DsqlConfigError:
            continue
        assert go.ask(kind, text).startswith("ok"), (key, text)
        # What the compiler writes back out (its canonical form) Go reads as the same value.
        emitted = str(next(iter(typed.values())))
        assert go.ask(kind, emitted) == _ours(kind, emitted), (key, text, emitted)


def test_issue_examples_are_rejected() -> None:
    """The issue's two examples: Arabic-Indic digits and a duration past int64 nanoseconds."""
    compiler = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    with pytest.raises(DsqlConfigError):
        compiler.normalize_overrides({"TEMPORAL_SQL_MAX_CONNS": "\u0665\u0660"})
    with pytest.raises(DsqlConfigError):
        compiler.normalize_overrides({"sdk.sticky_schedule_to_start_timeout": "2562047h48m"})
