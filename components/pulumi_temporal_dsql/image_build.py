"""Build the project's two images during `pulumi up` and push them to ECR repositories the stack
creates, with Pulumi's docker-build provider (`pulumi-docker-build`, BuildKit; extra `images`).

- runtime (docker/runtime/Dockerfile, shipped in the package): FROM `server_base_image` (the
  temporal-dsql fork's server build, with temporal-sql-tool) plus the fork's versioned DSQL schema
  as the `temporal-dsql-schema` named build context (`dsql_schema_dir`);
- copilot (docker/copilot/Dockerfile): its context is a checkout of this project
  (`copilot_context`), because the image installs the project from source with its lock.

The task definitions get `<repository>@<digest>`: the exact bytes pushed, never a moving tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.fielddocs import documented
from pulumi_temporal_dsql.resources import dockerfile_dir

__all__ = ["EXTRA", "ImageBuild", "ImageBuildArgs", "pinned"]

EXTRA = "temporal-dsql[images]"
PLATFORM = "linux/arm64"  # Graviton: what the Fargate task definitions and the EC2 capacity run


@documented
@dataclass(kw_only=True)
class ImageBuildArgs:
    """What the image builds need from you: the fork's server build and schema, and a checkout."""

    server_base_image: str
    """The temporal-dsql fork's server image (temporal-server with the DSQL plugin and temporal-sql-tool)."""
    dsql_schema_dir: str
    """The fork's `schema/dsql/temporal/versioned` directory (the `temporal-dsql-schema` build context)."""
    copilot_context: str | None = None
    """A checkout of temporal-dsql to build the copilot image from; None keeps copilot_worker_image."""
    force_delete: bool = False
    """Let `pulumi destroy` delete the repositories with their images (dev stacks)."""


def pinned(repository_url: pulumi.Input[str], digest: pulumi.Input[str]) -> pulumi.Output[str]:
    """`<repository>@sha256:...`: the image reference a task definition pins."""
    return pulumi.Output.all(repository_url, digest).apply(lambda v: f"{v[0]}@{v[1]}")


class ImageBuild(pulumi.ComponentResource):
    """ECR repositories and the images built and pushed into them."""

    server_image: pulumi.Output[str]
    copilot_image: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: ImageBuildArgs, tags: Mapping[str, str], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        try:
            import pulumi_docker_build as docker_build
        except ImportError as error:
            raise ComponentInputError(
                "build_images needs the docker-build provider's SDK, which is not installed.", field="build_images",
                suggestion=f"pip install '{EXTRA}' (or uv add '{EXTRA}').",
            ) from error
        super().__init__("temporal-dsql:images:ImageBuild", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.repositories: dict[str, aws.ecr.Repository] = {}
        self.images: dict[str, Any] = {}
        builds: dict[str, dict[str, Any]] = {
            "runtime": {
                "context": docker_build.BuildContextArgs(
                    location=str(dockerfile_dir("runtime")),
                    named={"temporal-dsql-schema": docker_build.ContextArgs(location=args.dsql_schema_dir)},
                ),
                "dockerfile": docker_build.DockerfileArgs(location=str(dockerfile_dir("runtime") / "Dockerfile")),
                "build_args": {"BASE_IMAGE": args.server_base_image},
            },
        }
        if args.copilot_context is not None:
            builds["copilot"] = {
                "context": docker_build.BuildContextArgs(location=args.copilot_context),
                "dockerfile": docker_build.DockerfileArgs(location=str(dockerfile_dir("copilot") / "Dockerfile")),
                "build_args": {},
            }
        for image, build in builds.items():
            repository = aws.ecr.Repository(
                f"{name}-{image}",
                name=f"{name}-{image}",
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                force_delete=args.force_delete,
                tags=dict(tags),
                opts=child,
            )
            token = aws.ecr.get_authorization_token_output(
                registry_id=repository.registry_id, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            self.repositories[image] = repository
            self.images[image] = docker_build.Image(
                f"{name}-{image}-image",
                context=build["context"],
                dockerfile=build["dockerfile"],
                build_args=build["build_args"],
                platforms=[docker_build.Platform.LINUX_ARM64],
                push=True,
                tags=[repository.repository_url.apply(lambda url: f"{url}:latest")],
                registries=[
                    docker_build.RegistryArgs(
                        address=repository.repository_url, username=token.user_name, password=token.password
                    )
                ],
                opts=pulumi.ResourceOptions(parent=repository),
            )
        self.server_image = pinned(self.repositories["runtime"].repository_url, self.images["runtime"].digest)
        self.copilot_image = (
            pinned(self.repositories["copilot"].repository_url, self.images["copilot"].digest)
            if "copilot" in self.images else None
        )
        self.register_outputs({"server_image": self.server_image, "copilot_image": self.copilot_image})
