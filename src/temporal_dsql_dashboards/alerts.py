"""The alert-rules files under grafana/alerts/: one per scale preset, from the compiler's bounds.

The stack deploys the same text (``temporal_dsql_core.alert_rules.rules_yaml`` of its compiled
profile) as an AMP rule groups namespace; these files are for a Prometheus of one's own
(``rule_files``) and for review.
"""

from __future__ import annotations

from temporal_dsql_core.alert_rules import rules_yaml

__all__ = ["SCALE_PRESETS", "alert_rule_files", "rules_file_name"]

SCALE_PRESETS: tuple[str, ...] = ("starter", "mid-scale", "high-throughput")


def rules_file_name(preset: str) -> str:
    return f"temporal-dsql-rules-{preset}.yaml"


def alert_rule_files() -> dict[str, str]:
    """File name -> rules text, for each scale preset as the compiler compiles it (no overrides)."""
    from temporal_dsql_config import ConfigCompiler

    compiler = ConfigCompiler()
    return {rules_file_name(preset): rules_yaml(compiler.compile(preset).profile.expected_bounds, preset)
            for preset in SCALE_PRESETS}
