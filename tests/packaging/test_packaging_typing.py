"""Typed for consumers: py.typed, Literal choice fields a type checker enforces, field docs in
help(), and the README's reference tables generated from the code."""

from __future__ import annotations

import dataclasses
import pydoc
from pathlib import Path

from mypy import api as mypy_api

from pulumi_temporal_dsql import choices
from pulumi_temporal_dsql.cluster import CAPACITY_MODES
from pulumi_temporal_dsql.fielddocs import field_docs
from pulumi_temporal_dsql.outputs import OUTPUT_NAMES, StackOutputs
from pulumi_temporal_dsql.preset import ENVIRONMENTS, MidScaleArgs, TemporalDsqlPresetArgs
from pulumi_temporal_dsql.profile_api import AUTH_MODES
from pulumi_temporal_dsql.reference import BEGIN, END, render
from temporal_dsql_config.modifiers import MODIFIERS
from temporal_dsql_config.presets import PRESETS

REPO = Path(__file__).resolve().parents[2]
# Only what the check needs: the package's own modules; the big dependencies are not followed.
MYPY_CONFIG = """\
[mypy]
follow_imports = silent
ignore_missing_imports = true
[mypy-pulumi.*,pulumi_aws.*,pydantic.*,pydantic_core.*,whenever.*,yaml.*,typer.*,rich.*,packaging.*,temporal_dsql_config.*,temporal_dsql_profiles.*]
follow_imports = skip
"""


def test_the_literals_are_the_compilers_and_the_components_sets() -> None:
    assert set(choices.PRESET_CHOICES) == set(PRESETS)
    assert set(choices.MODIFIER_CHOICES) == set(MODIFIERS)
    assert choices.CAPACITY_CHOICES == CAPACITY_MODES
    assert choices.PROFILE_API_AUTH_CHOICES == AUTH_MODES
    assert choices.ENVIRONMENT_CHOICES == ENVIRONMENTS


def test_a_consumers_type_checker_rejects_a_typo_in_a_choice_field(tmp_path: Path) -> None:
    program = tmp_path / "consumer.py"
    program.write_text(
        "from pulumi_temporal_dsql import MidScaleArgs\n"
        'MidScaleArgs(capacity="fargat")\n'
        'MidScaleArgs(capacity="ec2", environment="dev", modifier="orchestrator", profile_api_auth="token")\n'
        'MidScaleArgs(environment="production")\n'
    )
    config = tmp_path / "mypy.ini"
    config.write_text(MYPY_CONFIG)
    stdout, stderr, status = mypy_api.run(["--config-file", str(config), "--cache-dir", "/dev/null",
                                           "--no-error-summary", str(program)])
    assert status == 1, stdout + stderr
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    # Lines 2 and 4 only: the typos; line 3 is all valid choices.
    assert [line.split(":")[1] for line in errors] == ["2", "4"], stdout
    assert "Literal['fargate', 'ec2']" in errors[0]


def test_every_field_is_documented_and_help_shows_it() -> None:
    docs = field_docs(TemporalDsqlPresetArgs)
    fields = [f.name for f in dataclasses.fields(TemporalDsqlPresetArgs)]
    assert [name for name in fields if not docs.get(name)] == []
    shown = " ".join(pydoc.render_doc(MidScaleArgs, renderer=pydoc.plaintext).replace(" |", " ").split())
    for name, doc in field_docs(MidScaleArgs).items():
        assert " ".join(doc.split()) in shown, name
    assert """capacity: "fargate" | "ec2" = 'fargate'""" in (MidScaleArgs.__doc__ or "")
    output_docs = field_docs(StackOutputs)
    assert [name for name in OUTPUT_NAMES if not output_docs.get(name)] == []


def test_the_readmes_reference_tables_are_current() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(BEGIN) : readme.index(END) + len(END)]
    assert block == render(), "run: uv run python -m pulumi_temporal_dsql.reference --write README.md"
    for name in [*OUTPUT_NAMES, *(f.name for f in dataclasses.fields(TemporalDsqlPresetArgs))]:
        assert f"| `{name}` |" in block, name
