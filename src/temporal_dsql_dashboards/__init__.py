"""The generator of the Grafana dashboards and provisioning in grafana/: `python -m temporal_dsql_dashboards` writes them, `--check` fails when they are stale."""

from temporal_dsql_dashboards._render import GeneratedFile, check_files, generated_files, write_files

__all__ = ["GeneratedFile", "check_files", "generated_files", "write_files"]
