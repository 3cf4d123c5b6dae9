"""Small builders for Grafana dashboard JSON: panels, targets, variables and a grid layout.

Plain dicts keep the output byte-for-byte predictable (the committed JSON is compared with the
generated JSON in a test) and avoid a heavy dashboard SDK. Only fields Grafana reads are emitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BUSINESS_TEXT_PLUGIN",
    "COPILOT_DATASOURCE",
    "INFINITY_PLUGIN",
    "PROMETHEUS_DATASOURCE",
    "DashboardSpec",
    "Grid",
    "InfinityColumn",
    "Json",
    "business_text",
    "custom_variable",
    "dashboard",
    "dashboard_link",
    "infinity_target",
    "infinity_variable",
    "prometheus_target",
    "query_variable",
    "row",
    "stat",
    "table",
    "text_variable",
    "timeseries",
]

Json = dict[str, Any]

INFINITY_PLUGIN = "yesoreyeram-infinity-datasource"
BUSINESS_TEXT_PLUGIN = "marcusolsson-dynamictext-panel"
PROMETHEUS_DATASOURCE: Json = {"type": "prometheus", "uid": "amp"}
COPILOT_DATASOURCE: Json = {"type": INFINITY_PLUGIN, "uid": "copilot-api"}
SCHEMA_VERSION = 39


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
    return {
        "datasource": PROMETHEUS_DATASOURCE,
        "editorMode": "code",
        "expr": expr,
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


def query_variable(name: str, query: str, *, label: str = "", include_all: bool = True) -> Json:
    return {"type": "query", "name": name, "label": label or name,
            "datasource": PROMETHEUS_DATASOURCE,
            "definition": query, "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2, "includeAll": include_all, "allValue": ".*", "multi": False, "sort": 1,
            "current": {"text": "All", "value": "$__all"} if include_all else {}, "hide": 0}


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
        "annotations": {"list": []},
        "links": spec.links,
        "templating": {"list": spec.variables},
        "panels": spec.panels,
    }
