"""The README's shell blocks, each with the marker that says how (or why not) it runs.

A block is a fenced ``bash``/``sh``/``shell``/``console`` block. The line before its fence (blank
lines skipped) may hold ``<!-- readme-test: ... -->``; docs/contributing.md lists the markers.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT", "SKIP_REASONS", "Block", "as_run_here", "readme_blocks", "scratch_checkout", "shell_env"]

ROOT = Path(__file__).resolve().parents[2]
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console"})
SKIP_REASONS = frozenset({"aws", "docker", "install", "slow"})
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)
_MARKER = re.compile(r"<!--\s*readme-test:\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    code: str
    marker: str  # "" (runs on its own), "local-stack", "local-stack teardown" or "skip <reason> ..."

    @property
    def kind(self) -> str:
        if not self.marker:
            return "plain"
        if self.marker.startswith("skip"):
            return "skip"
        return self.marker

    def __str__(self) -> str:
        return f"README.md:{self.line}"


def readme_blocks(path: Path = ROOT / "README.md") -> list[Block]:
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        info = match.group(1).strip().split()
        if not info or info[0] not in SHELL_LANGUAGES:
            continue
        before = [line for line in text[: match.start()].splitlines() if line.strip()]
        marker = _MARKER.search(before[-1]) if before else None
        blocks.append(Block(line=text.count("\n", 0, match.start()) + 1, code=match.group(2),
                            marker=marker.group(1) if marker else ""))
    return blocks


def as_run_here(block: Block, scratch: Path) -> str:
    """The block as this environment runs it: `uv run` is the venv's scripts, /tmp/ a scratch folder."""
    code = re.sub(r"\buv run (--frozen )?", "", block.code)
    return code.replace("/tmp/", f"{scratch}/")


def shell_env(**extra: str) -> dict[str, str]:
    """The environment a block runs in: this interpreter's scripts first on PATH, no colour."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, **extra}


def scratch_checkout(scratch: Path) -> Path:
    """A folder that reads like the repository (top-level entries symlinked) and writes elsewhere:
    a block may name `stacks/Pulumi.dev.yaml`, and its `build/` or `out/` land in the scratch folder."""
    work = scratch / "checkout"
    work.mkdir()
    for entry in ROOT.iterdir():
        if entry.name.startswith(".") or entry.name in {"build", "out", "dist"}:
            continue
        (work / entry.name).symlink_to(entry)
    return work
