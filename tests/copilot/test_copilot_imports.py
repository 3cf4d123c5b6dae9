"""The status API is served by the Lambda: its import closure has no temporalio or pydantic_ai."""

from __future__ import annotations

import subprocess
import sys

import temporal_dsql_copilot.assessment
import temporal_dsql_copilot.health
import temporal_dsql_copilot.loop
import temporal_dsql_copilot.narrative
import temporal_dsql_copilot.signals
import temporal_dsql_copilot.status
import temporal_dsql_copilot.store

_CHECK = """
import sys
import temporal_dsql_copilot.api.app, temporal_dsql_copilot.status, temporal_dsql_copilot.store, temporal_dsql_copilot.assessment, temporal_dsql_copilot.loop, temporal_dsql_copilot.settings
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("temporalio", "pydantic_ai", "pulumi"))
print(",".join(heavy))
"""


def test_status_api_import_closure_is_light() -> None:
    result = subprocess.run([sys.executable, "-c", _CHECK], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_public_names_are_exported() -> None:
    for module in (temporal_dsql_copilot.assessment, temporal_dsql_copilot.health, temporal_dsql_copilot.loop, temporal_dsql_copilot.narrative, temporal_dsql_copilot.signals,
                   temporal_dsql_copilot.status, temporal_dsql_copilot.store):
        exported = set(module.__all__)
        assert exported, module.__name__
        assert all(hasattr(module, name) for name in exported), module.__name__
