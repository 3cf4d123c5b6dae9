"""Build the profile API Lambda zip: Python 3.12, arm64, from the `lambda` dependency group only.

Everything comes from the INSTALLED package, never from a checkout (the same bytes either way,
see `resources`), so a stack program in any folder builds the same zip:
1. the pins: `_data/lambda-requirements.txt`, exported from uv.lock with hashes when the wheel
   (or the editable install) was built;
2. `uv pip install --require-hashes --python-platform aarch64-manylinux_2_28 --python-version 3.12
   --only-binary :all: --target` installs Linux arm64 cp312 wheels whatever the build host is;
   offline, `wheelhouse` (or TEMPORAL_DSQL_WHEELHOUSE) names a directory of those wheels;
3. the handler (`_data/profile_api`) and the project modules it imports (found by following its
   imports through the installed packages) are copied in;
4. bytecode is compiled by a Python 3.12 interpreter when one is present (pyc files of another
   version are useless to the runtime and cost ~1.2 s of cold start when missing), with
   `unchecked-hash` invalidation so the .pyc bytes do not depend on file times;
5. the zip is deterministic: sorted entries, fixed timestamps and permissions, so the same
   inputs give the same sha256 (and Pulumi sees no change), from a wheel or from a checkout.
"""

from __future__ import annotations

import ast
import functools
import gc
import hashlib
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pulumi_temporal_dsql.errors import LambdaBundleError

__all__ = [
    "DEFAULT_OUT_DIR",
    "HANDLER",
    "WHEELHOUSE_ENV",
    "BundleResult",
    "BundleSources",
    "build_bundle",
    "bundle_path",
    "deterministic_zip",
    "ensure_bundle",
    "find_python312",
    "inputs_digest",
    "installed_sources",
    "project_modules_imported",
    "project_packages_imported",
    "requirement_blocks",
    "strip_debug_sections",
]

HANDLER = "profile_api.handler.handler"
PLATFORM = "aarch64-manylinux_2_28"
PYTHON_VERSION = "3.12"
PROJECT_PACKAGES = ("temporal_dsql_core", "temporal_dsql_config", "temporal_dsql_profiles", "temporal_dsql_copilot", "temporal_dsql_dashboards", "temporal_dsql_devstack", "temporal_dsql_standins")
# Provided by the Lambda Python runtime; never bundled.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
LAMBDA_TASK_ROOT = "/var/task"
BUILDER_VERSION = "6"
# Relative to the stack program's directory (Pulumi runs programs there), so the archive path in
# the plan is the same wherever the project lives.
DEFAULT_OUT_DIR = Path("build") / "lambda"
WHEELHOUSE_ENV = "TEMPORAL_DSQL_WHEELHOUSE"


@dataclass(frozen=True)
class BundleResult:
    path: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    bytecode_compiled: bool
    packages: tuple[str, ...]


@dataclass(frozen=True)
class BundleSources:
    """Where a bundle's inputs live: the handler package, the pins and the project packages' roots."""

    handler_dir: Path
    """The `profile_api` package (handler.py), copied in as `profile_api/`."""
    requirements: Path
    """Pinned requirements with hashes (uv export of the lambda group)."""
    search_path: tuple[Path, ...]
    """Directories holding the project's top-level packages (site-packages, or src/ of a checkout)."""


def installed_sources() -> BundleSources:
    """The bundle's inputs in this installation (the package's `_data`, the importable packages)."""
    from pulumi_temporal_dsql.resources import data_dir

    data = data_dir()
    roots: list[Path] = []
    for package in PROJECT_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            root = Path(next(iter(spec.submodule_search_locations))).resolve().parent
            if root not in roots:
                roots.append(root)
    return BundleSources(data / "profile_api", data / "lambda-requirements.txt", tuple(roots))


def _requirements_text(sources: BundleSources) -> str:
    try:
        return sources.requirements.read_text(encoding="utf-8")
    except OSError as error:
        raise LambdaBundleError(
            f"the Lambda bundle's pins are missing ({sources.requirements}): reinstall temporal-dsql, "
            "or run `uv sync` in a checkout (its build hook writes them from uv.lock)"
        ) from error


def requirement_blocks(text: str) -> list[str]:
    """The `name==version \\ --hash=...` blocks of a uv export, minus what the runtime provides."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith((" ", "\t")) and blocks:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    name = lambda block: block[0].split("==")[0].split(";")[0].strip().lower()  # noqa: E731
    return ["\n".join(b) for b in blocks if name(b) not in RUNTIME_PROVIDED]


def find_python312() -> Path | None:
    """A working Python 3.12: pyenv's versions/3.12.* first (its shims may not resolve), then PATH."""
    candidates: list[Path] = []
    roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")]
    for root in filter(None, roots):
        candidates += sorted(Path(root, "versions").glob("3.12*/bin/python3.12"), reverse=True)
    found = shutil.which("python3.12")
    if found:
        candidates.append(Path(found))
    return next((c for c in candidates if c.is_file() and _is_python312(c)), None)


def _is_python312(candidate: Path) -> bool:
    try:
        completed = subprocess.run(
            [str(candidate), "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except OSError:
        return False
    return completed.returncode == 0 and completed.stdout.strip() == "True"


def _uv() -> str:
    for candidate in (shutil.which("uv"), str(Path(sys.executable).parent / "uv")):
        if candidate and Path(candidate).is_file():
            return candidate
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found]

        return str(find_uv_bin())
    except ImportError:
        raise LambdaBundleError("uv is needed to build the Lambda bundle: pip install uv") from None


def _module_file(search_path: tuple[Path, ...], module: str) -> tuple[Path, Path] | None:
    """(file, the search root it was found under) for a dotted module name."""
    for root in search_path:
        base = root.joinpath(*module.split("."))
        if (base / "__init__.py").is_file():
            return base / "__init__.py", root
        if base.with_suffix(".py").is_file():
            return base.with_suffix(".py"), root
    return None


def _parse_python(path: Path) -> ast.Module:
    """`ast.parse` with the cyclic GC paused.

    CPython 3.11 keeps one AST-conversion recursion counter per interpreter (gh-106905): a
    finalizer run by a collection in the middle of a parse that itself parses (asyncio's "Future
    exception was never retrieved" log formats a traceback, which parses source lines) resets it,
    and the outer parse fails with "AST constructor recursion depth mismatch". Pausing the
    collector for the parse keeps finalizers out of it.
    """
    source = path.read_text(encoding="utf-8")
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(source, filename=str(path))
    finally:
        if was_enabled:
            gc.enable()


def _imported_modules(path: Path, module: str | None) -> set[str]:
    """Dotted names a file imports (absolute, and relative ones resolved against `module`)."""
    tree = _parse_python(path)
    package = (module or "").split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            names.add(prefix)
            # `from a import b`: b may be a submodule
            names.update(f"{prefix}.{alias.name}" for alias in node.names if alias.name != "*")
    return {n for n in names if n.split(".")[0] in PROJECT_PACKAGES}


def _closure(sources: BundleSources) -> dict[str, tuple[Path, Path]]:
    """Module name -> (file, search root) for every project module in the handler's import closure.

    Following modules rather than whole packages keeps what the handler never imports (the
    copilot's workflows, dev stack, stand-ins) out of the zip.
    """
    found: dict[str, tuple[Path, Path]] = {}
    todo: list[tuple[Path, str | None]] = [(p, None) for p in sorted(sources.handler_dir.rglob("*.py"))]
    while todo:
        path, module = todo.pop()
        for name in sorted(_imported_modules(path, module)):
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # parent packages' __init__ run on import
                candidate = ".".join(parts[:depth])
                if candidate in found:
                    continue
                located = _module_file(sources.search_path, candidate)
                if located is None:
                    continue
                found[candidate] = located
                todo.append((located[0], candidate))
    return dict(sorted(found.items()))


def project_modules_imported(sources: BundleSources | None = None) -> dict[str, str]:
    """Module name -> its path inside the bundle, for the handler's project-module closure."""
    closure = _closure(sources or installed_sources())
    return {name: file.relative_to(root).as_posix() for name, (file, root) in closure.items()}


def project_packages_imported(sources: BundleSources | None = None) -> tuple[str, ...]:
    """The top-level project packages the handler's import closure touches."""
    return tuple(sorted({name.split(".")[0] for name in _closure(sources or installed_sources())}))


def _bundle_files(sources: BundleSources) -> list[tuple[str, Path]]:
    """(path in the zip, file): the handler, the imported project modules and the data files
    (non-Python) of the packages they live in."""
    entries = {
        f"profile_api/{p.relative_to(sources.handler_dir).as_posix()}": p
        for p in sources.handler_dir.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    for file, root in _closure(sources).values():
        entries[file.relative_to(root).as_posix()] = file
        for sibling in file.parent.iterdir():
            if sibling.is_file() and sibling.suffix not in (".py", ".pyc"):
                entries[sibling.relative_to(root).as_posix()] = sibling
    return sorted(entries.items())


def _stat_signature(sources: BundleSources) -> tuple[tuple[str, int, int], ...]:
    paths = [sources.requirements, *sorted(sources.handler_dir.rglob("*"))]
    for root in sources.search_path:
        for package in PROJECT_PACKAGES:
            paths += sorted((root / package).rglob("*"))
    return tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size)
        for p in paths
        if p.is_file() and "__pycache__" not in p.parts
    )


def inputs_digest(sources: BundleSources | None = None) -> str:
    """sha256 over everything that determines the bundle: the pins, the handler and its modules
    by their paths inside the zip (so a wheel and a checkout of one version agree)."""
    sources = sources or installed_sources()
    return _digest(sources, _stat_signature(sources))


def digest_cache_dir() -> Path:
    """Where digests are kept across processes (TEMPORAL_DSQL_CACHE_DIR, else the user cache)."""
    configured = os.environ.get("TEMPORAL_DSQL_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "temporal-dsql"


# The last digest and the stat signature it was computed under, so a fresh process (every
# `temporal-dsql plan`) does not re-follow the handler's imports: parsing its ~75 modules was
# ~0.3 s of a ~1.5 s cold plan. The signature covers every file of the project packages and the
# handler plus the pins, by path, mtime_ns and size; one entry per installation.
@functools.lru_cache(maxsize=8)
def _digest(sources: BundleSources, signature: tuple[tuple[str, int, int], ...]) -> str:
    """Cached on the files' (path, mtime, size): in process, and on disk across processes."""
    key = hashlib.sha256(repr((BUILDER_VERSION, PLATFORM, PYTHON_VERSION, signature)).encode()).hexdigest()
    where = hashlib.sha256(repr(sources).encode()).hexdigest()[:16]
    cache = digest_cache_dir() / f"lambda-inputs-{where}"
    try:
        cached_key, _, cached = cache.read_text(encoding="ascii").partition(" ")
        if cached_key == key and len(cached) == 64:
            return cached
    except (OSError, UnicodeDecodeError):
        pass
    digest = _source_digest(sources)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        # Written whole and renamed into place: concurrent plans read the old entry or the new one.
        with tempfile.NamedTemporaryFile("w", encoding="ascii", dir=cache.parent, delete=False) as scratch:
            scratch.write(f"{key} {digest}")
        os.replace(scratch.name, cache)
    except OSError:
        pass  # a read-only cache recomputes next time; the digest itself is right either way
    return digest


def _source_digest(sources: BundleSources) -> str:
    digest = hashlib.sha256(f"builder={BUILDER_VERSION};platform={PLATFORM};py={PYTHON_VERSION}".encode())
    digest.update("\n\n".join(requirement_blocks(_requirements_text(sources))).encode())
    for name, path in _bundle_files(sources):
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def bundle_path(out_dir: Path = DEFAULT_OUT_DIR, sources: BundleSources | None = None) -> Path:
    """Where the bundle for the current inputs is (or would be) built."""
    return out_dir / f"profile_api-{inputs_digest(sources)[:16]}.zip"


# Build-time files wheels ship that nothing imports at run time (Cython sources, C headers, stubs).
BUILD_ONLY_SUFFIXES = (".pyx", ".pxd", ".pxi", ".c", ".cpp", ".h", ".pyi")


# asyncpg's test harness (it starts PostgreSQL clusters), and pydantic's v1 compatibility layer:
# FastAPI probes `from pydantic import v1` for every route annotation and treats ImportError as
# "no v1 models", which is the truth here; without it each cold start saves its import (~20 ms).
UNUSED_PACKAGE_DIRS = ("asyncpg/_testbase", "pydantic/v1")


def _strip_build_only_files(target: Path) -> None:
    # Console scripts carry a shebang naming this build's interpreter; Lambda runs none of them.
    shutil.rmtree(target / "bin", ignore_errors=True)
    for relative in UNUSED_PACKAGE_DIRS:
        shutil.rmtree(target / relative, ignore_errors=True)
    for path in list(target.rglob("*")):
        if path.is_file() and path.suffix in BUILD_ONLY_SUFFIXES:
            path.unlink()
        elif path.is_file() and path.suffix == ".so":
            strip_debug_sections(path)


_ELF_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
_SECTION = struct.Struct("<IIQQQQIIQQ")
_SHF_ALLOC = 0x2
_SHF_INFO_LINK = 0x40
_SHT_NOBITS = 8
_SHT_REL, _SHT_RELA = 9, 4


def strip_debug_sections(path: Path) -> int:
    """Drop DWARF (`.debug_*`) and the static symbol table (`.symtab`, `.strtab`) from a 64-bit
    little-endian ELF shared object, in pure Python; return the bytes saved (0 = left as it was).

    Why: asyncpg's and PyYAML's manylinux wheels ship their Cython extensions unstripped, and the
    debug sections are ~85% of those files (asyncpg's protocol module: 9.6 MB, 1.2 MB without),
    which is what pushed the zip towards Lambda's limit. Nothing loads these sections: the dynamic
    linker uses `.dynsym`/`.dynstr`, which stay. Pure Python (no `strip` of the right target
    architecture needed) and byte-for-byte deterministic. The file is rewritten only in the layout
    where that is safe, which is what linkers emit: every dropped section is non-allocated, lies
    after all loaded content in the file and after every allocated section in the section table
    (so `.dynsym` section indices stay valid); otherwise the file is left alone.
    """
    data = path.read_bytes()
    if len(data) < _ELF_HEADER.size or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return 0
    header = list(_ELF_HEADER.unpack_from(data))
    phoff, shoff, phentsize, phnum, shentsize, shnum, shstrndx = (
        header[5], header[6], header[9], header[10], header[11], header[12], header[13]
    )
    if shnum == 0 or shentsize != _SECTION.size or shstrndx >= shnum:
        return 0
    sections = [list(_SECTION.unpack_from(data, shoff + i * shentsize)) for i in range(shnum)]
    names_offset = sections[shstrndx][4]

    def name(section: list[int]) -> bytes:
        start = names_offset + section[0]
        return data[start : data.index(b"\0", start)]

    drop = {
        i for i, s in enumerate(sections)
        if i != shstrndx and not s[2] & _SHF_ALLOC and (name(s).startswith(b".debug") or name(s) in (b".symtab", b".strtab"))
    }
    if not drop:
        return 0
    allocated = [i for i, s in enumerate(sections) if s[2] & _SHF_ALLOC]
    cut = min(sections[i][4] for i in drop)
    loaded_end = max(
        [phoff + phentsize * phnum]
        + [struct.unpack_from("<Q", data, phoff + i * phentsize + 8)[0] + struct.unpack_from("<Q", data, phoff + i * phentsize + 32)[0]
           for i in range(phnum)]
        + [sections[i][4] + (0 if sections[i][1] == _SHT_NOBITS else sections[i][5]) for i in allocated]
    )
    if (allocated and max(allocated) > min(drop)) or loaded_end > cut:
        return 0
    for i, s in enumerate(sections):
        links_info = s[1] in (_SHT_REL, _SHT_RELA) or s[2] & _SHF_INFO_LINK
        if i not in drop and (s[6] in drop or (links_info and s[7] in drop)):
            return 0
    new_index = {old: new for new, old in enumerate(i for i in range(shnum) if i not in drop)}
    out = bytearray(data[:cut])
    kept = []
    for i, s in enumerate(sections):
        if i in drop:
            continue
        s = list(s)
        if s[4] >= cut and s[1] != _SHT_NOBITS and s[5]:
            align = max(s[8], 1)
            out += b"\0" * (-len(out) % align)
            out += data[s[4] : s[4] + s[5]]
            s[4] = len(out) - s[5]
        s[6] = new_index.get(s[6], s[6])
        if s[1] in (_SHT_REL, _SHT_RELA) or s[2] & _SHF_INFO_LINK:
            s[7] = new_index.get(s[7], s[7])
        kept.append(s)
    out += b"\0" * (-len(out) % 8)
    header[6], header[12], header[13] = len(out), len(kept), new_index[shstrndx]
    for s in kept:
        out += _SECTION.pack(*s)
    _ELF_HEADER.pack_into(out, 0, *header)
    path.write_bytes(bytes(out))
    return len(data) - len(out)


def deterministic_zip(source: Path, destination: Path) -> str:
    """Zip `source` with sorted entries, fixed timestamps and modes; return the sha256."""
    entries = sorted(p for p in source.rglob("*") if p.is_file())
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in entries:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=ZIP_EPOCH)
            mode = 0o755 if os.access(path, os.X_OK) and path.suffix in ("", ".sh") else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            archive.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return hashlib.sha256(destination.read_bytes()).hexdigest()


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # A fixed hash seed: marshal writes frozenset constants in hash order, so .pyc bytes would
    # otherwise depend on each compileall worker's random seed.
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "PYTHONHASHSEED": "0"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def _checked(completed: subprocess.CompletedProcess[str], command: list[str]) -> None:
    if completed.returncode != 0:
        raise LambdaBundleError(f"{' '.join(command[:3])} failed ({completed.returncode}):\n{completed.stderr[-4000:]}")


_NETWORK_HINTS = ("failed to fetch", "error sending request", "dns error", "connect error", "network", "offline",
                  "not found in the cache", "no solution", "because there is no version", "could not find")


def _install(uv: str, requirements: Path, target: Path, platform: str, wheelhouse: Path | None, cwd: Path) -> None:
    """Install the pins, from the index (through uv's cache), or only from `wheelhouse`."""
    command = [uv, "pip", "install", "--python-platform", platform, "--python-version", PYTHON_VERSION,
               "--only-binary", ":all:", "--no-deps", "--require-hashes", "--target", str(target), "-r", str(requirements)]
    if wheelhouse is not None:
        command += ["--offline", "--no-index", "--find-links", str(wheelhouse)]
    completed = _run(command, cwd)
    if completed.returncode == 0:
        return
    if wheelhouse is None and any(hint in completed.stderr.lower() for hint in _NETWORK_HINTS):
        offline = _run([*command, "--offline"], cwd)  # what uv's cache already holds
        if offline.returncode == 0:
            return
    if any(hint in completed.stderr.lower() for hint in _NETWORK_HINTS):
        where = f"the wheelhouse {wheelhouse}" if wheelhouse is not None else "the package index or uv's cache"
        raise LambdaBundleError(
            f"cannot get the Lambda bundle's wheels from {where}: run `pip download --only-binary :all: "
            f"--platform manylinux_2_28_aarch64 --python-version 3.12 --no-deps -d DIR -r {requirements}` where the "
            f"index is reachable, then set {WHEELHOUSE_ENV}=DIR (or pass profile_api_code)\n{completed.stderr[-1500:]}"
        )
    _checked(completed, command)


def build_bundle(
    out_dir: Path,
    *,
    sources: BundleSources | None = None,
    compile_bytecode: bool = True,
    platform: str = PLATFORM,
    wheelhouse: Path | None = None,
) -> BundleResult:
    """Build `profile_api-<digest>.zip` in `out_dir` (see the module docstring for the steps).

    `platform` exists so tests can build an x86_64 twin and import the handler on this machine;
    deployments use the default (arm64, what the function runs on). `wheelhouse` (default: the
    TEMPORAL_DSQL_WHEELHOUSE directory, when set) installs from that directory only, offline.
    """
    sources = sources or installed_sources()
    if not (sources.handler_dir / "handler.py").is_file():
        raise LambdaBundleError(f"no Lambda handler at {sources.handler_dir / 'handler.py'}: reinstall temporal-dsql")
    if wheelhouse is None and os.environ.get(WHEELHOUSE_ENV):
        wheelhouse = Path(os.environ[WHEELHOUSE_ENV])
    uv = _uv()
    digest = inputs_digest(sources)
    with tempfile.TemporaryDirectory(prefix="lambda-bundle-") as scratch:
        work = Path(scratch)
        requirements = work / "requirements.txt"
        requirements.write_text("\n".join(requirement_blocks(_requirements_text(sources))) + "\n")
        target = work / "bundle"
        _install(uv, requirements, target, platform, wheelhouse, work)
        for name, file in _bundle_files(sources):
            destination_file = target / name
            destination_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, destination_file)
        if not (target / "profile_api" / "__init__.py").exists():
            (target / "profile_api" / "__init__.py").write_text("")
        packages = project_packages_imported(sources)
        _strip_build_only_files(target)
        for cache in list(target.rglob("__pycache__")):
            shutil.rmtree(cache)
        python312 = find_python312() if compile_bytecode else None
        if python312 is not None:
            # -s/-p: record /var/task/... (the Lambda task root) instead of this build's temp path,
            # so tracebacks are right and the .pyc bytes do not depend on where the build ran.
            command = [str(python312), "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                       "-s", str(target), "-p", LAMBDA_TASK_ROOT, str(target)]
            _checked(_run(command, work), command)
        unzipped = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
        files = sum(1 for p in target.rglob("*") if p.is_file())
        suffix = "" if platform == PLATFORM else f"-{platform}"
        destination = out_dir / f"profile_api-{digest[:16]}{suffix}.zip"
        sha = deterministic_zip(target, destination)
    return BundleResult(destination, sha, destination.stat().st_size, unzipped, files, python312 is not None, packages)


def ensure_bundle(out_dir: Path = DEFAULT_OUT_DIR, *, sources: BundleSources | None = None) -> Path:
    """The bundle for the current inputs, built only when no zip for this digest exists yet."""
    existing = bundle_path(out_dir, sources)
    if existing.is_file():
        return existing
    return build_bundle(out_dir, sources=sources).path
