"""Grafana dashboards and provisioning as code.

``python -m copilot.grafana`` regenerates ``grafana/`` from these builders; ``--check`` fails when
the committed files differ (tests/grafana runs the same comparison).
"""

from copilot.grafana._render import GeneratedFile, check_files, generated_files, write_files

__all__ = ["GeneratedFile", "check_files", "generated_files", "write_files"]
