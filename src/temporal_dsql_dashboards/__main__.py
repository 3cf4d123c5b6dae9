"""Regenerate grafana/ (``python -m temporal_dsql_dashboards``) or check it is current (``--check``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from temporal_dsql_dashboards._render import check_files, write_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m temporal_dsql_dashboards", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: cwd)")
    parser.add_argument("--check", action="store_true", help="fail when committed files are stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = check_files(args.root)
        for stale_path in stale:
            print(f"stale: {stale_path} (run `uv run python -m temporal_dsql_dashboards`)", file=sys.stderr)
        return 1 if stale else 0
    for written in write_files(args.root):
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
