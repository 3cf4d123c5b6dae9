"""SDK and platform adapters: protocols, entry-point discovery and the render loop the compiler runs.

An adapter turns a resolved ``ConfigProfile`` into files a real consumer reads (a Go source file,
a Python module, ECS API requests, a docker-compose.yml). Adapters are found through two
entry-point groups, so installing a package that registers one makes the compiler use it with no
change to the compiler:

    [project.entry-points."temporal_dsql.sdk_adapters"]
    rust = "temporal_dsql_gen_rust:RustSDKAdapter"

Everything an adapter needs beyond the profile (per-service env, service shapes, the dynamic
config) comes from ``profile_artifacts(profile)``, which rebuilds it with the compiler's own
emitters: one source of truth.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Protocol, TypeVar, runtime_checkable

from temporal_dsql_config.adapters._artifacts import ProfileArtifacts, profile_artifacts
from temporal_dsql_config.errors import AdapterError, DsqlConfigError, close_matches
from temporal_dsql_config.models import RenderedSnippet
from temporal_dsql_core.profile import ConfigProfile

__all__ = [
    "PLATFORM_ADAPTER_GROUP",
    "SDK_ADAPTER_GROUP",
    "PlatformAdapter",
    "ProfileArtifacts",
    "RenderedSnippet",
    "SDKAdapter",
    "discover_adapters",
    "discover_platform_adapters",
    "discover_sdk_adapters",
    "profile_artifacts",
    "render_platform_snippets",
    "render_sdk_snippets",
    "select_adapters",
]

SDK_ADAPTER_GROUP = "temporal_dsql.sdk_adapters"
PLATFORM_ADAPTER_GROUP = "temporal_dsql.platform_adapters"


@runtime_checkable
class SDKAdapter(Protocol):
    """Worker options for one client SDK language."""

    language: str
    name: str

    def render(self, profile: ConfigProfile) -> RenderedSnippet: ...


@runtime_checkable
class PlatformAdapter(Protocol):
    """Deployment artifacts for one platform (per-service configuration)."""

    platform: str
    name: str

    def render(self, profile: ConfigProfile) -> list[RenderedSnippet]: ...


def _load(ep: EntryPoint, group: str) -> object:
    try:
        obj = ep.load()
        return obj() if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "render")) else obj
    except Exception as exc:  # a broken plugin must name itself, whatever it raised
        raise AdapterError(ep.name, f"could not be loaded from entry point {ep.value!r} ({group}): {exc!r}") from exc


def _discover(group: str, protocol: type, found: Iterable[EntryPoint] | None = None) -> list[object]:
    adapters: list[object] = []
    seen: set[str] = set()
    # Sorted by entry-point name so the order (and so the output) never depends on install order.
    for ep in sorted(entry_points(group=group) if found is None else found, key=lambda e: (e.name, e.value)):
        if ep.name in seen:  # the same distribution visible twice on sys.path
            continue
        seen.add(ep.name)
        adapter = _load(ep, group)
        if not isinstance(adapter, protocol):
            raise AdapterError(
                ep.name,
                f"{ep.value!r} does not implement {protocol.__name__} "
                f"(needs attributes {'language' if protocol is SDKAdapter else 'platform'}, name and render())",
            )
        adapters.append(adapter)
    return adapters


def discover_sdk_adapters() -> list[SDKAdapter]:
    """Every adapter registered under ``temporal_dsql.sdk_adapters``, sorted by entry-point name."""
    return [a for a in _discover(SDK_ADAPTER_GROUP, SDKAdapter) if isinstance(a, SDKAdapter)]


def discover_platform_adapters() -> list[PlatformAdapter]:
    """Every adapter registered under ``temporal_dsql.platform_adapters``, sorted by entry-point name."""
    return [a for a in _discover(PLATFORM_ADAPTER_GROUP, PlatformAdapter) if isinstance(a, PlatformAdapter)]


def discover_adapters() -> tuple[list[SDKAdapter], list[PlatformAdapter]]:
    """Both kinds, as the two functions above return them, from one scan of the installed
    distributions' metadata instead of two (each reads every distribution's entry_points.txt:
    a noticeable part of the CLI's start-up). Nothing is cached: a later call sees new installs."""
    everything = entry_points()
    sdk = _discover(SDK_ADAPTER_GROUP, SDKAdapter, everything.select(group=SDK_ADAPTER_GROUP))
    platform = _discover(PLATFORM_ADAPTER_GROUP, PlatformAdapter, everything.select(group=PLATFORM_ADAPTER_GROUP))
    return ([a for a in sdk if isinstance(a, SDKAdapter)], [a for a in platform if isinstance(a, PlatformAdapter)])


A = TypeVar("A", SDKAdapter, PlatformAdapter)


def _adapter_key(adapter: SDKAdapter | PlatformAdapter) -> str:
    return adapter.language if isinstance(adapter, SDKAdapter) else adapter.platform


def select_adapters(
    adapters: Sequence[A], wanted: str | Iterable[str] | None, *, field: str
) -> list[A]:
    """The adapters named in ``wanted`` (by name, language or platform; comma-separated allowed).

    ``None`` or ``"all"`` selects every adapter; ``"none"`` or an empty selection selects none.
    """
    if wanted is None:
        return list(adapters)
    names = [w.strip() for w in wanted.split(",")] if isinstance(wanted, str) else [w.strip() for w in wanted]
    names = [n for n in names if n]
    if names in ([], ["none"]):
        return []
    if names == ["all"]:
        return list(adapters)
    by_name: dict[str, A] = {}
    for adapter in adapters:
        by_name.setdefault(adapter.name, adapter)
        by_name.setdefault(_adapter_key(adapter), adapter)
    chosen: list[A] = []
    for name in names:
        if name not in by_name:
            available: list[str] = sorted(by_name)
            hits = close_matches(name, available)
            raise DsqlConfigError(
                f"Unknown {field} adapter {name!r}.",
                field=field,
                allowed=[*available, "all", "none"],
                suggestion=(f"Did you mean {' or '.join(repr(h) for h in hits)}?" if hits
                            else "Install a package that registers it, or leave the option out for all."),
            )
        if by_name[name] not in chosen:
            chosen.append(by_name[name])
    return chosen


def _checked(adapter_name: str, snippet: object) -> RenderedSnippet:
    if not isinstance(snippet, RenderedSnippet):
        # Plugins may return their own (data)class with the design's three string fields.
        fields = {f: getattr(snippet, f, None) for f in ("language", "filename", "content")}
        if not all(isinstance(v, str) for v in fields.values()):
            raise AdapterError(adapter_name, f"render() returned {type(snippet).__name__}, not a RenderedSnippet "
                                             "(language, filename and content strings)")
        snippet = RenderedSnippet.model_validate(fields)
    if not snippet.content.strip():
        raise AdapterError(adapter_name, f"rendered an empty file {snippet.filename!r}")
    parts = snippet.filename.split("/")
    if not snippet.filename or snippet.filename.startswith("/") or any(p in {"", ".", ".."} for p in parts):
        raise AdapterError(adapter_name, f"rendered an unsafe filename {snippet.filename!r} (must be relative)")
    return snippet


def _claim(seen: dict[str, str] | None, adapter_name: str, snippet: RenderedSnippet) -> RenderedSnippet:
    if seen is not None:
        other = seen.setdefault(snippet.filename, adapter_name)
        if other != adapter_name:
            raise AdapterError(adapter_name, f"renders {snippet.filename!r}, which adapter {other!r} already renders")
    return snippet


def render_sdk_snippets(
    profile: ConfigProfile, adapters: Sequence[SDKAdapter], *, seen: dict[str, str] | None = None
) -> list[RenderedSnippet]:
    """Call every SDK adapter; any failure becomes an AdapterError naming the adapter.

    ``seen`` (filename -> adapter name), shared across calls, rejects two adapters writing one file.
    """
    out: list[RenderedSnippet] = []
    for adapter in adapters:
        try:
            snippet = adapter.render(profile)
        except AdapterError:
            raise
        except Exception as exc:
            raise AdapterError(adapter.name, exc) from exc
        out.append(_claim(seen, adapter.name, _checked(adapter.name, snippet)))
    return out


def render_platform_snippets(
    profile: ConfigProfile, adapters: Sequence[PlatformAdapter], *, seen: dict[str, str] | None = None
) -> list[RenderedSnippet]:
    """Call every platform adapter; any failure becomes an AdapterError naming the adapter."""
    out: list[RenderedSnippet] = []
    for adapter in adapters:
        try:
            snippets = adapter.render(profile)
        except AdapterError:
            raise
        except Exception as exc:
            raise AdapterError(adapter.name, exc) from exc
        if not isinstance(snippets, list) or not snippets:
            raise AdapterError(adapter.name, "render() must return a non-empty list of RenderedSnippet")
        out.extend(_claim(seen, adapter.name, _checked(adapter.name, s)) for s in snippets)
    return out
