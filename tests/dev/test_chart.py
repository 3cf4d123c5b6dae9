"""The demo's comparison chart (issue 21, item 5): what it shows, and that the picture says it.

The inputs are real comparisons: two telemetry summaries compared by
``temporal_dsql_profiles.comparison.compare_telemetry``. Expected values come from those inputs (the
means, the comparison's order and directions), never from the chart module's constants.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from temporal_dsql_core.models import MetricAggregate
from temporal_dsql_devstack.chart import (
    Window,
    chart_model,
    draw_chart,
    load_comparison,
    main,
    save_comparison,
    write_comparison_png,
)
from temporal_dsql_profiles.comparison import compare_telemetry
from temporal_dsql_profiles.models import (
    ComparisonThresholds,
    ProfileComparison,
    TelemetryDiff,
    TelemetrySummary,
)

ROOT = Path(__file__).resolve().parents[2]
KEYS = TelemetrySummary.metric_keys()
A = Window.parse("healthy-150wps", "2026-12-07T10:09:29.064753Z", "2026-12-07T11:09:29.064753Z")
B = Window.parse("overloaded-400wps", "2026-12-07T11:24:29.5Z", "2026-12-07T12:24:32.110302Z")


def _aggregate(mean: float) -> MetricAggregate:
    return MetricAggregate(min=mean, max=mean, mean=mean, p50=mean, p95=mean, p99=mean)


def _compare(means: dict[str, tuple[float | None, float | None]]) -> list[TelemetryDiff]:
    """None: no data for that metric in that window (the comparison calls it missing)."""
    a, b = TelemetrySummary(), TelemetrySummary()
    for key, (old, new) in means.items():
        a.set(key, None if old is None else _aggregate(old))
        b.set(key, None if new is None else _aggregate(new))
    return compare_telemetry(a, b)


# Roughly the demo's 150 -> 400 WPS overload: errors that appear from nothing, a backlog 1,300x
# larger, latencies 10-45x, a pool that shrinks, and more throughput.
DEMO_LIKE = {
    "dsql_pool.open_failures": (0.0, 2.44),
    "errors.exhausted_retries_per_sec": (0.0, 0.919),
    "matching.backlog_count": (5.03, 6695.0),
    "matching.task_dispatch_latency": (9.2, 415.0),
    "latency.persistence_latency_p95": (18.4, 166.0),
    "dsql_pool.pool_idle_count": (99.9, 40.0),
    "throughput.workflows_started_per_sec": (150.0, 401.0),
    "matching.sync_match_rate": (97.0, 96.0),
}


def _figure_text(figure: object) -> str:
    suptitle = figure._suptitle.get_text()  # type: ignore[attr-defined]
    return "\n".join([suptitle, *(t.get_text() for t in figure.texts)])  # type: ignore[attr-defined]


def test_demo_like_comparison_rows_order_and_from_zero() -> None:
    diffs = _compare(DEMO_LIKE)
    changed = [d for d in diffs if d.direction in ("regressed", "improved")]
    model = chart_model(diffs, A, B, limit=5)
    # The first five changed metrics, in the comparison's own order (severity, then size).
    assert [r.metric for r in model.rows] == [d.metric for d in changed[:5]]
    assert model.changed == len(changed) == 7  # sync_match_rate moved 1 %: unchanged, not shown
    assert model.compared == len(KEYS)
    assert "top 5 of 7 changed metrics" in model.title
    # The two metrics that were 0 in A are "from 0" rows without a ratio, whatever their size.
    from_zero = {r.metric for r in model.rows if r.kind == "from_zero"}
    assert from_zero == {k for k, (old, _) in DEMO_LIKE.items() if old == 0}
    assert all(r.ratio is None and r.change_text() == "from 0" for r in model.rows if r.kind == "from_zero")
    backlog = next(r for r in model.rows if r.metric == "matching.backlog_count")
    assert backlog.ratio == DEMO_LIKE["matching.backlog_count"][1] / DEMO_LIKE["matching.backlog_count"][0]
    assert backlog.change_text() == "\u00d71,331"  # 6695 / 5.03
    assert backlog.values_text() == "5.03 \u2192 6,695"  # a count has no unit
    # 1,331x spans three orders of magnitude: a log axis.
    assert model.scale == "log"


def test_small_changes_get_a_linear_percent_axis() -> None:
    diffs = _compare({"latency.persistence_latency_p99": (100.0, 180.0), "dsql_pool.reservoir_size": (200.0, 100.0)})
    model = chart_model(diffs, A, B)
    assert model.scale == "linear"  # 0.5x to 1.8x: less than one order of magnitude
    figure = draw_chart(model)
    assert figure.axes[0].get_xscale() == "linear"
    assert {r.change_text() for r in model.rows} == {"+80 %", "-50 %"}


# Means from 0 to 10^4 (0 included), so spans from none to many decades, metrics that appear
# from 0 or drop to 0, and metrics without data in one window.
_MEANS = st.sampled_from([None, 0.0, 0.01, 0.5, 1.0, 1.3, 2.0, 9.0, 50.0, 400.0, 10_000.0])
_COMPARISONS = st.dictionaries(st.sampled_from(KEYS), st.tuples(_MEANS, _MEANS), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(means=_COMPARISONS, limit=st.integers(min_value=1, max_value=15))
def test_property_rows_are_the_top_n_changed_metrics_and_zero_never_gets_a_ratio(
        means: dict[str, tuple[float | None, float | None]], limit: int) -> None:
    # Property: the chart shows the first min(limit, changed) changed metrics of the comparison, in
    # its order; "top N of M" counts them; a metric that was 0 in A is a "from 0" row without a
    # ratio; every other row's ratio is B's mean over A's; the axis is logarithmic exactly when the
    # ratios (with 1x) span an order of magnitude or more.
    diffs = _compare(means)
    changed = [d.metric for d in diffs if d.direction in ("regressed", "improved")]
    model = chart_model(diffs, A, B, limit=limit)
    assert [r.metric for r in model.rows] == changed[:limit]
    assert f"top {min(limit, len(changed))} of {len(changed)} changed metrics" in model.title
    ratios = []
    for row in model.rows:
        old, new = means[row.metric]
        assert old is not None and new is not None, "a metric without data in a window is not a changed one"
        if old == 0:
            assert row.kind == "from_zero" and row.ratio is None
        elif new == 0:
            assert row.kind == "to_zero" and row.ratio is None and row.change_text() == "-100 %"
        else:
            assert row.ratio is not None and math.isclose(row.ratio, new / old)
            ratios.append(new / old)
    span = max([1.0, *ratios]) / min([1.0, *ratios])
    assert model.scale == ("log" if span >= 10 else "linear")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(means=_COMPARISONS)
def test_property_legend_entries_are_the_colours_drawn(means: dict[str, tuple[float | None, float | None]]) -> None:
    # Property: the legend has one entry per colour (and mark) on the chart, and nothing else;
    # bars and "from 0 / to 0" markers are listed separately.
    figure = draw_chart(chart_model(_compare(means), A, B))
    axes = figure.axes[0]
    bars = {to_hex(p.get_facecolor()) for p in axes.patches if isinstance(p, Rectangle)}
    marks = {(to_hex(line.get_color()), line.get_marker()) for line in axes.lines if line.get_marker() in "<>"}
    legend = figure.legends[0] if figure.legends else None
    handles = legend.legend_handles if legend is not None else []
    assert {to_hex(h.get_facecolor()) for h in handles if isinstance(h, Rectangle)} == bars
    assert {(to_hex(h.get_color()), h.get_marker()) for h in handles if isinstance(h, Line2D)} == marks
    # Each legend entry names one category; two entries never share a colour and mark.
    assert len(handles) == len(bars) + len(marks)


def test_axes_have_ticks_units_and_the_title_names_both_windows() -> None:
    diffs = _compare(DEMO_LIKE)
    figure = draw_chart(chart_model(diffs, A, B, limit=5))
    axes = figure.axes[0]
    figure.canvas.draw()  # tick labels are formatted at draw time
    x_labels = [t.get_text() for t in axes.get_xticklabels() if t.get_text()]
    y_labels = [t.get_text() for t in axes.get_yticklabels()]
    assert axes.get_xscale() == "log"
    assert {"1\u00d7", "10\u00d7", "100\u00d7", "1,000\u00d7"} <= set(x_labels), x_labels
    assert len(y_labels) == 5 and all(y_labels)
    assert "ratio of the means" in axes.get_xlabel() and "log scale" in axes.get_xlabel()
    text = _figure_text(figure)
    # Both windows, labelled, at second precision (the fractions in the input are cut off).
    assert "healthy-150wps, 2026-12-07T10:09:29Z to 2026-12-07T11:09:29Z" in text
    assert "overloaded-400wps, 2026-12-07T11:24:29Z to 2026-12-07T12:24:32Z" in text
    assert "top 5 of 7 changed metrics" in text
    # The numbers carry their units: 9.2 -> 415 ms.
    column = [t.get_text() for t in axes.texts]
    assert "9.2 \u2192 415 ms" in column and "0 \u2192 2.44 /s" in column


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        offset += 12 + length
    return chunks


def test_png_is_real_1200_by_720_and_deterministic(tmp_path: Path) -> None:
    diffs = [d.model_dump(mode="json") for d in _compare(DEMO_LIKE)]  # as the demo gets them over HTTP
    first = write_comparison_png(diffs, tmp_path / "one" / "chart.png", a=A, b=B).read_bytes()
    second = write_comparison_png(diffs, tmp_path / "two.png", a=A, b=B).read_bytes()
    chunks = _png_chunks(first)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert (width, height) == (1200, 720)  # the size the README shows
    # No time and no tool version in the file: the same data gives the same bytes.
    kinds = {kind for kind, _ in chunks}
    assert b"tIME" not in kinds
    assert not any(b"Software" in body or b"Creation" in body for kind, body in chunks if kind in (b"tEXt", b"iTXt"))
    assert first == second


def test_nothing_changed_says_so() -> None:
    diffs = _compare({"latency.persistence_latency_p99": (100.0, 101.0)})
    model = chart_model(diffs, A, B)
    assert model.rows == () and "top 0 of 0 changed metrics" in model.title
    figure = draw_chart(model)
    assert "no metric changed beyond its threshold" in [t.get_text() for t in figure.axes[0].texts]
    assert not figure.legends


def _api_comparison(diffs: list[TelemetryDiff]) -> dict[str, object]:
    """What POST /profiles/compare answers (the demo's input), as JSON."""
    comparison = ProfileComparison(profile_a_id="a", profile_b_id="b", thresholds=ComparisonThresholds(),
                                   config_diffs=[], telemetry_diffs=diffs, version_diffs=[])
    return comparison.model_dump(mode="json")


def test_saved_comparison_redraws_the_same_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    diffs = _compare(DEMO_LIKE)
    saved = save_comparison(tmp_path / "out" / "demo-comparison.json", _api_comparison(diffs), A, B)
    loaded = load_comparison(saved)
    assert loaded.windows() == (A, B)
    assert loaded.comparison.telemetry_diffs == diffs
    direct = write_comparison_png(diffs, tmp_path / "direct.png", a=A, b=B).read_bytes()
    assert main([str(saved), "-o", str(tmp_path / "redrawn.png")]) == 0
    assert (tmp_path / "redrawn.png").read_bytes() == direct
    assert capsys.readouterr().out.strip() == str(tmp_path / "redrawn.png")


def test_bad_saved_comparison_is_a_bad_input_and_writes_nothing(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "chart.png"
    assert main([str(tmp_path / "absent.json"), "-o", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read") and "hint: Run `make demo`" in err
    (tmp_path / "bad.json").write_text('{"a": {"label": "x"}}')
    assert main([str(tmp_path / "bad.json"), "-o", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is not a saved comparison" in err and "allowed: a, b, comparison" in err
    assert main(["--top", "0", "-o", str(output)]) == 2
    assert "--top must be at least 1" in capsys.readouterr().err
    assert not output.exists()


def test_the_readme_picture_is_drawn_by_this_code_from_a_real_demo_run(tmp_path: Path) -> None:
    # docs/images/demo-comparison.json is what `make demo` saved (out/demo-comparison.json) on a
    # real run; the picture in the README must be what this code draws from it.
    data, picture = ROOT / "docs" / "images" / "demo-comparison.json", ROOT / "docs" / "images" / "demo-comparison.png"
    saved = load_comparison(data)
    assert (saved.a.label, saved.b.label) == ("healthy-150wps", "overloaded-400wps")
    assert main([str(data), "-o", str(tmp_path / "chart.png")]) == 0
    assert (tmp_path / "chart.png").read_bytes() == picture.read_bytes(), (
        "docs/images/demo-comparison.png is stale: uv run python -m temporal_dsql_devstack.chart "
        "docs/images/demo-comparison.json -o docs/images/demo-comparison.png")
