"""Adapters come from entry points: a throwaway distribution's adapter is used by an unchanged compiler."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from temporal_dsql_config.adapters import (
    PLATFORM_ADAPTER_GROUP,
    SDK_ADAPTER_GROUP,
    discover_platform_adapters,
    discover_sdk_adapters,
)
from temporal_dsql_config.compiler import ConfigCompiler
from temporal_dsql_config.errors import AdapterError, DsqlConfigError

_ADAPTER_MODULE = '''
from temporal_dsql_config.models import RenderedSnippet


class RustSDKAdapter:
    language = "rust"
    name = "rust"

    def render(self, profile):
        slots = profile.get_param("sdk.max_concurrent_activities").value
        return RenderedSnippet(language="rust", filename="rust/worker_options.rs",
                               content=f"pub const MAX_CONCURRENT_ACTIVITIES: usize = {slots};\\n")


class HelmPlatformAdapter:
    platform = "helm"
    name = "helm"

    def render(self, profile):
        return [RenderedSnippet(language="yaml", filename="helm/values.yaml",
                                content=f"preset: {profile.preset_name}\\n")]


class BrokenAdapter:
    platform = "broken"
    name = "broken"

    def render(self, profile):
        raise RuntimeError("template missing")


class NotAnAdapter:
    pass


class ShadowGoAdapter:  # writes the file the built-in Go adapter writes
    language = "go2"
    name = "shadow-go"

    def render(self, profile):
        return RenderedSnippet(language="go", filename="go/worker_options.go", content="package x\\n")


from dataclasses import dataclass


@dataclass(frozen=True)
class PlainSnippet:  # the design's RenderedSnippet shape, without importing temporal_dsql_config
    language: str
    filename: str
    content: str


class KotlinSDKAdapter:
    language = "kotlin"
    name = "kotlin"

    def render(self, profile):
        return PlainSnippet("kotlin", "kotlin/WorkerOptions.kt", f"// {profile.preset_name}\\n")
'''


def install_throwaway_dist(root: Path, entry_points: str) -> Path:
    """A dist-info directory plus module on a fresh sys.path entry: what `pip install` leaves behind."""
    (root / "throwaway_adapters.py").write_text(textwrap.dedent(_ADAPTER_MODULE))
    info = root / "throwaway_adapters-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: throwaway-adapters\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    (info / "RECORD").write_text("")
    return root


def activate(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the distribution on sys.path for this test only (and forget any earlier import of it)."""
    monkeypatch.delitem(sys.modules, "throwaway_adapters", raising=False)
    monkeypatch.syspath_prepend(str(root))


@pytest.fixture
def throwaway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = install_throwaway_dist(tmp_path, f"""
        [{SDK_ADAPTER_GROUP}]
        rust = throwaway_adapters:RustSDKAdapter

        [{PLATFORM_ADAPTER_GROUP}]
        helm = throwaway_adapters:HelmPlatformAdapter
        """)
    activate(root, monkeypatch)
    return root


def test_builtin_adapters_are_registered() -> None:
    assert {a.name for a in discover_sdk_adapters()} >= {"go", "python"}
    assert {a.name for a in discover_platform_adapters()} >= {"ecs", "compose"}


def test_a_new_distribution_adds_output_without_compiler_changes(throwaway: Path) -> None:
    result = ConfigCompiler().compile("mid-scale", modifier="batch-processor")
    rust = {s.filename: s.content for s in result.sdk_snippets}["rust/worker_options.rs"]
    assert rust == f"pub const MAX_CONCURRENT_ACTIVITIES: usize = {result.worker_options.max_concurrent_activities};\n"
    helm = {s.filename: s.content for s in result.platform_snippets}["helm/values.yaml"]
    assert helm == "preset: mid-scale\n"
    # The shipped adapters still render next to the new ones.
    assert {"go/worker_options.go", "python/worker_options.py"} <= {s.filename for s in result.sdk_snippets}


def test_selection_by_name(throwaway: Path) -> None:
    result = ConfigCompiler().compile("starter", sdk="rust", platform="none")
    assert [s.filename for s in result.sdk_snippets] == ["rust/worker_options.rs"]
    assert result.platform_snippets == []
    with pytest.raises(DsqlConfigError) as info:
        ConfigCompiler().compile("starter", sdk="rusty")
    assert info.value.field == "sdk" and "rust" in (info.value.suggestion or "")


def test_a_failing_adapter_raises_adapter_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = install_throwaway_dist(tmp_path, f"""
        [{PLATFORM_ADAPTER_GROUP}]
        broken = throwaway_adapters:BrokenAdapter
        """)
    activate(root, monkeypatch)
    with pytest.raises(AdapterError) as info:
        ConfigCompiler().compile("starter")
    assert info.value.adapter == "broken"
    assert "template missing" in str(info.value)


def test_an_object_that_is_not_an_adapter_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = install_throwaway_dist(tmp_path, f"""
        [{SDK_ADAPTER_GROUP}]
        nope = throwaway_adapters:NotAnAdapter
        missing = throwaway_adapters:DoesNotExist
        """)
    activate(root, monkeypatch)
    with pytest.raises(AdapterError) as info:
        discover_sdk_adapters()
    assert info.value.adapter in {"missing", "nope"}


def test_a_plugin_may_return_its_own_snippet_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = install_throwaway_dist(tmp_path, f"""
        [{SDK_ADAPTER_GROUP}]
        kotlin = throwaway_adapters:KotlinSDKAdapter
        """)
    activate(root, monkeypatch)
    result = ConfigCompiler().compile("starter", sdk="kotlin", platform="none")
    assert [(s.filename, s.content) for s in result.sdk_snippets] == [("kotlin/WorkerOptions.kt", "// starter\n")]


def test_two_adapters_may_not_write_the_same_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = install_throwaway_dist(tmp_path, f"""
        [{SDK_ADAPTER_GROUP}]
        shadow-go = throwaway_adapters:ShadowGoAdapter
        """)
    activate(root, monkeypatch)
    with pytest.raises(AdapterError) as info:
        ConfigCompiler().compile("starter", platform="none")
    assert info.value.adapter == "shadow-go" and "'go'" in str(info.value)
