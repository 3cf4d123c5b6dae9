"""The wheel works from any folder: installed alone in a fresh virtual environment in an empty folder
outside the checkout, the template's program and `temporal-dsql plan` give the checkout's plan, byte
for byte, and the Lambda bundle built from the installed package has the checkout's sha256."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from wheel_env import CHECKOUT, WheelEnv, run

from pulumi_temporal_dsql.lambda_bundle import build_bundle
from pulumi_temporal_dsql.preview.plan import plan

TEMPLATE = CHECKOUT / "templates" / "temporal-dsql"
# The full mid-scale stack: the profile API is on by default, the copilot on here.
COPILOT = {"copilot": "true"}


@pytest.fixture(scope="module")
def checkout_plan() -> str:
    return plan("mid-scale", extra_config=COPILOT).to_json()


def test_the_wheel_holds_the_deploy_time_files_and_no_checkout_is_visible(wheel_env: WheelEnv) -> None:
    names = zipfile.ZipFile(wheel_env.wheel).namelist()
    for shipped in ("pulumi_temporal_dsql/py.typed", "pulumi_temporal_dsql/_data/profile_api/handler.py",
                    "pulumi_temporal_dsql/_data/lambda-requirements.txt",
                    "pulumi_temporal_dsql/_data/docker/runtime/visibility_setup.py",
                    "pulumi_temporal_dsql/_data/docker/runtime/Dockerfile",
                    "pulumi_temporal_dsql/_data/docker/copilot/Dockerfile",
                    "pulumi_temporal_dsql/_data/template/__main__.py"):
        assert shipped in names, shipped
    # The pins are uv.lock's lambda group, with hashes (generated at build time, not a checked-in copy).
    pins = zipfile.ZipFile(wheel_env.wheel).read("pulumi_temporal_dsql/_data/lambda-requirements.txt").decode()
    assert "--hash=sha256:" in pins
    locked = run(["uv" if shutil.which("uv") else str(Path.home() / ".local/bin/uv"), "export", "--frozen",
                  "--only-group", "lambda", "--no-emit-project", "--no-header", "--no-annotate"], CHECKOUT).stdout
    assert pins == locked
    where = wheel_env.python("import pulumi_temporal_dsql, temporal_dsql_core; print(pulumi_temporal_dsql.__file__); "
                             "print(temporal_dsql_core.__file__)").stdout.split()
    assert all(Path(p).is_relative_to(wheel_env.venv) for p in where), where


def test_the_template_and_the_plan_command_equal_the_checkouts_plan(wheel_env: WheelEnv, checkout_plan: str) -> None:
    project = wheel_env.folder / "from-template"
    shutil.copytree(TEMPLATE, project)
    # Property: the installed wheel's plan is the checkout's plan, byte for byte (from the template's
    # program under Pulumi's mocks, and from the `temporal-dsql plan` console script).
    templated = run([str(wheel_env.bin("python")), "-c",
                     "import sys; from pathlib import Path; from pulumi_temporal_dsql.preview.plan import plan; "
                     "sys.stdout.write(plan('mid-scale', program=Path('__main__.py'), "
                     "extra_config={'copilot': 'true'}).to_json())"], project).stdout
    assert templated == checkout_plan
    command = run([str(wheel_env.bin("temporal-dsql")), "plan", "mid-scale", "--copilot",
                   "--format", "json"], wheel_env.folder).stdout
    assert command == checkout_plan + "\n"
    resources = json.loads(command)["resources"]
    types = {r["type"] for r in resources}
    assert {"aws:lambda/function:Function", "temporal-dsql:copilot:CopilotWorkers"} <= types, sorted(types)


def test_the_bundle_from_the_wheel_has_the_checkouts_sha256(wheel_env: WheelEnv, tmp_path: Path) -> None:
    # Property: deterministic bundle — the same versions give the same sha256 from the wheel as from the checkout.
    ours = build_bundle(tmp_path / "checkout", compile_bytecode=False)
    built = run([str(wheel_env.bin("temporal-dsql")), "build-lambda", "--no-bytecode", "--out",
                 str(tmp_path / "wheel")], wheel_env.folder,
                {"TEMPORAL_DSQL_CACHE_DIR": str(tmp_path / "cache")})
    theirs = json.loads(built.stdout)
    assert theirs["sha256"] == ours.sha256
    assert Path(theirs["path"]).name == ours.path.name


def test_without_a_reachable_index_the_bundle_says_in_one_line_what_to_do(wheel_env: WheelEnv, tmp_path: Path) -> None:
    empty = tmp_path / "wheelhouse"
    empty.mkdir()
    failed = run([str(wheel_env.bin("temporal-dsql")), "build-lambda", "--no-bytecode", "--out", str(tmp_path / "out"),
                  "--wheelhouse", str(empty)], wheel_env.folder, check=False)
    assert failed.returncode != 0
    first = failed.stderr.splitlines()[0]
    assert first.startswith("error: cannot get the Lambda bundle's wheels"), failed.stderr[-2000:]
    assert "TEMPORAL_DSQL_WHEELHOUSE=DIR" in first and "pip download" in first
    assert "Traceback" not in failed.stderr


def test_a_clean_install_has_no_dev_tooling_and_the_commands_name_the_extra(wheel_env: WheelEnv) -> None:
    installed = run([str(wheel_env.bin("python")), "-m", "pip", "--version"], wheel_env.folder, check=False)
    del installed  # pip may be absent from a uv venv; the import probe below is what counts
    probe = wheel_env.python(
        "import importlib.util as u; print(','.join(m for m in ('temporalio', 'pydantic_ai', 'moto', 'fastapi', "
        "'asyncpg', 'uvicorn', 'pytest', 'hypothesis') if u.find_spec(m)))"
    ).stdout.strip()
    assert probe == "", f"a core install pulled in dev/copilot dependencies: {probe}"
    for command, extra in ((["dev", "--help"], "temporal-dsql[dev]"), (["demo"], "temporal-dsql[dev]"),
                           (["db", "--help"], "temporal-dsql[copilot]")):
        refused = run([str(wheel_env.bin("copilot")), *command], wheel_env.folder, check=False)
        assert refused.returncode == 2, (command, refused.stderr[-2000:])
        assert refused.stderr.startswith(f"error: `copilot {command[0]}` needs the {extra} extra"), refused.stderr
        assert f"pip install '{extra}'" in refused.stderr and "Traceback" not in refused.stderr
    module = run([str(wheel_env.bin("python")), "-m", "temporal_dsql_devstack"], wheel_env.folder, check=False)
    assert module.returncode == 2 and "temporal-dsql[dev]" in module.stderr, module.stderr[-2000:]


def test_every_top_level_import_name_in_the_wheel_carries_the_projects_name(wheel_env: WheelEnv) -> None:
    # Issue 17: no generic top-level names (copilot, devstack, standins, ...) that could collide with
    # another distribution's. Read from the built wheel itself, not from pyproject.
    with zipfile.ZipFile(wheel_env.wheel) as wheel:
        tops = {name.split("/", 1)[0] for name in wheel.namelist()}
    modules = {top.removesuffix(".py") for top in tops if not top.endswith((".dist-info", ".data"))}
    assert modules, tops
    assert all(m.startswith(("temporal_dsql_", "pulumi_temporal_dsql")) for m in modules), sorted(modules)
