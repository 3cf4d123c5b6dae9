"""The profile API bundle: a real build (once per session), small, arm64 cp312, deterministic."""

from __future__ import annotations

import ast
import gc
import hashlib
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_temporal_dsql.lambda_bundle import (
    BundleResult,
    BundleSources,
    build_bundle,
    deterministic_zip,
    find_python312,
    inputs_digest,
    project_modules_imported,
    strip_debug_sections,
)

MAX_ZIPPED = 12 * 1024 * 1024
# Well under the limit, so a dependency bump does not break the deploy (11.9 MB before .so stripping).
COMFORTABLE_ZIPPED = 10 * 1024 * 1024


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> BundleResult:
    return build_bundle(tmp_path_factory.mktemp("bundle"))


def test_bundle_is_under_12_mb_zipped(bundle: BundleResult) -> None:
    assert bundle.zipped_bytes == bundle.path.stat().st_size
    assert 1_000_000 < bundle.zipped_bytes < COMFORTABLE_ZIPPED < MAX_ZIPPED, bundle.zipped_bytes
    assert bundle.unzipped_bytes < 250 * 1024 * 1024  # Lambda's unzipped limit


def test_bundle_holds_arm64_cp312_wheels_the_handler_and_its_project_modules(bundle: BundleResult) -> None:
    names = zipfile.ZipFile(bundle.path).namelist()
    native = [n for n in names if n.endswith(".so")]
    assert native and all("cpython-312-aarch64-linux-gnu" in n or "abi3" in n for n in native), native[:5]
    assert "profile_api/handler.py" in names
    for module, path in project_modules_imported().items():
        assert path in names, module
    # The lambda group only: no pulumi, temporalio, pydantic-ai, boto3 (the runtime provides boto3).
    tops = {n.split("/")[0] for n in names}
    for absent in ("pulumi", "pulumi_aws", "temporalio", "pydantic_ai", "boto3", "botocore", "temporal_dsql_standins"):
        assert absent not in tops, absent
    assert not [n for n in names if n.endswith((".pyx", ".pxd", ".c", ".h", ".pyi"))]


def test_bytecode_is_compiled_for_python_312(bundle: BundleResult) -> None:
    names = zipfile.ZipFile(bundle.path).namelist()
    assert find_python312() is not None, "a Python 3.12 interpreter is expected on this machine (pyenv)"
    assert bundle.bytecode_compiled
    pyc = [n for n in names if n.endswith(".pyc")]
    assert pyc and all(".cpython-312" in n for n in pyc)
    assert "profile_api/__pycache__/handler.cpython-312.pyc" in names


def test_same_inputs_give_the_same_zip(bundle: BundleResult, tmp_path: Path) -> None:
    again = build_bundle(tmp_path)
    assert again.sha256 == bundle.sha256 == hashlib.sha256(bundle.path.read_bytes()).hexdigest()
    assert again.path.name == bundle.path.name == f"profile_api-{inputs_digest()[:16]}.zip"
    infos = zipfile.ZipFile(again.path).infolist()
    assert [i.filename for i in infos] == sorted((i.filename for i in infos), key=lambda n: n.split("/"))
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


tree = st.dictionaries(
    st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=4), min_size=1, max_size=3).map("/".join),
    st.binary(max_size=200),
    min_size=1,
    max_size=8,
).filter(lambda files: not any(a != b and b.startswith(a + "/") for a in files for b in files))


# Property: deterministic zip — the same files give the same bytes, whatever the order and mtimes
@given(tree, st.integers(0, 2**31))
@settings(max_examples=30, deadline=None)
def test_property_deterministic_zip(files: dict[str, bytes], mtime: int) -> None:
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        digests = []
        for attempt, order in enumerate((sorted(files), sorted(files, reverse=True))):
            source = Path(scratch, f"src{attempt}")
            for name in order:
                path = source / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(files[name])
                os.utime(path, (mtime + attempt, mtime + attempt))
            digests.append(deterministic_zip(source, Path(scratch, f"out{attempt}.zip")))
        assert digests[0] == digests[1]


def _tiny_project(root: Path) -> BundleSources:
    from pulumi_temporal_dsql.lambda_bundle import PROJECT_PACKAGES

    package = PROJECT_PACKAGES[0]  # a project package, whatever it is called
    (root / "data" / "profile_api").mkdir(parents=True)
    (root / "data" / "profile_api" / "handler.py").write_text(f"from {package} import errors\n")
    (root / "data" / "lambda-requirements.txt").write_text("anyio==4.0 \\\n    --hash=sha256:00\n")
    (root / "site" / package).mkdir(parents=True)
    (root / "site" / package / "__init__.py").write_text("")
    (root / "site" / package / "errors.py").write_text("X = 1\n")
    return BundleSources(root / "data" / "profile_api", root / "data" / "lambda-requirements.txt", (root / "site",))


def test_inputs_digest_is_kept_on_disk_under_the_files_stat_signature(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from pulumi_temporal_dsql import lambda_bundle

    monkeypatch.setenv("TEMPORAL_DSQL_CACHE_DIR", str(tmp_path / "cache"))
    sources = _tiny_project(tmp_path)
    first = inputs_digest(sources)
    (cache,) = (tmp_path / "cache").iterdir()
    key, _, stored = cache.read_text().partition(" ")
    assert stored == first == lambda_bundle._source_digest(sources)
    # A fresh process (no in-process cache) answers from the disk entry: a planted one shows it.
    lambda_bundle._digest.cache_clear()
    cache.write_text(f"{key} {'0' * 64}")
    assert inputs_digest(sources) == "0" * 64
    # Any change to a file the digest could cover changes the signature: recomputed, not reused.
    errors = next((tmp_path / "site").glob("*/errors.py"))
    errors.write_text("X = 2\n")
    os.utime(errors, ns=(errors.stat().st_atime_ns, errors.stat().st_mtime_ns + 1_000_000))
    changed = inputs_digest(sources)
    assert changed not in (first, "0" * 64)
    assert changed == lambda_bundle._source_digest(sources)


def test_the_digest_covers_the_pins_and_not_where_the_files_live(tmp_path: Path) -> None:
    """A wheel and a checkout of one version agree: the digest names files by their path inside the
    zip, so the same files under another directory give the same digest, and other pins another one."""
    from pulumi_temporal_dsql import lambda_bundle

    here, there = _tiny_project(tmp_path / "a"), _tiny_project(tmp_path / "b")
    assert len(lambda_bundle._bundle_files(here)) == 3  # handler, package __init__ and errors: followed
    assert lambda_bundle._source_digest(here) == lambda_bundle._source_digest(there)
    there.requirements.write_text("anyio==4.1 \\\n    --hash=sha256:01\n")
    assert lambda_bundle._source_digest(here) != lambda_bundle._source_digest(there)


class _ParsesWhenCollected:
    """A cyclic object whose finalizer parses, as asyncio's never-retrieved-exception log does."""

    def __init__(self) -> None:
        self.cycle = self

    def __del__(self) -> None:
        ast.parse("x = (1 + 2) * 3")


def _leave_parsing_garbage(phase: str, info: dict[str, int]) -> None:
    if phase == "stop":  # the next collection, wherever it runs, finalizes it
        _ParsesWhenCollected()


def test_import_closure_survives_finalizers_that_parse_during_a_collection() -> None:
    # CI failed once with "AST constructor recursion depth mismatch" (CPython gh-106905) when a
    # collection ran a parsing finalizer in the middle of following the handler's imports.
    expected = project_modules_imported()
    thresholds = gc.get_threshold()
    gc.set_threshold(50)  # collect often, so some collections land inside a parse
    gc.callbacks.append(_leave_parsing_garbage)
    try:
        found = project_modules_imported()
    finally:
        gc.callbacks.remove(_leave_parsing_garbage)
        gc.set_threshold(*thresholds)
        gc.collect()
    assert found == expected


FUNCTION_URL_EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/openapi.json",
    "rawQueryString": "",
    "headers": {"host": "abc.lambda-url.us-east-1.on.aws"},
    "requestContext": {
        "http": {"method": "GET", "path": "/openapi.json", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
        "domainName": "abc.lambda-url.us-east-1.on.aws",
        "stage": "$default",
        "requestId": "r",
        "accountId": "123456789012",
        "apiId": "abc",
        "time": "22/Nov/2026:00:00:00 +0000",
        "timeEpoch": 0,
    },
    "isBase64Encoded": False,
}


def test_the_bundle_alone_runs_the_handler_on_python_312(tmp_path: Path) -> None:
    """An x86_64 twin of the bundle (same code path, host-runnable wheels) serves a Function URL
    event on a bare Python 3.12 with only the runtime's boto3 added: the import closure is complete."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    python312 = find_python312()
    assert python312 is not None
    twin = build_bundle(tmp_path / "out", platform="x86_64-manylinux_2_28")
    unpacked = tmp_path / "task"
    zipfile.ZipFile(twin.path).extractall(unpacked)
    runtime = tmp_path / "runtime"  # what the Lambda Python runtime provides
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    subprocess.run(
        [uv, "pip", "install", "--python-platform", "x86_64-manylinux_2_28", "--python-version", "3.12",
         "--only-binary", ":all:", "--target", str(runtime), "boto3"],
        check=True, capture_output=True,
    )
    script = (
        "import json, sys, profile_api.handler as h\n"
        f"response = h.handler(json.loads({json.dumps(json.dumps(FUNCTION_URL_EVENT))}), None)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'temporalio', 'pydantic_ai') or m == 'pydantic.v1')\n"
        # The extensions whose debug sections the build strips still load and work.
        "import asyncpg, yaml\n"
        "from asyncpg.pgproto import pgproto\n"
        "native = [yaml.__with_libyaml__, yaml.load('a: [1, 2]', Loader=yaml.CSafeLoader) == {'a': [1, 2]},\n"
        "          pgproto.UUID('12345678123456781234567812345678').hex == '12345678123456781234567812345678',\n"
        "          asyncpg.protocol.Protocol.__name__ == 'Protocol' and asyncpg.Record.__name__ == 'Record']\n"
        "print(json.dumps({'status': response['statusCode'], 'paths': sorted(json.loads(response['body'])['paths']), 'heavy': heavy, 'native': native}))\n"
    )
    completed = subprocess.run(
        [str(python312), "-c", script],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "AWS_DEFAULT_REGION": "us-east-1",
             "PYTHONPATH": f"{unpacked}{os.pathsep}{runtime}"},
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["status"] == 200
    assert any(path.startswith("/profiles") for path in result["paths"])
    assert result["heavy"] == []
    assert result["native"] == [True, True, True, True]
    native = [p for p in unpacked.rglob("*.so")]
    assert {p.name.split(".")[0] for p in native} >= {"protocol", "pgproto", "_yaml"}
    assert all(strip_debug_sections(p) == 0 for p in native)  # nothing left to strip


def test_strip_debug_sections_drops_dwarf_and_keeps_the_dynamic_symbols(bundle: BundleResult, tmp_path: Path) -> None:
    """asyncpg's wheels ship unstripped: the bundle's copies have no .debug_*/.symtab left (stripping
    again saves nothing), are far smaller than the wheel's, and a non-ELF file is left untouched."""
    archive = zipfile.ZipFile(bundle.path)
    protocol = next(n for n in archive.namelist() if n.startswith("asyncpg/protocol/protocol.") and n.endswith(".so"))
    stripped = tmp_path / "protocol.so"
    stripped.write_bytes(archive.read(protocol))
    assert strip_debug_sections(stripped) == 0
    assert stripped.stat().st_size < 2_000_000  # the wheel's file is ~9.6 MB, mostly DWARF
    text = tmp_path / "not-elf.so"
    text.write_bytes(b"#!/bin/sh\n")
    assert strip_debug_sections(text) == 0 and text.read_bytes() == b"#!/bin/sh\n"
