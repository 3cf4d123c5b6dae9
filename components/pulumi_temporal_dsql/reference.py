"""The README's reference tables, generated from the code: the preset's Args and the stack outputs.

    python -m pulumi_temporal_dsql.reference            # print the generated block
    python -m pulumi_temporal_dsql.reference --write README.md

The block sits between the BEGIN/END markers in the README; tests/packaging checks it is current.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, get_type_hints

from pulumi_temporal_dsql.fielddocs import _resolve, field_docs, type_name
from pulumi_temporal_dsql.outputs import OPTIONAL_OUTPUTS, OUTPUT_NAMES, StackOutputs
from pulumi_temporal_dsql.preset import TemporalDsqlPresetArgs

__all__ = ["BEGIN", "END", "render", "update"]

BEGIN = "<!-- BEGIN GENERATED: python -m pulumi_temporal_dsql.reference --write README.md -->"
END = "<!-- END GENERATED -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(field: dataclasses.Field[Any]) -> str:
    if field.default is not dataclasses.MISSING:
        return f"`{field.default!r}`"
    if field.default_factory is not dataclasses.MISSING:
        return f"`{field.default_factory()!r}`"
    return "required"


def render() -> str:
    docs = field_docs(TemporalDsqlPresetArgs)
    lines = [BEGIN, "", "#### `TemporalDsqlPresetArgs` (and `StarterArgs`, `MidScaleArgs`, `HighThroughputArgs`)", "",
             "| field | type | default | description |", "|---|---|---|---|"]
    for field in dataclasses.fields(TemporalDsqlPresetArgs):
        shown = type_name(field.type, _resolve(TemporalDsqlPresetArgs, field.type))
        lines.append(f"| `{field.name}` | `{_cell(shown)}` | {_default(field)} | {_cell(docs.get(field.name, ''))} |")
    output_docs = field_docs(StackOutputs)
    hints = get_type_hints(StackOutputs)
    lines += ["", "#### Stack outputs (`pulumi_temporal_dsql.outputs.StackOutputs`)", "",
              "| output | type | always set | description |", "|---|---|---|---|"]
    for name in OUTPUT_NAMES:
        shown = str(hints[name]).replace("typing.", "").replace("<class '", "").replace("'>", "")
        lines.append(f"| `{name}` | `{_cell(shown)}` | {'no' if name in OPTIONAL_OUTPUTS else 'yes'} | "
                     f"{_cell(output_docs.get(name, ''))} |")
    return "\n".join([*lines, "", END])


def update(text: str) -> str:
    """`text` with its generated block replaced by the current one."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + render() + text[end:]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write"]:
        path = Path(sys.argv[2])
        path.write_text(update(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(render())
