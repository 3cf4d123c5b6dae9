"""Default image URIs (every one can be replaced through the preset's Args).

The server image is the runtime layer in `docker/runtime/` on top of the temporal-dsql server
image (Temporal fork with the DSQL plugin): build it with
`docker build -f docker/runtime/Dockerfile --build-arg BASE_IMAGE=<server image> docker/runtime`
and push it to your registry; the default below is the project's published tag.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_ADMIN_TOOLS_IMAGE",
    "DEFAULT_COLLECTOR_IMAGE",
    "DEFAULT_COPILOT_WORKER_IMAGE",
    "DEFAULT_SERVER_IMAGE",
    "DEFAULT_UI_IMAGE",
]

DEFAULT_SERVER_IMAGE = "ghcr.io/temporal-dsql/temporal-dsql-runtime:1.32.0-dsql.1"
"""Runtime image: Temporal server with the DSQL plugin, config renderer and dynamic-config refresher."""
DEFAULT_UI_IMAGE = "temporalio/ui:2.34.0"
DEFAULT_ADMIN_TOOLS_IMAGE = "temporalio/admin-tools:1.29"
"""The `temporal` CLI, used to register namespaces."""
DEFAULT_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
"""AWS Distro for OpenTelemetry: scrapes :9090 and remote-writes to AMP with SigV4."""
DEFAULT_COPILOT_WORKER_IMAGE = "ghcr.io/temporal-dsql/copilot:0.1.0"
"""The copilot image built from docker/copilot/."""
