"""The container tests: a Docker engine (started here when none answers, stopped by PID) and the
images, built once per session by `temporal_dsql_devstack.images.build_all` and reused across sessions by content tag.

These tests skip only when no engine can be started (not root, no dockerd), and then say why.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from image_helpers import Container

from temporal_dsql_devstack.build import DockerUnavailable, docker_engine
from temporal_dsql_devstack.images import DockerCli, ImageSet, build_all, buildkit_cli

REPO = Path(__file__).resolve().parents[2]
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
LAYER_TEST_CA = Path(__file__).with_name("layer-test-ca.pem")
"""A CA certificate whose private key was thrown away: passed in the extra-CA build secret so the
layer test can look for it. Always the same file, so images reused by content tag got it too."""


def _engine_or_reason(pidfile: Path) -> tuple[DockerCli | None, bool, str]:
    """(cli, started here, why not)."""
    try:
        cli = buildkit_cli()
        docker_engine(cli.path)
        return cli, False, ""
    except DockerUnavailable as error:
        first = str(error)
    result = subprocess.run(["bash", str(REPO / "scripts" / "dockerd.sh"), "start", str(pidfile)],
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        return None, False, f"{first}; and dockerd could not be started: {result.stderr.strip()}"
    try:
        cli = buildkit_cli()
        docker_engine(cli.path)
    except DockerUnavailable as error:
        return None, result.stdout.startswith("started"), str(error)
    return cli, result.stdout.startswith("started"), ""


@pytest.fixture(scope="session")
def docker_cli() -> Iterator[DockerCli]:
    pidfile = Path(tempfile.mkdtemp(prefix="test-dockerd-")) / "dockerd.pid"
    cli, started, reason = _engine_or_reason(pidfile)
    try:
        if cli is None:
            print(f"\ncontainer tests SKIPPED: {reason}")
            pytest.skip(f"no Docker engine: {reason}")
        yield cli
    finally:
        if started:
            subprocess.run(["bash", str(REPO / "scripts" / "dockerd.sh"), "stop", str(pidfile)], timeout=120,
                           check=False)


@pytest.fixture(scope="session")
def extra_ca_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build secret: this machine's CA bundle (the network intercepts TLS) plus the marker CA."""
    bundle = tmp_path_factory.mktemp("extra-ca") / "extra-ca.pem"
    host = HOST_CA_BUNDLE.read_bytes() if HOST_CA_BUNDLE.is_file() else b""
    bundle.write_bytes(host + b"\n" + LAYER_TEST_CA.read_bytes())
    return bundle


@pytest.fixture(scope="session")
def images(docker_cli: DockerCli, extra_ca_bundle: Path) -> ImageSet:
    return build_all(extra_ca=extra_ca_bundle, log_dir=REPO / "build" / "images")


@pytest.fixture
def run_container(docker_cli: DockerCli) -> Iterator[Callable[..., Container]]:
    """`docker run -d --network host` (the network rule: host networking only, no bridge address)."""
    made: list[str] = []

    def run(image: str, *args: str, env: dict[str, str] | None = None, volumes: Sequence[str] = (),
            user: str | None = None) -> Container:
        argv = ["run", "-d", "--network", "host"]
        for key, value in (env or {}).items():
            argv += ["-e", f"{key}={value}"]
        for volume in volumes:
            argv += ["-v", volume]
        if user:
            argv += ["--user", user]
        result = docker_cli.run(*argv, image, *args, timeout=120)
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        container_id = result.stdout.decode().strip()
        made.append(container_id)
        return Container(docker_cli, container_id)

    yield run
    for container_id in made:
        docker_cli.run("rm", "-f", "-v", container_id, timeout=120)
