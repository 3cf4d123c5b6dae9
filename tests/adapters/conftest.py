"""Every preset x modifier (15 combinations) compiled once per session with every adapter."""

from __future__ import annotations

import pytest

from dsql_config.compiler import ConfigCompiler
from dsql_config.models import CompilationResult
from dsql_config.modifiers import MODIFIERS
from dsql_config.presets import PRESETS

COMBOS: list[tuple[str, str | None]] = [(p, m) for p in PRESETS for m in [None, *MODIFIERS]]


def combo_id(combo: tuple[str, str | None]) -> str:
    return f"{combo[0]}+{combo[1] or 'none'}"


@pytest.fixture(scope="session")
def compiled() -> dict[tuple[str, str | None], CompilationResult]:
    compiler = ConfigCompiler()
    return {combo: compiler.compile(combo[0], modifier=combo[1]) for combo in COMBOS}


def snippet(result: CompilationResult, filename: str) -> str:
    for s in [*result.sdk_snippets, *result.platform_snippets]:
        if s.filename == filename:
            return s.content
    raise AssertionError(f"{filename} not rendered; have {[s.filename for s in result.platform_snippets]}")
