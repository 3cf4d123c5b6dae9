"""Every preset x modifier (15 combinations) compiled once per session with every adapter."""

from __future__ import annotations

import pytest
from adapter_combos import COMBOS

from temporal_dsql_config.compiler import ConfigCompiler
from temporal_dsql_config.models import CompilationResult


@pytest.fixture(scope="session")
def compiled() -> dict[tuple[str, str | None], CompilationResult]:
    compiler = ConfigCompiler()
    return {combo: compiler.compile(combo[0], modifier=combo[1]) for combo in COMBOS}
