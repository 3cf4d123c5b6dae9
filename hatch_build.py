"""Build hook: pin the profile API Lambda's requirements from uv.lock, with hashes, into the wheel.

The components build the Lambda bundle from the INSTALLED package (no checkout at deploy time), so
the exact versions of the `lambda` dependency group travel inside it as package data:
`pulumi_temporal_dsql/_data/lambda-requirements.txt`, written by `uv export --frozen` at build
time. Editable installs (`uv sync`) write the same file into the source tree (gitignored), so a
checkout and a wheel read the same pins; `uv sync` rebuilds it when uv.lock changes (cache-keys).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

REQUIREMENTS = "pulumi_temporal_dsql/_data/lambda-requirements.txt"
EXPORT = ["export", "--frozen", "--only-group", "lambda", "--no-emit-project", "--no-header", "--no-annotate"]


def _uv() -> str:
    """uv sets UV for the build backends it runs; otherwise PATH, otherwise the `uv` wheel."""
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(Path(sys.executable).parent / "uv")):
        if candidate and Path(candidate).is_file():
            return candidate
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found]

        return str(find_uv_bin())
    except ImportError as error:
        raise RuntimeError("building temporal-dsql needs uv (to pin the Lambda bundle from uv.lock): pip install uv") from error


def lambda_requirements(root: Path) -> str:
    """`uv export` of the lambda group: one `name==version \\` block per package with its hashes."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    completed = subprocess.run([_uv(), *EXPORT], cwd=root, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"uv export of the lambda group failed:\n{completed.stderr[-2000:]}")
    return completed.stdout


class LambdaRequirementsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        target = root / "components" / REQUIREMENTS
        text = lambda_requirements(root)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if version != "editable":  # gitignored, so named explicitly; editable installs read the source tree
            build_data["force_include"][str(target)] = REQUIREMENTS
