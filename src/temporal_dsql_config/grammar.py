"""The compiler's names as command-line arguments, shared by `temporal-dsql-config`,
`temporal-dsql` and `copilot`: the positional preset, ``-m/--modifier``, ``-o/--override`` and
shell completion of preset, modifier and parameter names (``--install-completion``).

The completers read the same tables the compiler does (presets, modifiers, the parameter
registry), so a new preset or parameter completes with no change here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from temporal_dsql_config.errors import DsqlConfigError

__all__ = [
    "KeyOption",
    "ModifierOption",
    "OptionalPresetArgument",
    "OverrideOption",
    "PresetArgument",
    "complete_modifier",
    "complete_override",
    "complete_parameter",
    "complete_preset",
    "parse_override_pairs",
]


def complete_preset(incomplete: str) -> list[tuple[str, str]]:
    from temporal_dsql_config.presets import PRESETS

    return [(name, f"{spec.throughput_range.description}") for name, spec in PRESETS.items()
            if name.startswith(incomplete)]


def complete_modifier(incomplete: str) -> list[tuple[str, str]]:
    from temporal_dsql_config.modifiers import MODIFIERS

    return [(name, spec.description) for name, spec in MODIFIERS.items() if name.startswith(incomplete)]


def complete_parameter(incomplete: str) -> list[str]:
    """Registry keys first, then the env-var and dynamic-config names that mean them."""
    from temporal_dsql_config.registry import default_registry

    registry = default_registry()
    keys = registry.keys()
    names = [*keys, *(name for name in registry.known_names() if name not in set(keys))]
    return [name for name in names if name.startswith(incomplete)]


def complete_override(incomplete: str) -> list[str]:
    """`-o history.rep<TAB>` -> `history.replicas=`; after the `=` the value is the user's."""
    if "=" in incomplete:
        return []
    return [f"{name}=" for name in complete_parameter(incomplete)]


PresetArgument = Annotated[str, typer.Argument(
    metavar="PRESET", help="Scale preset: starter | mid-scale | high-throughput.", autocompletion=complete_preset)]
OptionalPresetArgument = Annotated[str | None, typer.Argument(
    metavar="[PRESET]", help="Scale preset: starter | mid-scale | high-throughput.", autocompletion=complete_preset,
    show_default=False)]
ModifierOption = Annotated[str | None, typer.Option(
    "--modifier", "-m", help="Workload modifier: simple-crud | orchestrator | batch-processor | long-running.",
    autocompletion=complete_modifier)]
OverrideOption = Annotated[list[str] | None, typer.Option(
    "--override", "-o", metavar="KEY=VALUE",
    help="Override one parameter (repeatable); KEY is a registry key, plugin env var or dynamic-config key.",
    autocompletion=complete_override)]
KeyOption = Annotated[str | None, typer.Option(
    "--key", "-k", help="Registry key, env-var name or dynamic-config key.", autocompletion=complete_parameter)]


def parse_override_pairs(pairs: list[str] | None, *, option: str = "--override") -> dict[str, str]:
    """KEY=VALUE pairs, in order; a pair without `=` and a KEY given twice are errors, every one
    reported at once (issue 18: a repeated key silently won by the later value hid a typo)."""
    from temporal_dsql_config.errors import InputErrors
    from temporal_dsql_core.errors import InputError

    parsed: dict[str, str] = {}
    errors: list[InputError] = []
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            errors.append(DsqlConfigError(f"Override {pair!r} is not KEY=VALUE.", field=option,
                                          suggestion=f"Write e.g. {option} history.replicas=4 or {option} DSQL_TOKEN_DURATION=10m."))
        elif name in parsed:
            errors.append(DsqlConfigError(f"{option} {name} is given twice ({parsed[name]!r} and {value!r}).", field=name,
                                          suggestion="Give each key once."))
        else:
            parsed[name] = value
    InputErrors.raise_all(errors)
    return parsed
