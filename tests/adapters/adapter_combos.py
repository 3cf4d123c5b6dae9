"""The 15 preset x modifier combinations and small accessors shared by the adapter tests."""

from __future__ import annotations

from temporal_dsql_config.models import CompilationResult
from temporal_dsql_config.modifiers import MODIFIERS
from temporal_dsql_config.presets import PRESETS

COMBOS: list[tuple[str, str | None]] = [(p, m) for p in PRESETS for m in [None, *MODIFIERS]]
PY_FILE = "python/worker_options.py"


def combo_id(combo: tuple[str, str | None]) -> str:
    return f"{combo[0]}+{combo[1] or 'none'}"


def snippet(result: CompilationResult, filename: str) -> str:
    for s in [*result.sdk_snippets, *result.platform_snippets]:
        if s.filename == filename:
            return s.content
    raise AssertionError(f"{filename} not rendered; have {[s.filename for s in result.platform_snippets]}")


def load_worker_kwargs(source: str) -> dict[str, object]:
    """Run the Python adapter's module and return its WORKER_KWARGS."""
    namespace: dict[str, object] = {}
    exec(compile(source, PY_FILE, "exec"), namespace)
    kwargs = namespace["WORKER_KWARGS"]
    assert isinstance(kwargs, dict)
    return kwargs
