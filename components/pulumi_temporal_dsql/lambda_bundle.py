"""Build the profile API Lambda zip: Python 3.12, arm64, from the `lambda` dependency group only.

Steps (usable standalone: `temporal-dsql build-lambda --out DIR`):
1. `uv export --frozen --only-group lambda` pins exactly the group's closure from uv.lock;
2. `uv pip install --python-platform aarch64-manylinux_2_28 --python-version 3.12
   --only-binary :all: --target` installs Linux arm64 cp312 wheels whatever the build host is;
3. the handler (`lambdas/profile_api`) and the project's own packages it imports (found by
   following its imports through `src/`) are copied in;
4. bytecode is compiled by a Python 3.12 interpreter when one is present (pyc files of another
   version are useless to the runtime and cost ~1.2 s of cold start when missing), with
   `unchecked-hash` invalidation so the .pyc bytes do not depend on file times;
5. the zip is deterministic: sorted entries, fixed timestamps and permissions, so the same
   inputs give the same sha256 (and Pulumi sees no change).
"""

from __future__ import annotations

import ast
import functools
import gc
import hashlib
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
    "HANDLER",
    "BundleResult",
    "build_bundle",
    "deterministic_zip",
    "ensure_bundle",
    "find_python312",
    "inputs_digest",
    "project_root",
    "strip_debug_sections",
]

HANDLER = "profile_api.handler.handler"
PLATFORM = "aarch64-manylinux_2_28"
PYTHON_VERSION = "3.12"
PROJECT_PACKAGES = ("copilot_core", "dsql_config", "behaviour_profiles", "copilot", "dashboards", "devstack", "standins")
# Provided by the Lambda Python runtime; never bundled.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
LAMBDA_TASK_ROOT = "/var/task"
BUILDER_VERSION = "5"


@dataclass(frozen=True)
class BundleResult:
    path: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    bytecode_compiled: bool
    packages: tuple[str, ...]


def project_root(start: Path | None = None) -> Path:
    """The directory holding the project's pyproject.toml and uv.lock."""
    here = (start or Path(__file__)).resolve()
    for candidate in [here, *here.parents]:
        if (candidate / "uv.lock").is_file() and (candidate / "pyproject.toml").is_file():
            return candidate
    cwd = Path.cwd()
    for candidate in [cwd, *cwd.parents]:
        if (candidate / "uv.lock").is_file():
            return candidate
    raise LambdaBundleError("cannot find the project root (a directory with pyproject.toml and uv.lock)")


def _is_python312(candidate: Path) -> bool:
    try:
        completed = subprocess.run(
            [str(candidate), "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except OSError:
        return False
    return completed.returncode == 0 and completed.stdout.strip() == "True"


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


def _uv() -> str:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists() and not shutil.which("uv"):
        raise LambdaBundleError("uv is needed to build the Lambda bundle; install it with `pip install uv`")
    return uv


def _module_file(src: Path, module: str) -> Path | None:
    base = src.joinpath(*module.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
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


def project_modules_imported(root: Path) -> dict[str, Path]:
    """Module name -> file for every project module in the handler's import closure (via src/).

    Following modules rather than whole packages keeps what the handler never imports (the
    copilot's workflows, dev stack, stand-ins) out of the zip.
    """
    src = root / "src"
    found: dict[str, Path] = {}
    todo: list[tuple[Path, str | None]] = [(p, None) for p in sorted((root / "lambdas" / "profile_api").rglob("*.py"))]
    while todo:
        path, module = todo.pop()
        for name in sorted(_imported_modules(path, module)):
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # parent packages' __init__ run on import
                candidate = ".".join(parts[:depth])
                if candidate in found:
                    continue
                file = _module_file(src, candidate)
                if file is None:
                    continue
                found[candidate] = file
                todo.append((file, candidate))
    return dict(sorted(found.items()))


def project_packages_imported(root: Path) -> tuple[str, ...]:
    """The top-level project packages the handler's import closure touches."""
    return tuple(sorted({name.split(".")[0] for name in project_modules_imported(root)}))


def _project_files(root: Path) -> list[Path]:
    """Imported project modules plus the data files (non-Python) of the packages they live in."""
    modules = project_modules_imported(root)
    files = set(modules.values())
    for file in modules.values():
        files.update(p for p in file.parent.iterdir() if p.is_file() and p.suffix not in (".py", ".pyc"))
    return sorted(files)


def _source_files(root: Path) -> list[Path]:
    files = [p for p in (root / "lambdas" / "profile_api").rglob("*") if p.is_file()]
    files += _project_files(root)
    return sorted(f for f in files if "__pycache__" not in f.parts and f.suffix != ".pyc")


def _stat_signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    paths = [root / "uv.lock", root / "pyproject.toml"]
    paths += sorted((root / "lambdas").rglob("*")) + sorted((root / "src").rglob("*"))
    return tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size)
        for p in paths
        if p.is_file() and "__pycache__" not in p.parts
    )


def inputs_digest(root: Path | None = None) -> str:
    """sha256 over everything that determines the bundle: lock, group, handler and sources."""
    root = root or project_root()
    return _digest(root, _stat_signature(root))


# The last digest and the stat signature it was computed under, so a fresh process (every
# `temporal-dsql plan`) does not re-follow the handler's imports: parsing its ~75 modules was
# ~0.3 s of a ~1.5 s cold plan. The signature covers every file under lambdas/ and src/ (a
# superset of the sources digested) plus the lock and pyproject, by path, mtime_ns and size.
DIGEST_CACHE = Path("build") / "lambda" / "inputs-digest"


@functools.lru_cache(maxsize=8)
def _digest(root: Path, signature: tuple[tuple[str, int, int], ...]) -> str:
    """Cached on the files' (path, mtime, size): in process, and on disk across processes."""
    key = hashlib.sha256(repr((BUILDER_VERSION, PLATFORM, PYTHON_VERSION, signature)).encode()).hexdigest()
    cache = root / DIGEST_CACHE
    try:
        cached_key, _, cached = cache.read_text(encoding="ascii").partition(" ")
        if cached_key == key and len(cached) == 64:
            return cached
    except (OSError, UnicodeDecodeError):
        pass
    digest = _source_digest(root)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        # Written whole and renamed into place: concurrent plans read the old entry or the new one.
        with tempfile.NamedTemporaryFile("w", encoding="ascii", dir=cache.parent, delete=False) as scratch:
            scratch.write(f"{key} {digest}")
        os.replace(scratch.name, cache)
    except OSError:
        pass  # a read-only checkout recomputes next time; the digest itself is right either way
    return digest


def _source_digest(root: Path) -> str:
    digest = hashlib.sha256(f"builder={BUILDER_VERSION};platform={PLATFORM};py={PYTHON_VERSION}".encode())
    for path in [root / "uv.lock", root / "pyproject.toml", *_source_files(root)]:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


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


def _run(command: list[str], cwd: Path) -> None:
    # A fixed hash seed: marshal writes frozenset constants in hash order, so .pyc bytes would
    # otherwise depend on each compileall worker's random seed.
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "PYTHONHASHSEED": "0"}
    env.pop("VIRTUAL_ENV", None)
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise LambdaBundleError(f"{' '.join(command[:3])} failed ({completed.returncode}):\n{completed.stderr[-4000:]}")


def build_bundle(
    out_dir: Path, *, root: Path | None = None, compile_bytecode: bool = True, platform: str = PLATFORM
) -> BundleResult:
    """Build `profile_api-<digest>.zip` in `out_dir` (see the module docstring for the steps).

    `platform` exists so tests can build an x86_64 twin and import the handler on this machine;
    deployments use the default (arm64, what the function runs on).
    """
    root = root or project_root()
    if not (root / "lambdas" / "profile_api" / "handler.py").is_file():
        raise LambdaBundleError(f"no Lambda handler at {root / 'lambdas/profile_api/handler.py'}")
    uv = _uv()
    digest = inputs_digest(root)
    with tempfile.TemporaryDirectory(prefix="lambda-bundle-") as scratch:
        work = Path(scratch)
        requirements = work / "requirements.txt"
        _run([uv, "export", "--frozen", "--only-group", "lambda", "--no-hashes", "--no-emit-project",
              "--no-header", "--no-annotate", "-o", str(requirements)], root)
        wanted = [
            line for line in requirements.read_text().splitlines()
            if line.strip() and not line.startswith(("#", " ")) and line.split("==")[0].strip() not in RUNTIME_PROVIDED
        ]
        requirements.write_text("\n".join(wanted) + "\n")
        target = work / "bundle"
        _run([uv, "pip", "install", "--python-platform", platform, "--python-version", PYTHON_VERSION,
              "--only-binary", ":all:", "--no-deps", "--target", str(target), "-r", str(requirements)], root)
        shutil.copytree(root / "lambdas" / "profile_api", target / "profile_api",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if not (target / "profile_api" / "__init__.py").exists():
            (target / "profile_api" / "__init__.py").write_text("")
        packages = project_packages_imported(root)
        for file in _project_files(root):
            destination_file = target / file.relative_to(root / "src")
            destination_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, destination_file)
        _strip_build_only_files(target)
        for cache in list(target.rglob("__pycache__")):
            shutil.rmtree(cache)
        python312 = find_python312() if compile_bytecode else None
        if python312 is not None:
            # -s/-p: record /var/task/... (the Lambda task root) instead of this build's temp path,
            # so tracebacks are right and the .pyc bytes do not depend on where the build ran.
            _run([str(python312), "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                  "-s", str(target), "-p", LAMBDA_TASK_ROOT, str(target)], root)
        unzipped = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
        files = sum(1 for p in target.rglob("*") if p.is_file())
        suffix = "" if platform == PLATFORM else f"-{platform}"
        destination = out_dir / f"profile_api-{digest[:16]}{suffix}.zip"
        sha = deterministic_zip(target, destination)
    return BundleResult(destination, sha, destination.stat().st_size, unzipped, files, python312 is not None, packages)


def ensure_bundle(out_dir: Path, *, root: Path | None = None) -> Path:
    """The bundle for the current inputs, built only when no zip for this digest exists yet."""
    root = root or project_root()
    existing = out_dir / f"profile_api-{inputs_digest(root)[:16]}.zip"
    if existing.is_file():
        return existing
    return build_bundle(out_dir, root=root).path
