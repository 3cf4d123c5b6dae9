"""Default image URIs (every one can be replaced through the preset's Args / stack config).

The two project images are NOT published anywhere: you build them and push them to a registry your
ECS tasks can pull from (ECR), then point the stack at them:

    # server image: the runtime layer (docker/runtime/) on the temporal-dsql fork's server image
    TEMPORAL_DSQL_PATH=~/src/temporal-dsql uv run python -m temporal_dsql_devstack build
    docker tag temporal-dsql-runtime:test <account>.dkr.ecr.<region>.amazonaws.com/temporal-dsql-runtime:<tag>
    docker push <account>.dkr.ecr.<region>.amazonaws.com/temporal-dsql-runtime:<tag>
    pulumi config set serverImage <account>.dkr.ecr.<region>.amazonaws.com/temporal-dsql-runtime:<tag>
    # copilot image (docker/copilot/), when copilot=true: the same with temporal-sre-copilot:dev
    # and `pulumi config set copilotWorkerImage ...`

The defaults below are those images' names without a registry, so a stack that keeps them only
works where a registry mirror resolves them; the preset warns when they are left unchanged
(`UNBUILT_DEFAULTS`). The UI, admin-tools and collector defaults are public images.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_ADMIN_TOOLS_IMAGE",
    "DEFAULT_COLLECTOR_IMAGE",
    "DEFAULT_COPILOT_WORKER_IMAGE",
    "DEFAULT_SERVER_IMAGE",
    "DEFAULT_UI_IMAGE",
    "UNBUILT_DEFAULTS",
]

DEFAULT_SERVER_IMAGE = "temporal-dsql-runtime:latest"
"""Runtime image built from docker/runtime/ (server with the DSQL plugin, temporal-sql-tool and the
DSQL schema, config renderer, dynamic-config refresher); build and push it, then set serverImage."""
DEFAULT_UI_IMAGE = "temporalio/ui:2.34.0"
DEFAULT_ADMIN_TOOLS_IMAGE = "temporalio/admin-tools:1.29"
"""The `temporal` CLI, used to register namespaces."""
DEFAULT_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
"""AWS Distro for OpenTelemetry: scrapes :9090 and remote-writes to AMP with SigV4."""
DEFAULT_COPILOT_WORKER_IMAGE = "temporal-sre-copilot:latest"
"""The copilot image built from docker/copilot/; build and push it, then set copilotWorkerImage."""

UNBUILT_DEFAULTS = {
    "server_image": (DEFAULT_SERVER_IMAGE, "serverImage", "docker/runtime/Dockerfile"),
    "copilot_worker_image": (DEFAULT_COPILOT_WORKER_IMAGE, "copilotWorkerImage", "docker/copilot/Dockerfile"),
}
"""Args field -> (default, stack config key, Dockerfile) for the images nobody publishes."""
