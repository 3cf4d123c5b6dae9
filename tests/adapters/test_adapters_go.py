"""Go SDK adapter: gofmt accepts every rendered file, and it compiles against worker.Options."""

from __future__ import annotations

import re
from pathlib import Path

from adapter_combos import COMBOS, combo_id, snippet
from adapter_consumers import go_build, go_worker_fields, gofmt_unformatted

from temporal_dsql_config.adapters.go_sdk import go_worker_option_fields
from temporal_dsql_config.models import WorkerOptions

GO_FILE = "go/worker_options.go"


def test_every_combo_is_gofmt_clean(compiled, tmp_path: Path) -> None:
    files = []
    for combo in COMBOS:
        path = tmp_path / f"{combo_id(combo)}.go"
        path.write_text(snippet(compiled[combo], GO_FILE))
        files.append(path)
    stdout, stderr, code = gofmt_unformatted(files)
    assert (stdout, stderr, code) == ("", "", 0)


def test_gofmt_harness_rejects_misformatted_and_invalid_go(compiled, tmp_path: Path) -> None:
    source = snippet(compiled[COMBOS[0]], GO_FILE)
    misaligned = tmp_path / "misaligned.go"
    misaligned.write_text(source.replace(":      ", ": ", 1))
    broken = tmp_path / "broken.go"
    broken.write_text(source.replace("return worker.Options{", "return worker.Options{{"))
    stdout, _, _ = gofmt_unformatted([misaligned])
    assert str(misaligned) in stdout
    _, stderr, code = gofmt_unformatted([broken])
    assert code != 0 and stderr


def test_only_worker_options_fields_with_their_go_types(compiled) -> None:
    table = go_worker_fields()
    kinds = {
        "int": r"-?\d+",
        "bool": r"true|false",
        "time.Duration": r"\d+ \* time\.(Second|Millisecond)|time\.Duration\(\d+\)",
        "PollerBehavior": r"worker\.NewPollerBehavior(Autoscaling|SimpleMaximum)\(.*\)",
    }
    for combo in COMBOS:
        options = compiled[combo].worker_options
        for name, expr in go_worker_option_fields(options):
            assert name in table, name
            assert re.fullmatch(kinds[table[name]], expr), (name, table[name], expr)
        body = snippet(compiled[combo], GO_FILE).split("return worker.Options{", 1)[1]
        set_fields = re.findall(r"^\t\t(\w+):", body, flags=re.M)
        assert set_fields and set(set_fields) <= set(table)


def test_pollers_autoscale_only_when_the_preset_asks(compiled) -> None:
    for combo in COMBOS:
        result = compiled[combo]
        source = snippet(result, GO_FILE)
        auto = result.worker_options.poller_autoscaling
        assert ("WorkflowTaskPollerBehavior:" in source) is auto
        assert ("MaxConcurrentWorkflowTaskPollers:" in source) is not auto
        n = result.worker_options.workflow_task_pollers
        if auto:
            assert f"MaximumNumberOfPollers: {n}}})" in source
        else:
            assert re.search(rf"MaxConcurrentWorkflowTaskPollers:\s+{n},", source)
        assert f"StickyWorkflowCacheSize = {result.worker_options.max_cached_workflows}" in source


def test_every_combo_compiles_against_the_worker_options_table(compiled, tmp_path: Path) -> None:
    sources = {f"p{i}": snippet(compiled[c], GO_FILE) for i, c in enumerate(COMBOS)}
    # Both poller shapes, whatever the presets choose today.
    base = compiled[COMBOS[0]].worker_options.model_dump()
    for auto in (True, False):
        from temporal_dsql_config.adapters.go_sdk import render_go

        sources[f"auto{int(auto)}"] = render_go(
            WorkerOptions(**{**base, "poller_autoscaling": auto, "sticky_schedule_to_start_timeout_sec": 2.5}),
            title="both poller shapes",
        )
    proc = go_build(sources, tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_go_build_harness_catches_a_wrong_field_and_a_wrong_type(compiled, tmp_path: Path) -> None:
    source = snippet(compiled[COMBOS[0]], GO_FILE)
    wrong_name = source.replace("MaxConcurrentActivityExecutionSize:", "MaxConcurrentActivitySize:", 1)
    wrong_type = re.sub(r"(DisableEagerActivities:\s+)(true|false)", r"\g<1>1", source)
    for i, bad in enumerate((wrong_name, wrong_type)):
        proc = go_build({"bad": bad}, tmp_path / str(i))
        assert proc.returncode != 0
