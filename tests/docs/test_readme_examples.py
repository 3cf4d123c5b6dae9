"""The README's shell blocks run as written.

Every fenced shell block without a marker runs here, whole, under `bash -euo pipefail`, with two
rewrites only (tests/docs/readme_blocks.py): `uv run [--frozen]` becomes this environment's scripts
(the same entry points `uv run` would start), and `/tmp/` becomes a per-test folder. Lines that are
expected to fail say so themselves (`|| echo "exit $?"`). Blocks that need the local stack run in
test_readme_local_stack.py; the rest say why they cannot run (docs/contributing.md).
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from readme_blocks import ROOT, SKIP_REASONS, as_run_here, readme_blocks, scratch_checkout, shell_env

PLAIN = [b for b in readme_blocks() if b.kind == "plain"]


def test_every_marker_is_a_known_one() -> None:
    for block in readme_blocks():
        if block.kind == "skip":
            reason = block.marker.split()[1] if len(block.marker.split()) > 1 else ""
            assert reason in SKIP_REASONS, f"{block}: skip needs one of {sorted(SKIP_REASONS)}: {block.marker!r}"
            if reason == "slow":
                # A slow block names what runs it instead, and that exists.
                paths = re.findall(r"tests/[\w/.-]*\w", block.marker)
                assert paths or "make " in block.marker, f"{block}: a slow block names what runs it: {block.marker!r}"
                for path in paths:
                    assert (ROOT / path).exists(), f"{block}: {path} does not exist"
        else:
            assert block.kind in {"plain", "local-stack", "local-stack teardown"}, f"{block}: {block.marker!r}"


def test_blocks_without_aws_or_docker_are_not_skipped() -> None:
    # Property: a skipped block really needs what its marker says (no pulumi/aws/docker call: no skip aws/docker).
    for block in readme_blocks():
        if block.marker.startswith("skip aws"):
            assert re.search(r"pulumi |aws |--aws|COPILOT_EVAL_LIVE|--kb-id|\.dkr\.ecr\.|infra |prices refresh", block.code), block
        if block.marker.startswith("skip docker"):
            assert re.search(r"docker|devstack build", block.code), block


def test_the_readme_has_the_cli_tour() -> None:
    joined = "\n".join(b.code for b in PLAIN)
    for command in ("list-presets", "describe-preset", "compile", "explain high-throughput --key", "explain starter",
                    "explain --profile", "--from-env", "migrate", "plan mid-scale", "build-lambda",
                    "diff mid-scale", "--accept-plugin-defaults", "--version", "--show-completion"):
        assert command in joined, command


@pytest.mark.parametrize("block", PLAIN, ids=str)
def test_readme_block_runs_as_written(block, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    work = scratch_checkout(tmp_path)
    completed = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", as_run_here(block, tmp_path)],
        cwd=work, env=shell_env(), capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, f"{block}\n{block.code}\n--- stdout\n{completed.stdout[-3000:]}\n--- stderr\n{completed.stderr[-3000:]}"
    # Every line the README marks as failing on purpose did fail, with a non-zero exit.
    statuses = re.findall(r"^exit (\d+)$", completed.stdout, flags=re.M)
    assert len(statuses) == block.code.count('|| echo "exit $?"')
    assert all(int(status) != 0 for status in statuses)
    # What the README promises of a failure is what the CLI says.
    for count in re.findall(r"here: (\d+) errors", block.code):
        assert f"{count} guard-rail error(s)" in completed.stderr


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_readme_teaches_in_order_and_its_links_resolve() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    # What it is (the text above the first heading), then install, quickstart, concepts, reference.
    order = [headings.index(h) for h in ("Contents", "Prerequisites", "Install", "Quickstart", "Concepts",
                                         "Command-line conventions", "Versions", "Contributing")]
    assert order == sorted(order), headings
    anchors = {_slug(h) for h in re.findall(r"^#{2,4} (.+)$", text, flags=re.M)}
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        assert target in anchors, f"README link #{target} names no heading"
    for path in re.findall(r"\]\((?!https?:|#)([^)#]+)", text):
        assert (ROOT / path).exists(), f"README links to {path}, which does not exist"
    # The table of contents lists every top-level section.
    contents = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    for heading in headings:
        if heading != "Contents":
            assert f"(#{_slug(heading)})" in contents, f"the table of contents misses {heading!r}"


def test_the_versions_section_says_what_the_project_requires() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    versions = (ROOT / "README.md").read_text(encoding="utf-8").split("## Versions", 1)[1].split("\n## ", 1)[0]
    assert f'`requires-python = "{project["requires-python"]}"`' in versions
    assert f"`temporal-dsql` {project['version']}" in versions
    requirements = [re.sub(r"\[.*?\]", "", r) for r in (*project["dependencies"],
                    *(r for extra in project["optional-dependencies"].values() for r in extra))]
    for named in re.findall(r"`([a-z][\w-]*>=[\d.]+)`", versions):
        assert named in requirements, f"{named} is not a requirement in pyproject.toml"
    from temporal_dsql_config.compiler import DEFAULT_DSQL_PLUGIN_VERSION, DEFAULT_TEMPORAL_SERVER_VERSION

    assert f"| Temporal server | {DEFAULT_TEMPORAL_SERVER_VERSION} " in versions
    assert f"| {DEFAULT_DSQL_PLUGIN_VERSION} " in versions
