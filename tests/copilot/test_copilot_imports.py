"""The status API is served by the Lambda: its import closure has no temporalio or pydantic_ai."""

from __future__ import annotations

import subprocess
import sys

import copilot.assessment
import copilot.health
import copilot.loop
import copilot.narrative
import copilot.signals
import copilot.status
import copilot.store

_CHECK = """
import sys
import copilot.api.app, copilot.status, copilot.store, copilot.assessment, copilot.loop, copilot.settings
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("temporalio", "pydantic_ai", "pulumi"))
print(",".join(heavy))
"""


def test_status_api_import_closure_is_light() -> None:
    result = subprocess.run([sys.executable, "-c", _CHECK], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_public_names_are_exported() -> None:
    for module in (copilot.assessment, copilot.health, copilot.loop, copilot.narrative, copilot.signals,
                   copilot.status, copilot.store):
        exported = set(module.__all__)
        assert exported, module.__name__
        assert all(hasattr(module, name) for name in exported), module.__name__
