"""Small builders for Grafana dashboard JSON: panels, targets, variables and a grid layout.

Plain dicts keep the output byte-for-byte predictable (the committed JSON is compared with the
generated JSON in a test) and avoid a heavy dashboard SDK. Only fields Grafana reads are emitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BUSINESS_TEXT_PLUGIN",
    "CLUSTER_LABEL",
    "CLUSTER_MATCHER",
    "CLUSTER_VARIABLE_METRIC",
    "COPILOT",
    "COPILOT_DATASOURCE",
    "DATASOURCES",
    "INFINITY_PLUGIN",
    "PROMETHEUS",
    "PROMETHEUS_DATASOURCE",
    "RATE_INTERVAL",
    "DashboardSpec",
    "DatasourceSlot",
    "Grid",
    "InfinityColumn",
    "Json",
    "business_text",
    "cluster_variable",
    "custom_variable",
    "dashboard",
    "dashboard_link",
    "datasource_variable",
    "infinity_target",
    "infinity_variable",
    "prometheus_target",
    "query_variable",
    "row",
    "shareable",
    "stat",
    "table",
    "text_variable",
    "timeseries",
    "with_cluster",
    "with_rate_interval",
]

Json = dict[str, Any]

INFINITY_PLUGIN = "yesoreyeram-infinity-datasource"
BUSINESS_TEXT_PLUGIN = "marcusolsson-dynamictext-panel"
SCHEMA_VERSION = 39


@dataclass(frozen=True)
class DatasourceSlot:
    """A datasource the dashboards read, chosen by a ``datasource`` variable.

    Panels, targets, variables and annotations reference ``${<variable>}``, never a fixed uid, so a
    dashboard works against any datasource of the plugin type. The provisioned copies default the
    variable to the datasource provisioning creates (``uid``/``name``); the copies for sharing put
    ``${<input>}`` there, which Grafana's import replaces with the datasource picked for the
    ``__inputs`` entry of that name.
    """

    variable: str
    label: str
    plugin_id: str
    plugin_name: str
    uid: str
    """The provisioned datasource's uid (grafana/provisioning/datasources)."""
    name: str
    """The provisioned datasource's name."""
    input: str
    """The ``__inputs`` name of the shared copy (Grafana's export names them ``DS_<NAME>``)."""

    @property
    def ref(self) -> Json:
        return {"type": self.plugin_id, "uid": f"${{{self.variable}}}"}


PROMETHEUS = DatasourceSlot("datasource", "Prometheus", "prometheus", "Prometheus", "amp",
                            "Amazon Managed Prometheus", "DS_PROMETHEUS")
COPILOT = DatasourceSlot("copilot_datasource", "Copilot API", INFINITY_PLUGIN, "Infinity", "copilot-api",
                         "Copilot API", "DS_COPILOT_API")
DATASOURCES: tuple[DatasourceSlot, ...] = (PROMETHEUS, COPILOT)
PROMETHEUS_DATASOURCE: Json = PROMETHEUS.ref
COPILOT_DATASOURCE: Json = COPILOT.ref

CLUSTER_LABEL = "cluster"
"""The label naming the monitored cluster on every series: the collector sidecar adds it to each
scrape (``pulumi_temporal_dsql.observability.collector_config``), the scenario generator to each
series it writes. Workers scraped by another agent need the same label to follow the selector."""
CLUSTER_MATCHER = f'{CLUSTER_LABEL}=~"$cluster"'

# Grafana picks a rate window of at least four scrape intervals for ``$__rate_interval``
# (the provisioned Prometheus declares timeInterval 15s); a fixed ``[5m]`` in a dashboard would
# either hide short spikes on a zoomed-in view or average over too little on a wide one.
RATE_INTERVAL = "$__rate_interval"
_FIXED_RANGE = re.compile(r"\[\d+[smhdwy]\]")
_PROMQL_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
                              "unless", "bool", "offset", "inf", "nan"})
_LABEL_LIST_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_IDENTIFIER = re.compile(r"[A-Za-z_:][\w:]*")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\$\{?\w+\}?|[A-Za-z_:][\w:]*|\d+(?:\.\d+)?(?:ms|[smhdwy])?|\s+|.', re.S)


def with_rate_interval(expr: str) -> str:
    """The catalog's fixed ``[5m]`` windows as ``[$__rate_interval]``."""
    return _FIXED_RANGE.sub(f"[{RATE_INTERVAL}]", expr)


def with_cluster(expr: str) -> str:
    """``expr`` with ``cluster=~"$cluster"`` added to every vector selector.

    A small tokenizer over the PromQL this package writes: an identifier is a metric name unless it
    is a keyword, a function (followed by ``(``), a label inside ``{...}`` or in a ``by (...)`` list.
    """
    tokens = [m.group(0) for m in _TOKEN.finditer(expr)]
    out: list[str] = []
    braces = brackets = 0
    label_list_pending = in_label_list = inject = False
    for index, token in enumerate(tokens):
        following = next((t for t in tokens[index + 1:] if not t.isspace()), "")
        if token == "{":
            braces += 1
            if inject:
                inject = False
                out.append("{" + CLUSTER_MATCHER + ("" if following == "}" else ","))
                continue
        elif token == "}":
            braces -= 1
        elif token in ("[", "]"):
            brackets += 1 if token == "[" else -1  # a range or subquery window: no selector inside
        elif token == "(" and label_list_pending:
            in_label_list, label_list_pending = True, False
        elif token == ")" and in_label_list:
            in_label_list = False
        elif _IDENTIFIER.fullmatch(token) and not braces and not brackets and not in_label_list:
            if token in _LABEL_LIST_KEYWORDS:
                label_list_pending = True
            elif token not in _PROMQL_KEYWORDS and following not in ("(", "by", "without"):
                if following == "{":
                    inject = True
                else:
                    token += "{" + CLUSTER_MATCHER + "}"
        out.append(token)
    return "".join(out)


@dataclass
class Grid:
    """Places panels left to right on Grafana's 24-column grid, wrapping to a new line.

    `add` and `section` collect the placed panels in `panels`, in reading order.
    """

    x: int = 0
    y: int = 0
    line_height: int = 0
    next_id: int = 1
    panels: list[Json] = field(default_factory=list)

    def add(self, panel: Json, w: int, h: int) -> None:
        self.panels.append(self.place(panel, w, h))

    def section(self, title: str) -> None:
        """A full-width row heading on a line of its own."""
        self.newline()
        self.add(row(title), 24, 1)
        self.newline()

    def place(self, panel: Json, w: int, h: int) -> Json:
        if self.x + w > 24:
            self.newline()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        panel["id"] = self.next_id
        self.next_id += 1
        self.x += w
        self.line_height = max(self.line_height, h)
        return panel

    def newline(self) -> None:
        if self.x:
            self.y += self.line_height
        self.x = 0
        self.line_height = 0


def prometheus_target(expr: str, legend: str = "", ref_id: str = "A", *, instant: bool = False) -> Json:
    """A Prometheus query through the ``datasource`` variable, scoped to the ``cluster`` variable."""
    if _FIXED_RANGE.search(expr):
        raise ValueError(f"fixed range in a dashboard query (use [{RATE_INTERVAL}]): {expr}")
    return {
        "datasource": PROMETHEUS_DATASOURCE,
        "editorMode": "code",
        "expr": with_cluster(expr),
        "instant": instant,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "refId": ref_id,
    }


@dataclass(frozen=True)
class InfinityColumn:
    selector: str
    text: str
    type: str = "string"

    def to_json(self) -> Json:
        return {"selector": self.selector, "text": self.text, "type": self.type}


def infinity_target(path: str, *, root_selector: str = "", columns: list[InfinityColumn] | None = None,
                    ref_id: str = "A", filter_expression: str = "", fmt: str = "table") -> Json:
    """A GET against the copilot API through the Infinity datasource (base URL from provisioning)."""
    target: Json = {
        "datasource": COPILOT_DATASOURCE,
        "columns": [c.to_json() for c in columns or []],
        "filters": [],
        "format": fmt,
        "parser": "backend",
        "refId": ref_id,
        "root_selector": root_selector,
        "source": "url",
        "type": "json",
        "url": path,
        "url_options": {"data": "", "method": "GET"},
    }
    if filter_expression:
        target["filterExpression"] = filter_expression
    return target


def _panel(kind: str, title: str, targets: list[Json], description: str = "", **extra: Any) -> Json:
    panel: Json = {"type": kind, "title": title, "targets": targets}
    if description:
        panel["description"] = description
    if targets:
        panel["datasource"] = targets[0]["datasource"]
    panel.update(extra)
    return panel


def timeseries(title: str, targets: list[Json], *, unit: str = "short", description: str = "",
               stack: bool = False) -> Json:
    return _panel(
        "timeseries", title, targets, description,
        fieldConfig={
            "defaults": {
                "unit": unit,
                "custom": {"drawStyle": "line", "fillOpacity": 10, "lineWidth": 1, "showPoints": "never",
                           "stacking": {"mode": "normal" if stack else "none", "group": "A"}},
            },
            "overrides": [],
        },
        options={"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                 "tooltip": {"mode": "multi", "sort": "desc"}},
    )


def stat(title: str, targets: list[Json], *, unit: str = "short", description: str = "",
         thresholds: list[tuple[float | None, str]] | None = None, sparkline: bool = True,
         mappings: list[Json] | None = None, color_mode: str = "background") -> Json:
    steps = [{"color": color, "value": value} for value, color in (thresholds or [(None, "green")])]
    return _panel(
        "stat", title, targets, description,
        fieldConfig={"defaults": {"unit": unit, "mappings": mappings or [],
                                  "thresholds": {"mode": "absolute", "steps": steps},
                                  "color": {"mode": "thresholds"}},
                     "overrides": []},
        options={"colorMode": color_mode, "graphMode": "area" if sparkline else "none",
                 "justifyMode": "auto", "orientation": "auto", "textMode": "auto",
                 "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
    )


def table(title: str, targets: list[Json], *, description: str = "", overrides: list[Json] | None = None) -> Json:
    return _panel(
        "table", title, targets, description,
        fieldConfig={"defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}},
                     "overrides": overrides or []},
        options={"cellHeight": "sm", "showHeader": True, "footer": {"show": False}},
    )


def business_text(title: str, targets: list[Json], *, content: str, styles: str = "",
                  helpers: str = "", after_render: str = "", default_content: str = "",
                  description: str = "", render_mode: str = "") -> Json:
    """The Business Text panel (plugin marcusolsson-dynamictext-panel, v5 option names)."""
    return _panel(
        "marcusolsson-dynamictext-panel", title, targets, description,
        options={
            "renderMode": render_mode or ("everyRow" if targets else "data"),
            "editors": ["helpers", "afterRender", "styles"],
            "content": content,
            "defaultContent": default_content or content,
            "helpers": helpers,
            "afterRender": after_render,
            "styles": styles,
            "wrap": True,
            "contentPartials": [],
            "externalStyles": [],
            "externalScripts": [],
        },
    )


def row(title: str) -> Json:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def text_variable(name: str, default: str, label: str = "", description: str = "") -> Json:
    return {"type": "textbox", "name": name, "label": label or name, "query": default,
            "current": {"text": default, "value": default}, "hide": 0, "description": description}


def custom_variable(name: str, values: list[str], *, label: str = "", include_all: bool = True,
                    all_value: str = "") -> Json:
    options = [{"selected": i == 0 and not include_all, "text": v, "value": v} for i, v in enumerate(values)]
    if include_all:
        options.insert(0, {"selected": True, "text": "All", "value": "$__all"})
    first = options[0]
    variable: Json = {"type": "custom", "name": name, "label": label or name, "query": ",".join(values),
                      "options": options, "current": {"text": first["text"], "value": first["value"]},
                      "includeAll": include_all, "multi": False, "hide": 0}
    if include_all:
        variable["allValue"] = all_value
    return variable


def query_variable(name: str, metric: str, label: str, *, title: str = "", include_all: bool = True) -> Json:
    """Values of ``label`` on ``metric``'s series of the selected cluster (``label_values``)."""
    query = f"label_values({with_cluster(metric)}, {label})"
    return {"type": "query", "name": name, "label": title or name,
            "datasource": PROMETHEUS_DATASOURCE,
            "definition": query, "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2, "includeAll": include_all, "allValue": ".*", "multi": False, "sort": 1,
            "current": {"text": "All", "value": "$__all"} if include_all else {}, "hide": 0}


CLUSTER_VARIABLE_METRIC = "service_requests_total"
"""The frontend's request counter: every Temporal cluster exports it as soon as it serves a call."""


def cluster_variable() -> Json:
    """The cluster selector. "All" is ``.*``, which also matches series without the label."""
    query = f"label_values({CLUSTER_VARIABLE_METRIC}, {CLUSTER_LABEL})"
    return {"type": "query", "name": "cluster", "label": "Cluster", "datasource": PROMETHEUS_DATASOURCE,
            "definition": query, "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2, "includeAll": True, "allValue": ".*", "multi": False, "sort": 1,
            "current": {"text": "All", "value": "$__all"}, "hide": 0,
            "description": f"The `{CLUSTER_LABEL}` label the metrics collector puts on every series."}


def datasource_variable(slot: DatasourceSlot, *, shared: bool = False) -> Json:
    """A ``datasource`` variable over every datasource of the slot's plugin type; it defaults to the
    provisioned one, or, in the copy for sharing, to the datasource picked on import."""
    value = f"${{{slot.input}}}" if shared else slot.uid
    text = value if shared else slot.name
    return {"type": "datasource", "name": slot.variable, "label": slot.label, "query": slot.plugin_id,
            "current": {"text": text, "value": value}, "options": [], "refresh": 1, "regex": "",
            "includeAll": False, "multi": False, "hide": 0}


def infinity_variable(name: str, target: Json, *, description: str = "") -> Json:
    """A hidden query variable whose value is the first column of an Infinity query (refreshed with
    the dashboard, so it follows the 30 s auto-refresh)."""
    query = {k: v for k, v in target.items() if k != "datasource"}
    return {"type": "query", "name": name, "label": name, "datasource": target["datasource"],
            "definition": f"Infinity- (infinity) {target['type']}",
            "query": {"infinityQuery": query, "query": "", "queryType": "infinity"},
            "refresh": 2, "includeAll": False, "multi": False, "sort": 0, "regex": "",
            "current": {}, "options": [], "hide": 2, "description": description}


def dashboard_link(title: str, uid: str, *, keep_time: bool = True) -> Json:
    return {"title": title, "type": "link", "url": f"/d/{uid}", "icon": "dashboard",
            "keepTime": keep_time, "includeVars": False, "targetBlank": False, "tags": [],
            "asDropdown": False, "tooltip": ""}


@dataclass
class DashboardSpec:
    uid: str
    title: str
    tags: list[str]
    panels: list[Json] = field(default_factory=list)
    variables: list[Json] = field(default_factory=list)
    links: list[Json] = field(default_factory=list)
    annotations: list[Json] = field(default_factory=list)
    refresh: str = "30s"
    time_from: str = "now-1h"
    description: str = ""


def dashboard(spec: DashboardSpec) -> Json:
    return {
        "uid": spec.uid,
        "title": spec.title,
        "description": spec.description,
        "tags": spec.tags,
        "editable": True,
        "graphTooltip": 1,
        "refresh": spec.refresh,
        "schemaVersion": SCHEMA_VERSION,
        "time": {"from": spec.time_from, "to": "now"},
        "timepicker": {"refresh_intervals": ["10s", "30s", "1m", "5m", "15m"]},
        "timezone": "utc",
        "version": 1,
        "annotations": {"list": spec.annotations},
        "links": spec.links,
        "templating": {"list": [*(datasource_variable(slot) for slot in DATASOURCES), cluster_variable(),
                                *spec.variables]},
        "panels": spec.panels,
    }


GRAFANA_VERSION = "10.4.0"
"""The Grafana release ``__requires`` names: the oldest the dashboards are written for (schema 39)."""
_PANEL_NAMES = {"row": "Row", "stat": "Stat", "table": "Table", "timeseries": "Time series",
                "state-timeline": "State timeline", BUSINESS_TEXT_PLUGIN: "Business Text"}


def shareable(board: Json) -> Json:
    """The copy of a dashboard for importing into another Grafana, as Grafana's "Export for sharing
    externally" writes it: ``__inputs`` (one per datasource, so the import form asks for each),
    ``__requires`` (Grafana, the datasource plugins and the panel plugins), no ``id``; datasource
    variables default to ``${<input>}``, which the import replaces with the picked datasource's uid,
    and query variables carry no current value or options."""
    used = {p["type"] for p in board["panels"]}
    inputs = [{"name": slot.input, "label": slot.label, "description": f"The {slot.label} datasource "
               f"(provisioned as {slot.name!r})", "type": "datasource", "pluginId": slot.plugin_id,
               "pluginName": slot.plugin_name} for slot in DATASOURCES]
    requires = [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": GRAFANA_VERSION},
                *({"type": "datasource", "id": slot.plugin_id, "name": slot.plugin_name, "version": "1.0.0"}
                  for slot in DATASOURCES),
                *({"type": "panel", "id": kind, "name": _PANEL_NAMES[kind], "version": ""}
                  for kind in sorted(used - {"row"}))]
    variables = []
    for variable in board["templating"]["list"]:
        if variable["type"] == "datasource":
            slot = next(s for s in DATASOURCES if s.variable == variable["name"])
            variable = datasource_variable(slot, shared=True)
        elif variable["type"] == "query":
            variable = {**variable, "current": {}, "options": []}
        variables.append(variable)
    return {"__inputs": inputs, "__requires": requires,
            **{k: v for k, v in board.items() if k != "templating"},
            "templating": {"list": variables}}
