"""The demo's comparison chart: an SVG bar chart of telemetry changes, rendered to PNG by the
headless Chromium the stack already needs (no plotting library)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["comparison_svg", "write_comparison_png"]

_ROW = 34
_LEFT = 330
_BAR = 420
_DECADES = 3.0  # the bar scale spans ratios up to 1000x


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def comparison_svg(diffs: Sequence[dict[str, Any]], *, title: str, limit: int = 12) -> str:
    """Horizontal bars of each metric's ratio of means B/A on a log scale (right: grew, left: shrank)."""
    rows = [d for d in diffs if d.get("direction") != "unchanged"][:limit]
    width, height = _LEFT + _BAR * 2 + 40, 90 + _ROW * max(1, len(rows))
    zero = _LEFT + _BAR
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="DejaVu Sans, sans-serif">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="20" y="30" font-size="18" font-weight="bold">{html.escape(title)}</text>',
        '<text x="20" y="52" font-size="12" fill="#555">ratio of the means B / A, log scale (full bar: 1000x or '
        'from 0); red: regressed, green: improved</text>',
        f'<line x1="{zero}" y1="62" x2="{zero}" y2="{height - 10}" stroke="#999"/>',
    ]
    for index, diff in enumerate(rows):
        y = 70 + index * _ROW
        old, new = diff["old_value"]["mean"], diff["new_value"]["mean"]
        pct = diff.get("change_pct")
        if pct is None or old <= 0 or new <= 0:
            decades = _DECADES
        else:
            decades = min(abs(math.log10(new / old)), _DECADES)
        length = _BAR * decades / _DECADES
        growing = pct is None or pct >= 0
        x = zero if growing else zero - length
        color = "#d44a3a" if diff["direction"] == "regressed" else "#299c46"
        label = "from 0" if pct is None else f"{pct:+.0f} %"
        parts += [
            f'<text x="20" y="{y + 20}" font-size="13">{html.escape(diff["metric"])}</text>',
            f'<rect x="{x:.1f}" y="{y + 6}" width="{max(length, 1):.1f}" height="20" fill="{color}"/>',
            f'<text x="{zero + (8 if not growing else -8)}" y="{y + 21}" font-size="12" '
            f'text-anchor="{"start" if not growing else "end"}" fill="#333">'
            f'{html.escape(label)} ({_fmt(old)} → {_fmt(new)} {html.escape(diff.get("unit", ""))})</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def write_comparison_png(diffs: Sequence[dict[str, Any]], path: Path, *, title: str) -> Path:
    from temporal_dsql_dashboards.browser import Browser

    svg = comparison_svg(diffs, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    svg_path = path.with_suffix(".svg")
    svg_path.write_text(svg)
    width = int(svg.split('width="', 1)[1].split('"', 1)[0])
    height = int(svg.split('height="', 1)[1].split('"', 1)[0])
    with Browser(width=width, height=height) as browser:
        browser.navigate(svg_path.resolve().as_uri())
        browser.screenshot(path, clip=(width, height))
    return path
