"""The copilot's health-state changes as an annotation on every dashboard.

The copilot API's ``GET /status/timeline`` lists the state changes of a time range (its first
entry is the state in force at the range's start). The Infinity datasource answers annotation
queries (a time field and a text field, format "dataframe"), so the same datasource the copilot
dashboard's panels read draws a marker on every time series at each change: an SRE looking at
persistence latency sees when the copilot went Stressed.
"""

from __future__ import annotations

from temporal_dsql_dashboards._panels import COPILOT_DATASOURCE, InfinityColumn, Json, infinity_target

__all__ = ["STATE_CHANGE_COLUMNS", "STATE_CHANGE_PATH", "STATE_CHANGE_ROOT", "state_change_annotation"]

STATE_CHANGE_PATH = "/status/timeline?start=${__from}&end=${__to}"
STATE_CHANGE_ROOT = "entries"
STATE_CHANGE_COLUMNS: tuple[InfinityColumn, ...] = (
    InfinityColumn("at", "at", "timestamp"),
    InfinityColumn("health_state", "health_state"),
    InfinityColumn("from_state", "from_state"),
    InfinityColumn("reason", "reason"),
)


def state_change_annotation() -> Json:
    target = infinity_target(STATE_CHANGE_PATH, root_selector=STATE_CHANGE_ROOT, columns=list(STATE_CHANGE_COLUMNS),
                             ref_id="Anno", fmt="dataframe")
    target.pop("datasource")
    return {
        "name": "Copilot state changes",
        "datasource": COPILOT_DATASOURCE,
        "enable": True,
        "hide": False,
        "iconColor": "orange",
        "target": target,
        # Grafana's annotation field mappings: the marker's time, title, text and tags from the rows.
        "mappings": {
            "time": {"source": "field", "value": "at"},
            "title": {"source": "field", "value": "health_state"},
            "text": {"source": "field", "value": "reason"},
            "tags": {"source": "field", "value": "health_state"},
        },
    }
