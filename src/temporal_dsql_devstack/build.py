"""`copilot dev build`: the runtime image and the copilot image, with docker.

    temporal-dsql:latest          the server image, built from a temporal-dsql checkout
                                  ($TEMPORAL_DSQL_PATH), unless --base-image names one to reuse
    temporal-dsql-runtime:test    docker/runtime/Dockerfile on top of it, with the checkout's
                                  versioned DSQL schema as the `temporal-dsql-schema` build context
                                  ($TEMPORAL_DSQL_SCHEMA_DIR overrides where it is read from)
    temporal-sre-copilot:dev      docker/copilot/Dockerfile (worker + API, from uv.lock)

Needs the docker CLI and a running engine; when either is missing it says so and how to fix it
before running anything. Builds stream their output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from temporal_dsql_devstack.errors import DevStackError

__all__ = [
    "BASE_IMAGE",
    "COPILOT_IMAGE",
    "RUNTIME_IMAGE",
    "SCHEMA_CONTEXT",
    "DockerUnavailable",
    "build_commands",
    "build_images",
    "docker_engine",
    "schema_directory",
]

BASE_IMAGE = "temporal-dsql:latest"
RUNTIME_IMAGE = "temporal-dsql-runtime:test"
COPILOT_IMAGE = "temporal-sre-copilot:dev"
SCHEMA_CONTEXT = "temporal-dsql-schema"
"""Named build context of docker/runtime/Dockerfile: the fork's versioned DSQL schema directory."""
# Where a temporal-dsql checkout keeps it: the current layout first, then the older v12 one.
SCHEMA_LAYOUTS = ("schema/dsql/temporal/versioned", "schema/dsql/v12/temporal/versioned")
DOCKER_INSTALL_HINT = ("Install Docker (Docker Desktop, or docker-ce on Linux), start the engine, and check "
                       "that `docker info` works; then run `copilot dev build` again. Nothing was built.")


class DockerUnavailable(DevStackError):
    """The docker CLI is missing or its engine is not running."""


@dataclass(frozen=True)
class BuildStep:
    image: str
    argv: list[str]


def docker_engine(docker: str | None = None) -> str:
    """The docker CLI path, after checking that its engine answers; DockerUnavailable otherwise."""
    path = docker or shutil.which("docker")
    if path is None:
        raise DockerUnavailable("the docker CLI is not on PATH", field="docker", suggestion=DOCKER_INSTALL_HINT)
    try:
        probe = subprocess.run([path, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                               timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DockerUnavailable(f"`docker info` failed: {exc}", field="docker", suggestion=DOCKER_INSTALL_HINT) from exc
    if probe.returncode != 0 or not probe.stdout.strip():
        reason = (probe.stderr or probe.stdout).strip().splitlines()
        raise DockerUnavailable("the docker engine is not running"
                                + (f" ({reason[-1]})" if reason else ""), field="docker",
                                suggestion=DOCKER_INSTALL_HINT)
    return path


def schema_directory(checkout: Path) -> Path:
    """The versioned DSQL schema the runtime image carries: $TEMPORAL_DSQL_SCHEMA_DIR, else the
    checkout's; an error naming both when neither holds a `vX.Y/manifest.json`."""
    override = os.environ.get("TEMPORAL_DSQL_SCHEMA_DIR")
    candidates = [Path(override)] if override else [checkout / layout for layout in SCHEMA_LAYOUTS]
    for candidate in candidates:
        if any(candidate.glob("*/manifest.json")):
            return candidate
    raise DevStackError(
        f"no versioned DSQL schema (vX.Y/manifest.json) in {', '.join(str(c) for c in candidates)}",
        field="TEMPORAL_DSQL_SCHEMA_DIR",
        suggestion="Set TEMPORAL_DSQL_PATH to a temporal-dsql checkout (its schema/dsql/temporal/versioned is "
                   "copied into the runtime image for the schema set-up task), or TEMPORAL_DSQL_SCHEMA_DIR "
                   "to that directory.")


def build_commands(repo_root: Path, *, docker: str = "docker", temporal_dsql_path: Path | None = None,
                   base_image: str | None = None, platform: str | None = None) -> list[BuildStep]:
    """The docker builds, in order. Either a temporal-dsql checkout or an existing base image; the
    runtime image takes its DSQL schema from the checkout (or $TEMPORAL_DSQL_SCHEMA_DIR) either way."""
    extra = ["--platform", platform] if platform else []
    steps: list[BuildStep] = []
    source = temporal_dsql_path or (Path(os.environ["TEMPORAL_DSQL_PATH"]) if os.environ.get("TEMPORAL_DSQL_PATH")
                                    else repo_root.parent / "temporal-dsql")
    if base_image is None:
        if not (source / "Dockerfile").is_file() and not (source / "docker").is_dir():
            raise DevStackError(
                f"no temporal-dsql checkout at {source} (expected its Dockerfile there)",
                field="TEMPORAL_DSQL_PATH",
                suggestion="Clone the temporal-dsql repository and set TEMPORAL_DSQL_PATH to it, or pass "
                           "--base-image with a server image you already have.")
        dockerfile = source / "Dockerfile" if (source / "Dockerfile").is_file() else source / "docker" / "Dockerfile"
        steps.append(BuildStep(BASE_IMAGE, [docker, "build", *extra, "-t", BASE_IMAGE, "-f", str(dockerfile), str(source)]))
        base_image = BASE_IMAGE
    runtime_dir = repo_root / "docker" / "runtime"
    schema = schema_directory(source)
    steps.append(BuildStep(RUNTIME_IMAGE, [docker, "build", *extra, "--build-arg", f"BASE_IMAGE={base_image}",
                                           "--build-context", f"{SCHEMA_CONTEXT}={schema}",
                                           "-t", RUNTIME_IMAGE, "-f", str(runtime_dir / "Dockerfile"), str(runtime_dir)]))
    steps.append(BuildStep(COPILOT_IMAGE, [docker, "build", *extra, "-t", COPILOT_IMAGE,
                                           "-f", str(repo_root / "docker" / "copilot" / "Dockerfile"), str(repo_root)]))
    return steps


def build_images(repo_root: Path, *, temporal_dsql_path: Path | None = None, base_image: str | None = None,
                 platform: str | None = None, only: Sequence[str] | None = None,
                 on_step: Callable[[BuildStep], None] = lambda step: None) -> list[str]:
    """Run the builds (output streams to this process's stdout/stderr); the images built."""
    docker = docker_engine()
    steps = build_commands(repo_root, docker=docker, temporal_dsql_path=temporal_dsql_path,
                           base_image=base_image, platform=platform)
    if only:
        steps = [step for step in steps if step.image in only]
    built: list[str] = []
    for step in steps:
        on_step(step)
        result = subprocess.run(step.argv, check=False)
        if result.returncode != 0:
            raise DevStackError(f"building {step.image} failed (exit {result.returncode})", field="image",
                                suggestion="The build output above says why.")
        built.append(step.image)
    return built
