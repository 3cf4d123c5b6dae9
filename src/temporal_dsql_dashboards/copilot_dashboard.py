"""The SRE Copilot dashboard (copilot Requirement 7, config Requirement 14).

Data: the copilot's status API through the Infinity datasource (uid ``copilot-api``), and
Prometheus/AMP (uid ``amp``) for the signal-metric sparklines. Every API path and JSON field used
here is listed in ``STATUS_API_READS`` so a test can call the real status API and check each one
resolves: no panel reads a field or metric nothing produces (the prior art's Log Pattern Alerts
read a metric nobody exported).
"""

from __future__ import annotations

from dataclasses import dataclass

from temporal_dsql_dashboards._catalog_queries import catalog_expr, catalog_unit
from temporal_dsql_dashboards._panels import (
    DashboardSpec,
    Grid,
    InfinityColumn,
    Json,
    business_text,
    custom_variable,
    dashboard,
    infinity_target,
    infinity_variable,
    prometheus_target,
    row,
    stat,
    table,
    text_variable,
)
from temporal_dsql_dashboards.annotations import (
    STATE_CHANGE_COLUMNS,
    STATE_CHANGE_PATH,
    STATE_CHANGE_ROOT,
    state_change_annotation,
)
from temporal_dsql_dashboards.health_dashboards import COPILOT_UID, namespace_variables, related_links
from temporal_dsql_dashboards.profile_action import AFTER_RENDER_JS, PANEL_STYLES

__all__ = [
    "CURRENT_STATE",
    "SIGNAL_METRICS",
    "STATE_CHANGES",
    "STATE_GATE",
    "STATUS_API_READS",
    "StatusRead",
    "copilot_dashboard",
    "gated",
    "resolve_selector",
]


# The Status variable filters the whole dashboard (Requirement 7.2). Infinity evaluates a filter
# expression per row after Grafana interpolated the variables; "All" is the empty string.
_STATUS_FILTER = '"${status}" == "" || health_state == "${status}"'
"""Rows that carry their own state (the assessment, timeline entries) show when it matches."""
_SERVICE_FILTER = '"${status}" == "" || state == "${status}"'
"""Per-service rows match on the service's own state."""
_CURRENT_STATE_FILTER = '"${status}" == "" || "${copilot_state}" == "${status}"'
"""Rows without a state of their own (issues, remediations, log patterns) belong to the current
assessment: they show when its state (the hidden ``copilot_state`` variable, GET /status) matches."""


@dataclass(frozen=True)
class StatusRead:
    """One read of the status API by a panel: path, the JSON path to its rows, the fields used, and
    the status filter applied to its rows ("" only for the variable that feeds the filters)."""

    panel: str
    path: str
    root_selector: str
    fields: tuple[str, ...]
    status_filter: str


# Paths and fields of the copilot status API (temporal_dsql_copilot.status.router / temporal_dsql_copilot.status.models).
HERO = StatusRead("Copilot Insights", "/status", "",
                  ("health_state", "confidence", "assessed_at", "summary", "reason", "issue_count"), _STATUS_FILTER)
TOP_ISSUE = StatusRead("Most critical issue", "/status/issues?limit=50", "issues",
                       ("severity", "service", "title", "issue.description"), _CURRENT_STATE_FILTER)
ANALYSIS = StatusRead("Analysis", "/status/issues?limit=50", "issues",
                      ("severity", "service", "title", "issue.description"), _CURRENT_STATE_FILTER)
REMEDIATIONS = StatusRead("Suggested Remediations", "/status", "recommended_actions",
                          ("detail.description", "confidence", "detail.target_service", "detail.risk"),
                          _CURRENT_STATE_FILTER)
LOG_PATTERNS = StatusRead("Log Pattern Alerts", "/status", "log_patterns",
                          ("count", "pattern", "service", "last_seen"), _CURRENT_STATE_FILTER)
SERVICES = StatusRead("Per-Service Health", "/status/services", "services", ("service", "state", "reasons"),
                      _SERVICE_FILTER)
TIMELINE = StatusRead("Health Timeline", "/status/timeline?start=${__from}&end=${__to}", "entries",
                      ("at", "health_state", "reason"), _STATUS_FILTER)
CURRENT_STATE = StatusRead("copilot_state variable", "/status", "", ("health_state",), "")
STATE_CHANGES = StatusRead("Copilot state changes annotation", STATE_CHANGE_PATH, STATE_CHANGE_ROOT,
                           tuple(c.selector for c in STATE_CHANGE_COLUMNS), "")
"""The annotation every dashboard carries: state changes are events, not filtered by Status."""
STATUS_API_READS: tuple[StatusRead, ...] = (HERO, TOP_ISSUE, ANALYSIS, REMEDIATIONS, LOG_PATTERNS, SERVICES,
                                            TIMELINE, CURRENT_STATE, STATE_CHANGES)

# Prometheus panels have no copilot state to filter rows by, so the whole query is gated: it returns
# its series only when the Status filter is "All" or equals the copilot's current state. PromQL
# compares labels, not strings: the current state becomes label `state`, which label_replace
# marks `shown="1"` only if it matches the regex "${status}.*" (".*" for All; no state name is a
# prefix of another), and `and on(shown)` keeps the marked series only.
STATE_GATE = (
    'on() (label_replace(label_replace(vector(1), "state", "${copilot_state}", "", ""), '
    '"shown", "1", "state", "${status}.*") and on(shown) label_replace(vector(1), "shown", "1", "", ""))'
)


def gated(expr: str) -> str:
    """A Prometheus panel query that follows the Status filter (see ``STATE_GATE``)."""
    return f"({expr}) and {STATE_GATE}"


# Signal-metric grid: (title, catalog metric id). Specific metrics per Requirement 7.5: the
# forward-progress heartbeat, the DSQL amplifiers and the worker-side latency.
SIGNAL_METRICS: tuple[tuple[str, str], ...] = (
    ("State transitions/s", "throughput.state_transitions_per_sec"),
    ("Workflows completed/s", "throughput.workflows_completed_per_sec"),
    ("Persistence p99", "latency.persistence_latency_p99"),
    ("OCC conflicts/s", "errors.occ_conflicts_per_sec"),
    ("Reservoir size", "dsql_pool.reservoir_size"),
    ("Reservoir empty/s", "dsql_pool.reservoir_empty_events"),
    ("WF schedule-to-start p99", "latency.workflow_schedule_to_start_p99"),
    ("Slot utilisation", "resources.worker_task_slot_utilization"),
)

_STATE_MAPPINGS: list[Json] = [{
    "type": "value",
    "options": {
        "happy": {"text": "Happy", "color": "green", "index": 0},
        "stressed": {"text": "Stressed", "color": "orange", "index": 1},
        "critical": {"text": "Critical", "color": "red", "index": 2},
    },
}]

HERO_CONTENT = """<div class="hero hero-{{health_state}}">
  <div class="hero-head">
    <span class="badge badge-{{health_state}}">{{health_state}}</span>
    <span class="confidence">Confidence {{percent confidence}}</span>
    <span class="analysed">Last analysis {{#if assessed_at}}{{assessed_at}}{{else}}never{{/if}}</span>
    <span class="issues">{{issue_count}} open issue(s)</span>
  </div>
  <p class="summary">{{#if summary}}{{summary}}{{else}}{{reason}}{{/if}}</p>
  <a class="guide" href="${guide_url}" target="_blank" rel="noopener">View Guide</a>
</div>"""

HERO_HELPERS = (
    "handlebars.registerHelper('percent', (value) => "
    "(value === null || value === undefined || value === '') ? 'n/a' : Math.round(Number(value) * 100) + '%');"
)

# allRows mode: ``data`` is every open issue, newest first; the callout shows the first critical
# one, else the newest warning.
CALLOUT_CONTENT = """{{#with (mostCritical data)}}<div class="callout callout-{{severity}}">
  <strong>&#9888; {{severity}} &middot; {{service}}:</strong> {{title}}
  <div class="callout-detail">{{[issue.description]}}</div>
</div>{{/with}}"""

CALLOUT_HELPERS = (
    "handlebars.registerHelper('mostCritical', (rows) => "
    "(rows || []).find((r) => r.severity === 'critical') || (rows || [])[0]);"
)

HERO_STYLES = """
.hero { padding: 8px 12px; border-left: 6px solid #8e8e8e; }
.hero-happy { border-left-color: #73bf69; }
.hero-stressed { border-left-color: #ff9830; }
.hero-critical { border-left-color: #f2495c; }
.hero-head { display: flex; gap: 16px; align-items: baseline; }
.badge { text-transform: capitalize; font-weight: bold; padding: 2px 10px; border-radius: 10px; color: white; }
.badge-happy { background: #73bf69; }
.badge-stressed { background: #ff9830; }
.badge-critical { background: #f2495c; }
.summary { font-size: 1.1em; margin: 8px 0; }
.callout { padding: 6px 10px; }
.callout-critical { background: rgba(242, 73, 92, 0.15); border: 1px solid #f2495c; }
.callout-warning { background: rgba(255, 152, 48, 0.15); border: 1px solid #ff9830; }
.callout-detail { margin-top: 4px; opacity: 0.85; }
.guide { display: inline-block; margin-top: 8px; }
""".strip()


def resolve_selector(document: object, selector: str) -> object:
    """What Infinity's dotted selector (``issue.description``) picks from a JSON document."""
    value = document
    for part in [p for p in selector.split(".") if p]:
        if not isinstance(value, dict) or part not in value:
            raise KeyError(selector)
        value = value[part]
    return value


def _status_target(read: StatusRead, columns: list[InfinityColumn], *, ref_id: str = "A") -> Json:
    return infinity_target(read.path, root_selector=read.root_selector, columns=columns, ref_id=ref_id,
                           filter_expression=read.status_filter)


def _columns(read: StatusRead, texts: dict[str, str], types: dict[str, str] | None = None) -> list[InfinityColumn]:
    types = types or {}
    return [InfinityColumn(f, texts.get(f, f), types.get(f, "string")) for f in read.fields]


def copilot_dashboard() -> Json:
    grid = Grid()
    add, panels = grid.add, grid.panels

    # Hero: state, confidence, time, summary, guide link; the most critical issue beside it.
    add(business_text(
        "Copilot Insights",
        [_status_target(HERO, _columns(HERO, {}, {"confidence": "number", "issue_count": "number"}))],
        content=HERO_CONTENT, helpers=HERO_HELPERS, styles=HERO_STYLES,
        default_content="Nothing to show: the copilot has not assessed this cluster yet, or its state is filtered out.",
        description="The copilot's latest assessment (GET /status).",
    ), 12, 7)
    add(business_text(
        "Most critical issue",
        [_status_target(TOP_ISSUE, _columns(TOP_ISSUE, {}))],
        content=CALLOUT_CONTENT, helpers=CALLOUT_HELPERS, styles=HERO_STYLES, render_mode="allRows",
        default_content="No open issues (in the selected status).",
        description="The first open critical issue, else the newest warning (GET /status/issues).",
    ), 8, 7)
    add(stat("Status", [_status_target(HERO, _columns(HERO, {}, {"confidence": "number"}))],
             description="Current health state; the Status variable above filters every panel of this dashboard.",
             mappings=_STATE_MAPPINGS, sparkline=False) | {
        "options": {"colorMode": "background", "graphMode": "none", "justifyMode": "center",
                    "orientation": "auto", "textMode": "value",
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "/^health_state$/", "values": False}},
    }, 4, 7)

    grid.newline()
    add(row("Copilot Insights"), 24, 1)
    grid.newline()
    add(table("Analysis", [_status_target(ANALYSIS, _columns(
        ANALYSIS, {"severity": "Severity", "service": "Service", "title": "What is happening",
                   "issue.description": "Detail"}))],
        description="Open issues of the latest assessments: what is happening and where."), 12, 8)
    add(table("Suggested Remediations", [_status_target(REMEDIATIONS, _columns(
        REMEDIATIONS, {"detail.description": "Action", "confidence": "Confidence",
                       "detail.target_service": "Service", "detail.risk": "Risk"}, {"confidence": "number"}))],
        description="Actionable recommendations with the copilot's confidence.",
        overrides=[{"matcher": {"id": "byName", "options": "Confidence"},
                    "properties": [{"id": "unit", "value": "percentunit"},
                                   {"id": "custom.cellOptions", "value": {"type": "gauge", "mode": "basic"}},
                                   {"id": "min", "value": 0}, {"id": "max", "value": 1}]}]), 12, 8)

    grid.newline()
    add(row("Signal Metrics"), 24, 1)
    grid.newline()
    for title, metric_id in SIGNAL_METRICS:
        add(stat(title, [prometheus_target(gated(catalog_expr(metric_id)), title)], unit=catalog_unit(metric_id),
                 description=f"Metric catalog: {metric_id}. Empty when the Status filter is not the copilot's "
                             "current state.", color_mode="value"), 6, 4)

    grid.newline()
    add(row("Log Pattern Alerts and services"), 24, 1)
    grid.newline()
    add(table("Log Pattern Alerts", [_status_target(LOG_PATTERNS, _columns(
        LOG_PATTERNS, {"count": "Occurrences", "pattern": "Pattern", "service": "Service", "last_seen": "Last seen"},
        {"count": "number"}))],
        description="Narrative signals the copilot counted in the monitored cluster's logs during its last "
                    "assessment (GET /status, log_patterns)."), 12, 8)
    add(table("Per-Service Health", [_status_target(
        SERVICES, _columns(SERVICES, {"service": "Service", "state": "State", "reasons": "Why"}))],
        description="Per-service state from the same state machine as the hero panel (GET /status/services).",
        overrides=[{"matcher": {"id": "byName", "options": "State"},
                    "properties": [{"id": "mappings", "value": _STATE_MAPPINGS},
                                   {"id": "custom.cellOptions", "value": {"type": "color-background"}}]}]), 12, 8)
    add({
        "type": "state-timeline", "title": "Health Timeline",
        "datasource": _status_target(TIMELINE, [])["datasource"],
        "targets": [_status_target(TIMELINE, _columns(TIMELINE, {}, {"at": "timestamp"}))],
        "fieldConfig": {"defaults": {"mappings": _STATE_MAPPINGS, "color": {"mode": "thresholds"},
                                     "thresholds": {"mode": "absolute", "steps": [{"color": "text", "value": None}]}},
                        "overrides": []},
        "options": {"showValue": "never", "mergeValues": True, "rowHeight": 0.9,
                    "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}},
        "description": "State changes in the dashboard's time range (GET /status/timeline).",
    }, 24, 5)

    grid.newline()
    add(row("Behaviour Profiles"), 24, 1)
    grid.newline()
    add(business_text(
        "Create Behaviour Profile", [],
        content='<div data-profile-action></div>', after_render=AFTER_RENDER_JS, styles=PANEL_STYLES,
        description="Snapshots the dashboard time range, namespace and task queue into a behaviour profile "
                    "(POST /profiles/ through the Copilot API datasource, which adds the API token; "
                    "or straight to the Profile API variable when it is set).",
    ), 24, 4)

    variables = [
        custom_variable("status", ["happy", "stressed", "critical"], label="Status"),
        infinity_variable("copilot_state", _status_target(CURRENT_STATE, _columns(CURRENT_STATE, {}),
                                                          ref_id="variable"),
                          description="The copilot's current state (GET /status), for the Status filter."),
        *namespace_variables(),
        text_variable("cluster_id", "temporal-dsql", "Cluster", "The monitored cluster's id (COPILOT_CLUSTER_ID)."),
        text_variable("profile_api", "", "Profile API",
                      "Leave empty: the action goes through Grafana's proxy for the Copilot API datasource "
                      "(token from COPILOT_API_TOKEN, never in the browser). A URL makes the browser call that "
                      "API directly, without credentials (CORS; an API that needs none, e.g. the local stack)."),
        text_variable("guide_url", "https://docs.temporal.io/self-hosted-guide/monitoring", "Guide",
                      "Where 'View Guide' leads: where docs/knowledge/ (the copilot's RAG corpus) is published; "
                      "defaults to Temporal's monitoring guide."),
    ]
    links = [*related_links(COPILOT_UID),
             {"title": "View Guide", "type": "link", "url": "${guide_url}", "icon": "doc", "targetBlank": True,
              "keepTime": False, "includeVars": False, "tags": [], "asDropdown": False, "tooltip": ""}]
    return dashboard(DashboardSpec(
        uid=COPILOT_UID, title="Temporal SRE Copilot", tags=["temporal", "copilot", "temporal-dsql"],
        description="The SRE copilot's health assessment of the monitored Temporal cluster.",
        panels=panels, variables=variables, links=links, refresh="30s", annotations=[state_change_annotation()],
    ))
