"""`make flake-hunt`: every round runs for real and the table names a test that failed in any round."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "flake_hunt.py"

# Fails in round 2 only: the round number is kept in a counter file beside the test.
INTERMITTENT = """
import pathlib, pytest
COUNTER = pathlib.Path(__file__).with_name("runs")

@pytest.mark.standins
def test_intermittent():
    runs = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
    COUNTER.write_text(str(runs))
    assert runs != 2, "failed on the second run"

@pytest.mark.standins
def test_steady():
    assert True

def test_not_a_standin_test():
    raise AssertionError("must not be selected: only the standins marker runs")
"""


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("flake_hunt", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["flake_hunt"] = module
    spec.loader.exec_module(module)
    return module


def test_flake_hunt_reports_a_test_that_failed_in_one_round(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_sample.py").write_text(INTERMITTENT)
    flake_hunt = _load_script()
    status = flake_hunt.main(["--rounds", "3", "--out", str(tmp_path / "reports"), "--",
                              str(suite), "--rootdir", str(suite), "-c", "/dev/null"])
    table = capsys.readouterr().out
    assert status == 1
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["round-1.xml", "round-2.xml", "round-3.xml"]
    assert "tests that failed in any round: 1" in table
    assert "test_sample::test_intermittent" in table
    assert "failed in rounds 2: AssertionError: failed on the second run" in table
    assert "test_steady" not in table.split("tests that failed")[1]
    assert "test_not_a_standin_test" not in table


def test_flake_hunt_passes_when_every_round_is_green(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_green.py").write_text("import pytest\n\n@pytest.mark.standins\ndef test_ok():\n    pass\n")
    flake_hunt = _load_script()
    status = flake_hunt.main(["--rounds", "2", "--out", str(tmp_path / "reports"), "--",
                              str(suite), "--rootdir", str(suite), "-c", "/dev/null"])
    assert status == 0
    assert "tests that failed in any round: none (2 rounds)" in capsys.readouterr().out
