"""The README's CLI tour runs as written (config compiler, adapters and explain, offline plan).

Each bash block that calls `temporal-dsql-config` or `temporal-dsql` is run whole, under
`bash -euo pipefail`, with two rewrites only: `uv run [--frozen]` becomes this environment's
scripts (the same entry points `uv run` would start), and `/tmp/` becomes a per-test folder.
Lines that are expected to fail say so themselves (`|| echo "exit $?"`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI_CALL = re.compile(r"\b(temporal-dsql-config|temporal-dsql (plan|diff|build-lambda))\b")


def readme_cli_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [b for b in blocks if CLI_CALL.search(b) and "pulumi up" not in b]


def _as_run_here(block: str, scratch: Path) -> str:
    block = re.sub(r"\buv run (--frozen )?", "", block)
    return block.replace("/tmp/", f"{scratch}/")


def test_the_readme_has_the_cli_tour() -> None:
    joined = "\n".join(readme_cli_blocks())
    for command in ("list-presets", "describe-preset", "compile", "explain --key", "explain --preset",
                    "explain --profile", "--from-env", "migrate", "plan --preset", "build-lambda",
                    "diff --preset", "--accept-plugin-defaults"):
        assert command in joined, command


@pytest.mark.parametrize("index", range(len(readme_cli_blocks())))
def test_readme_cli_block_runs_as_written(index: int, tmp_path: Path) -> None:
    block = readme_cli_blocks()[index]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    completed = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _as_run_here(block, tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, f"{block}\n--- stdout\n{completed.stdout[-3000:]}\n--- stderr\n{completed.stderr[-3000:]}"
    # Every line the README marks as failing on purpose did fail, with a non-zero exit.
    statuses = re.findall(r"^exit (\d+)$", completed.stdout, flags=re.M)
    assert len(statuses) == block.count('|| echo "exit $?"')
    assert all(int(status) != 0 for status in statuses)
    # What the README promises of a failure is what the CLI says.
    for count in re.findall(r"here: (\d+) errors", block):
        assert f"{count} guard-rail error(s)" in completed.stderr
