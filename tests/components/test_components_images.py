"""`build_images`: ECR repositories the stack creates, the images built from the Dockerfiles shipped in
the package with Pulumi's docker-build provider, and every task definition pinned to the pushed digest."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.preview.mocks import RecordingMocks
from pulumi_temporal_dsql.preview.plan import Plan, plan

REPO = Path(__file__).resolve().parents[2]
BUILD = {"serverBaseImage": "ghcr.io/acme/temporal-dsql:1.29.1-dsql", "dsqlSchemaDir": "/src/temporal-dsql/schema/dsql/temporal/versioned",
         "copilotContext": "/src/temporal-dsql-checkout"}


class Registry(RecordingMocks):
    """What ECR and BuildKit answer, chosen here (not the plan mocks' own fakes)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "aws:ecr/repository:Repository":
            name = args.inputs["name"]
            return name, {**args.inputs, "repositoryUrl": f"999988887777.dkr.ecr.eu-west-1.amazonaws.com/{name}",
                          "registryId": "999988887777"}
        if args.typ == "docker-build:index:Image":
            digest = "sha256:" + ("ab" if "runtime" in args.name else "cd") * 32
            return args.name, {**args.inputs, "digest": digest}
        return super().new_resource(args)


@pytest.fixture(scope="module")
def built() -> Plan:
    return plan("starter", stack="img", mocks=Registry(), extra_config={
        "copilot": "true", "profileApi": "false", "buildImages": json.dumps(BUILD)})


def _images(resource: Any) -> dict[str, str]:
    return {c["name"]: c["image"] for c in json.loads(resource.inputs["containerDefinitions"])}


def test_repositories_and_builds_from_the_shipped_dockerfiles(built: Plan) -> None:
    repositories = {r.inputs["name"]: r for r in built.by_type("aws:ecr/repository:Repository")}
    assert set(repositories) == {"temporal-img-images-runtime", "temporal-img-images-copilot"}
    assert all(r.inputs["imageTagMutability"] == "IMMUTABLE" for r in repositories.values())
    images = {r.name: r.inputs for r in built.by_type("docker-build:index:Image")}
    runtime, copilot = images["temporal-img-images-runtime-image"], images["temporal-img-images-copilot-image"]
    for image in (runtime, copilot):
        assert image["push"] is True and image["platforms"] == ["linux/arm64"]
        (registry,) = image["registries"]
        assert registry["username"] == "AWS" and registry["address"].startswith("999988887777.dkr.ecr.")
    # The runtime image: the Dockerfile the package ships (the repository's, byte for byte).
    dockerfile = Path(runtime["dockerfile"]["location"])
    assert dockerfile.read_bytes() == (REPO / "docker" / "runtime" / "Dockerfile").read_bytes()
    assert runtime["context"]["location"] == str(dockerfile.parent)
    assert runtime["context"]["named"] == {"temporal-dsql-schema": {"location": BUILD["dsqlSchemaDir"]}}
    assert runtime["buildArgs"] == {"BASE_IMAGE": BUILD["serverBaseImage"]}
    assert Path(copilot["dockerfile"]["location"]).read_bytes() == (REPO / "docker" / "copilot" / "Dockerfile").read_bytes()
    assert copilot["context"]["location"] == BUILD["copilotContext"]


def test_task_definitions_are_pinned_to_the_pushed_digests(built: Plan) -> None:
    runtime = "999988887777.dkr.ecr.eu-west-1.amazonaws.com/temporal-img-images-runtime@sha256:" + "ab" * 32
    copilot = "999988887777.dkr.ecr.eu-west-1.amazonaws.com/temporal-img-images-copilot@sha256:" + "cd" * 32
    tasks = {r.inputs["family"]: _images(r) for r in built.by_type("aws:ecs/taskDefinition:TaskDefinition")}
    for role in ("history", "matching", "frontend", "worker"):
        family = f"temporal-img-{role}"
        server = {n: i for n, i in tasks[family].items() if "collector" not in n}
        assert server and set(server.values()) == {runtime}, (family, tasks[family])
    assert set(tasks["temporal-img-schema"].values()) == {runtime}
    copilot_families = [f for f in tasks if "copilot" in f]
    seen = {image for f in copilot_families for image in tasks[f].values()}
    assert {runtime, copilot} <= seen
    # No moving tag and no unbuilt default left anywhere.
    everything = {image for images in tasks.values() for image in images.values()}
    assert not {i for i in everything if "temporal-dsql-runtime:latest" in i or "temporal-sre-copilot:latest" in i}


def test_without_build_images_no_repository_or_build_is_declared(plans: dict[str, Plan]) -> None:
    assert not plans["starter"].by_type("aws:ecr/repository:Repository")
    assert not plans["starter"].by_type("docker-build:index:Image")


def test_a_build_config_without_the_schema_names_the_keys() -> None:
    with pytest.raises(ComponentInputError, match="buildImages") as caught:
        plan("starter", stack="img-bad", extra_config={"profileApi": "false",
                                                      "buildImages": json.dumps({"serverBaseImage": "x"})})
    assert "dsqlSchemaDir" in str(caught.value)


def test_without_the_images_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pulumi_docker_build", None)  # what a core-only install sees
    with pytest.raises(ComponentInputError, match=r"temporal-dsql\[images\]"):
        plan("starter", stack="img-noextra", extra_config={"profileApi": "false", "buildImages": json.dumps(BUILD)})
