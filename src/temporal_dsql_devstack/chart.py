"""The demo's comparison chart: which metrics changed from window A to window B, and by how much.

Drawn with matplotlib's Agg canvas (no display, no browser) in two steps, so the choices can be
tested without reading pixels: ``chart_model`` picks the rows (the changed metrics in the
comparison's own order: severity, regressions first, largest change first), the scale and the
title; ``draw_chart`` turns that into a Figure. A metric whose mean was 0 in one window has no
finite ratio, so it gets a marker labelled "from 0" or "to 0" instead of a bar.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from whenever import Instant

from temporal_dsql_core.cli import ExitCode, print_error
from temporal_dsql_core.instants import InstantType, format_instant, parse_instant
from temporal_dsql_devstack.errors import DevStackError
from temporal_dsql_profiles.models import ProfileComparison, TelemetryDiff

__all__ = [
    "COLOURS", "FIGURE_DPI", "FIGURE_SIZE_INCHES", "ChartModel", "ChartRow", "SavedComparison", "Window",
    "chart_model", "draw_chart", "load_comparison", "main", "save_comparison", "write_comparison_png",
]

# 1200 x 720 px whatever the data: the PNG's size is stable for tests and for the README.
FIGURE_SIZE_INCHES = (12.0, 7.2)
FIGURE_DPI = 100
DEFAULT_LIMIT = 12
# Ratios whose span (largest over smallest, 1x included) reaches one decade get a log axis: on a
# linear axis a 1,300x bar would flatten every 2x bar to a sliver.
LOG_SPAN_DECADES = 1.0

Category = Literal["critical regression", "warning regression", "improvement"]
# Colour-blind-safe enough (red, orange, blue) and the legend is built from what was drawn.
COLOURS: dict[Category, str] = {
    "critical regression": "#c0392b",
    "warning regression": "#e69f00",
    "improvement": "#0072b2",
}
_UNITS = {"per_sec": "/s", "ms": "ms", "percent": "%", "count": ""}
_DIFFS = TypeAdapter(list[TelemetryDiff])


@dataclass(frozen=True)
class Window:
    """One profile's time window, as the title shows it (ISO 8601 at second precision)."""

    label: str
    start: Instant
    end: Instant

    @classmethod
    def parse(cls, label: str, start: str, end: str) -> Window:
        return cls(label, parse_instant(start), parse_instant(end))

    def describe(self) -> str:
        minutes = (self.end - self.start).total("minutes")
        return f"{self.label}, {format_instant(self.start)} to {format_instant(self.end)} ({minutes:.0f} min)"


@dataclass(frozen=True)
class ChartRow:
    metric: str
    unit: str
    """The catalog's unit (per_sec, ms, percent, count)."""
    old_mean: float
    new_mean: float
    category: Category
    kind: Literal["ratio", "from_zero", "to_zero"]

    @property
    def ratio(self) -> float | None:
        """B / A, or None when one side is 0 (no finite ratio, drawn as a marker)."""
        return self.new_mean / self.old_mean if self.kind == "ratio" else None

    @property
    def change_pct(self) -> float | None:
        return None if self.kind == "from_zero" else (self.new_mean - self.old_mean) / abs(self.old_mean) * 100

    def change_text(self) -> str:
        if self.kind == "from_zero":
            return "from 0"
        ratio, pct = self.ratio, self.change_pct
        assert pct is not None
        if ratio is not None and ratio >= 2:
            return f"\u00d7{_number(ratio)}"  # "\u00d71,332" reads faster than "+133,093 %"
        return f"{pct:+.0f} %"

    def values_text(self) -> str:
        unit = _UNITS.get(self.unit, self.unit)
        return f"{_number(self.old_mean)} \u2192 {_number(self.new_mean)} {unit}".rstrip()


@dataclass(frozen=True)
class ChartModel:
    a: Window
    b: Window
    rows: tuple[ChartRow, ...]
    changed: int
    """How many metrics changed beyond their threshold (the rows are the first ``limit`` of them)."""
    regressed: int
    compared: int
    scale: Literal["log", "linear"]

    @property
    def title(self) -> str:
        return (f"{_short(self.a.label)} \u2192 {_short(self.b.label)}: "
                f"top {len(self.rows)} of {self.changed} changed metrics")

    @property
    def subtitle(self) -> str:
        return (f"A (baseline): {self.a.describe()}\nB: {self.b.describe()}\n"
                f"{self.regressed} regressed, {self.changed - self.regressed} improved, "
                f"{self.compared - self.changed} unchanged or without data (not shown); "
                f"ordered by severity, then size of change")


def _short(label: str, limit: int = 40) -> str:
    """A profile label as the one-line title can hold it (the subtitle has it whole)."""
    return label if len(label) <= limit else label[:limit - 1] + "\u2026"


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _category(diff: TelemetryDiff) -> Category:
    if diff.direction == "improved":
        return "improvement"
    return "critical regression" if diff.severity == "critical" else "warning regression"


def _row(diff: TelemetryDiff) -> ChartRow:
    assert diff.old_value is not None and diff.new_value is not None  # a changed metric has both sides
    old, new = diff.old_value.mean, diff.new_value.mean
    kind: Literal["ratio", "from_zero", "to_zero"] = "from_zero" if old == 0 else "to_zero" if new == 0 else "ratio"
    # A ratio of two means of different signs is not a scale factor; treat it like a zero crossing.
    if kind == "ratio" and (old < 0) != (new < 0):
        kind = "to_zero"
    return ChartRow(diff.metric, diff.unit, old, new, _category(diff), kind)


def chart_model(diffs: Sequence[TelemetryDiff | Mapping[str, Any]], a: Window, b: Window, *,
                limit: int = DEFAULT_LIMIT) -> ChartModel:
    """The first ``limit`` changed metrics in the comparison's order, and the axis they need."""
    parsed = _DIFFS.validate_python([d if isinstance(d, TelemetryDiff) else dict(d) for d in diffs])
    changed = [d for d in parsed if d.direction in ("regressed", "improved")]
    rows = tuple(_row(d) for d in changed[:limit])
    ratios = [r.ratio for r in rows if r.ratio is not None]
    span = math.log10(max([1.0, *ratios]) / min([1.0, *ratios])) if ratios else 0.0
    return ChartModel(a=a, b=b, rows=rows, changed=len(changed),
                      regressed=sum(1 for d in changed if d.direction == "regressed"),
                      compared=len(parsed), scale="log" if span >= LOG_SPAN_DECADES else "linear")


def _ratio_label(value: float, _position: float) -> str:
    return f"{value:,.0f}\u00d7" if value >= 1 else f"{value:g}\u00d7"


def draw_chart(model: ChartModel) -> Any:
    """The Figure (matplotlib.figure.Figure; typed Any so this module imports matplotlib lazily)."""
    import matplotlib
    from matplotlib import ticker
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.transforms import blended_transform_factory, offset_copy

    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 10}):
        figure = Figure(figsize=FIGURE_SIZE_INCHES, dpi=FIGURE_DPI, facecolor="white")
        # The Agg canvas, attached explicitly: no pyplot, no display, whatever MPLBACKEND says.
        FigureCanvasAgg(figure)
        axes = figure.add_axes((0.28, 0.13, 0.53, 0.66))
        rows = model.rows
        positions = list(range(len(rows)))
        log = model.scale == "log"
        base = 1.0 if log else 0.0  # where "unchanged" sits: 1x, or 0 %
        ratios = [r.ratio for r in rows if r.ratio is not None]
        if log:
            low = 10 ** math.floor(math.log10(min([1.0, *ratios])))
            high = 10 ** math.ceil(math.log10(max([1.0, *ratios])) + 1e-9)
            axes.set_xscale("log")
            axes.set_xlim(low if low < 1 else 1.0, max(high, 10.0))
            axes.xaxis.set_major_locator(ticker.LogLocator(base=10))
            axes.xaxis.set_major_formatter(ticker.FuncFormatter(_ratio_label))
            axes.xaxis.set_minor_formatter(ticker.NullFormatter())
            axes.set_xlabel("B / A, ratio of the means (log scale; 1\u00d7 = unchanged)")
        else:
            pcts = [r.change_pct for r in rows if r.change_pct is not None]
            reach = max([10.0, *(abs(p) for p in pcts)]) * 1.1
            axes.set_xlim(-reach if any(p < 0 for p in pcts) else 0.0, reach)
            axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _p: f"{v:+.0f} %" if v else "0 %"))
            axes.set_xlabel("change of the mean from A to B (%)")

        drawn: dict[str, str] = {}  # legend label -> colour, for what is actually on the chart
        markers: dict[str, tuple[str, str]] = {}
        for y, row in zip(positions, rows, strict=True):
            colour = COLOURS[row.category]
            if row.kind == "ratio":
                end = row.ratio if log else row.change_pct
                assert end is not None
                axes.barh(y, end - base, left=base, height=0.62, color=colour, edgecolor="none")
                drawn[row.category] = colour
                continue
            # No finite ratio: a marker at "unchanged" pointing the way it moved, never a bar.
            grew = row.kind == "from_zero"
            label = f"{row.category}, from 0 (no ratio)" if grew else f"{row.category}, to 0 (no ratio)"
            size = min(11.0, 200 / len(rows))
            # Shifted half a marker off the 1x line so it is whole even when 1x is the axis edge.
            shifted = offset_copy(axes.transData, fig=figure, x=size / 2 if grew else -size / 2, units="points")
            axes.plot([base], [y], marker=">" if grew else "<", markersize=size, color=colour, linestyle="none",
                      transform=shifted, clip_on=False)
            axes.annotate("from 0: new in B" if grew else "to 0: gone in B", (base, y),
                          xytext=(size + 6 if grew else -size - 6, 0), textcoords="offset points", va="center",
                          ha="left" if grew else "right", fontsize=9, fontstyle="italic", color="#333333")
            markers[label] = (colour, ">" if grew else "<")

        axes.axvline(base, color="#555555", linewidth=1)
        axes.set_yticks(positions, [r.metric for r in rows])
        axes.set_ylim(max(len(rows), 1) - 0.5, -0.5)  # the first row on top
        if not rows:
            axes.text(0.5, 0.5, "no metric changed beyond its threshold", transform=axes.transAxes,
                      ha="center", va="center", fontsize=12, color="#333333")
        axes.tick_params(axis="y", length=3, pad=5)
        axes.grid(axis="x", which="major", color="#dddddd", linewidth=0.8)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)

        # The numbers behind each row, in a column right of the plot: change, then A -> B with the unit.
        right = blended_transform_factory(axes.transAxes, axes.transData)
        axes.text(1.02, -0.7, "change", transform=right, fontsize=9, fontweight="bold", va="bottom")
        axes.text(1.115, -0.7, "mean A \u2192 B", transform=right, fontsize=9, fontweight="bold", va="bottom")
        for y, row in zip(positions, rows, strict=True):
            axes.text(1.02, y, row.change_text(), transform=right, va="center", fontsize=9,
                      fontweight="bold", color=COLOURS[row.category])
            axes.text(1.115, y, row.values_text(), transform=right, va="center", fontsize=9, color="#333333")

        figure.suptitle(model.title, x=0.02, y=0.975, ha="left", fontsize=14, fontweight="bold")
        figure.text(0.02, 0.915, model.subtitle, ha="left", va="top", fontsize=9.5, color="#333333",
                    linespacing=1.5)
        handles: list[Any] = [Patch(facecolor=colour, edgecolor="none", label=label)
                              for label, colour in drawn.items()]
        handles += [Line2D([], [], marker=marker, color=colour, linestyle="none", markersize=9, label=label)
                    for label, (colour, marker) in markers.items()]
        if handles:
            figure.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.02, 0.0), ncol=len(handles),
                          frameon=False, fontsize=9)
    return figure


def write_comparison_png(diffs: Sequence[TelemetryDiff | Mapping[str, Any]], path: Path, *, a: Window,
                         b: Window, limit: int = DEFAULT_LIMIT) -> Path:
    """Render the chart to ``path`` (PNG, 1200 x 720 px, no timestamp in its metadata)."""
    figure = draw_chart(chart_model(diffs, a, b, limit=limit))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Matplotlib writes no creation time into a PNG; dropping "Software" keeps the bytes the same
    # across matplotlib versions as long as the drawing is.
    figure.savefig(path, format="png", dpi=FIGURE_DPI, metadata={"Software": None})
    return path


# --- the data behind the chart, saved next to it (out/demo-comparison.json) ----------------------


class SavedWindow(BaseModel):
    label: str
    start: InstantType
    end: InstantType


class SavedComparison(BaseModel):
    """What the demo saves next to the chart: both windows and the API's comparison, so the chart
    can be re-drawn (and the numbers read) without running the demo again."""

    a: SavedWindow
    b: SavedWindow
    comparison: ProfileComparison

    def windows(self) -> tuple[Window, Window]:
        return (Window(self.a.label, self.a.start, self.a.end), Window(self.b.label, self.b.start, self.b.end))


def save_comparison(path: Path, comparison: Mapping[str, Any], a: Window, b: Window) -> Path:
    saved = SavedComparison(a=SavedWindow(label=a.label, start=a.start, end=a.end),
                            b=SavedWindow(label=b.label, start=b.start, end=b.end),
                            comparison=ProfileComparison.model_validate(comparison))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(saved.model_dump_json(indent=2) + "\n")
    return path


def load_comparison(path: Path) -> SavedComparison:
    fix = "Run `make demo` to write out/demo-comparison.json, or pass the file it wrote."
    try:
        text = path.read_text()
    except OSError as error:
        raise DevStackError(f"cannot read {path}: {error.strerror}", field="DATA", suggestion=fix) from None
    try:
        return SavedComparison.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise DevStackError(f"{path} is not a saved comparison: {where}: {first['msg']}", field="DATA",
                            allowed=["a", "b", "comparison"], suggestion=fix) from None


def main(argv: list[str] | None = None) -> int:
    """``python -m temporal_dsql_devstack.chart``: re-draw the chart from a saved comparison."""
    parser = argparse.ArgumentParser(prog="python -m temporal_dsql_devstack.chart",
                                     description="Draw the demo's comparison chart from the comparison it saved.")
    parser.add_argument("data", metavar="DATA", type=Path, nargs="?", default=Path("out/demo-comparison.json"),
                        help="the saved comparison (default: out/demo-comparison.json)")
    parser.add_argument("-o", "--output", type=Path, default=Path("out/demo-comparison.png"),
                        help="the PNG to write (default: out/demo-comparison.png)")
    parser.add_argument("--top", type=int, default=DEFAULT_LIMIT, help=f"how many metrics (default {DEFAULT_LIMIT})")
    args = parser.parse_args(argv)
    try:
        if args.top < 1:
            raise DevStackError(f"--top must be at least 1, not {args.top}", field="--top",
                                suggestion=f"Use --top {DEFAULT_LIMIT} (the default) or any positive count.")
        saved = load_comparison(args.data)
    except DevStackError as error:
        print_error(error)
        return ExitCode.BAD_INPUT
    a, b = saved.windows()
    write_comparison_png(saved.comparison.telemetry_diffs, args.output, a=a, b=b, limit=args.top)
    print(args.output)
    return ExitCode.OK


if __name__ == "__main__":
    raise SystemExit(main())
