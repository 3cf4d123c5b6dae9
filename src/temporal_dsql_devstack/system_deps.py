"""Installs the Debian packages the stand-ins need, or says exactly how to (not root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from temporal_dsql_devstack.errors import DevStackError

__all__ = ["REPO_ROOT", "ensure_system_deps", "missing_packages"]

REPO_ROOT = Path(__file__).resolve().parents[2]  # src/temporal_dsql_devstack/system_deps.py -> the repository
_SCRIPT = REPO_ROOT / "scripts" / "ensure-system-deps.sh"
_LIST = REPO_ROOT / "scripts" / "system-deps.txt"
# Used when the package runs outside a checkout (no scripts/ directory): what `copilot dev up` and
# the demo run. No Chromium: only the checkout's dashboard browser test needs it (the demo's chart
# is drawn by matplotlib).
_FALLBACK = (("initdb", "postgresql"), ("prometheus", "prometheus"), ("promtool", "prometheus"))


def _requirements() -> list[tuple[str, str]]:
    if not _LIST.exists():
        return list(_FALLBACK)
    pairs = []
    for line in _LIST.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#"):
            pairs.append((parts[0], parts[1]))
    return pairs


def missing_packages() -> list[str]:
    missing = {package for binary, package in _requirements()
               if shutil.which(binary) is None and not glob.glob(f"/usr/lib/postgresql/*/bin/{binary}")}
    return sorted(missing)


def ensure_system_deps() -> list[str]:
    """Install what is missing (as root); returns the packages installed."""
    missing = missing_packages()
    if not missing:
        return []
    command = f"sudo apt-get update && sudo apt-get install -y --no-install-recommends {' '.join(missing)}"
    if os.geteuid() != 0:
        raise DevStackError(f"missing Debian packages: {', '.join(missing)}", field="system packages",
                            suggestion=f"Run: {command}")
    if _SCRIPT.exists():
        result = subprocess.run(["bash", str(_SCRIPT)], capture_output=True, text=True)
    else:
        result = subprocess.run(["bash", "-c", f"apt-get update -qq && apt-get install -y -qq "
                                 f"--no-install-recommends {' '.join(missing)}"], capture_output=True, text=True)
    if result.returncode != 0:
        raise DevStackError(f"installing {', '.join(missing)} failed: {result.stderr[-1500:]}",
                            field="system packages", suggestion=f"Run it yourself: {command}")
    return missing
