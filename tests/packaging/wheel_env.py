"""A fresh virtual environment, in an empty folder outside the checkout, holding only the wheel.

Built once per session: `uv build --wheel` from the checkout, `uv venv`, then `uv pip install
--offline` of the core dependencies at the lock's versions (`uv export --format pylock.toml`, no
extras, no groups: wheel URLs uv's cache already holds, so no network) and of the wheel itself;
`uv pip check` then proves the wheel's own metadata is satisfied by exactly that set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHECKOUT", "WheelEnv", "make_wheel_env", "run"]

CHECKOUT = Path(__file__).resolve().parents[2]


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    assert Path(found).is_file(), "uv is part of the toolchain (make sync installs it)"
    return found


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    completed = subprocess.run(
        command, cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True, check=False, timeout=600
    )
    if check:
        assert completed.returncode == 0, f"{command[:3]} failed ({completed.returncode}):\n{completed.stderr[-4000:]}"
    return completed


@dataclass(frozen=True)
class WheelEnv:
    wheel: Path
    venv: Path
    folder: Path
    """An empty folder outside the checkout: the consumer's project directory."""

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def python(self, code: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run([str(self.bin("python")), "-c", code], self.folder, env, check)


def make_wheel_env(root: Path) -> WheelEnv:
    uv = _uv()
    dist, venv, folder = root / "dist", root / "venv", root / "project"
    folder.mkdir(parents=True)
    run([uv, "build", "--wheel", "--out-dir", str(dist), "--quiet"], CHECKOUT)
    (wheel,) = dist.glob("temporal_dsql-*.whl")
    lock = root / "pylock.toml"
    run([uv, "export", "--frozen", "--no-default-groups", "--no-emit-project", "--format", "pylock.toml",
         "--quiet", "-o", str(lock)], CHECKOUT)
    run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], root)
    python = str(venv / "bin" / "python")
    offline = {"UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1"}
    run([uv, "pip", "install", "--quiet", "--python", python, "-r", str(lock)], root, offline)
    run([uv, "pip", "install", "--quiet", "--no-deps", "--python", python, str(wheel)], root, offline)
    run([uv, "pip", "check", "--python", python], root, offline)
    return WheelEnv(wheel, venv, folder)
