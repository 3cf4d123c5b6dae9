"""Grafana provisioning files: datasources (AMP with SigV4, the copilot API through Infinity) and
the file provider that loads grafana/dashboards/ with one folder per sub-directory.

Values in ``${...}`` are expanded by Grafana from its environment at start-up.

The Copilot API datasource authenticates with one custom HTTP header, ``Authorization: Bearer
${COPILOT_API_TOKEN}``, stored in ``secureJsonData`` (encrypted by Grafana, never sent to
browsers). A custom header rather than Infinity's own ``bearerToken`` auth because both paths
that reach the API honour it: the Infinity backend for the panels' queries
(``httpHeaderName<n>``/``httpHeaderValue<n>`` in its settings) and Grafana's data source proxy,
which the "Create Behaviour Profile" action posts through (Grafana's HTTP client adds a
datasource's custom headers to every proxied request); Infinity's ``bearerToken`` would not be
added by the proxy. With the API in AWS_IAM mode (or the local stack) leave COPILOT_API_TOKEN
unset: the header is then ``Bearer `` and ignored.
"""

from __future__ import annotations

from typing import Any

from temporal_dsql_dashboards._panels import BUSINESS_TEXT_PLUGIN, COPILOT, INFINITY_PLUGIN, PROMETHEUS

__all__ = ["API_TOKEN_ENV", "REQUIRED_PLUGINS", "dashboard_providers", "datasources"]

API_TOKEN_ENV = "COPILOT_API_TOKEN"
"""Grafana's environment variable holding the profile/status API's bearer token (token mode)."""

REQUIRED_PLUGINS: tuple[str, ...] = (INFINITY_PLUGIN, BUSINESS_TEXT_PLUGIN)
"""Install with GF_INSTALL_PLUGINS (comma-separated)."""


def datasources() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                # The dashboards' datasource variables default to this name and uid.
                "name": PROMETHEUS.name,
                "uid": PROMETHEUS.uid,
                "type": "prometheus",
                "access": "proxy",
                "isDefault": True,
                # https://aps-workspaces.<region>.amazonaws.com/workspaces/<id> (no /api/v1 suffix)
                "url": "${AMP_QUERY_URL}",
                "jsonData": {
                    "httpMethod": "POST",
                    "sigV4Auth": True,
                    "sigV4AuthType": "default",
                    "sigV4Region": "${AWS_REGION}",
                    "timeInterval": "15s",
                },
                "editable": False,
            },
            {
                "name": COPILOT.name,
                "uid": COPILOT.uid,
                "type": INFINITY_PLUGIN,
                "access": "proxy",
                # The status API base URL; panels use paths relative to it (/status, /status/summary ...).
                "url": "${COPILOT_API_URL}",
                "jsonData": {
                    "allowedHosts": ["${COPILOT_API_URL}"],
                    "auth_method": "none",
                    "httpHeaderName1": "Authorization",
                    "timeoutInSeconds": 10,
                },
                "secureJsonData": {
                    # The API's token auth mode (temporal_dsql_copilot.api.auth); see the module docstring.
                    "httpHeaderValue1": "Bearer ${" + API_TOKEN_ENV + "}",
                },
                "editable": False,
            },
        ],
    }


def dashboard_providers() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "temporal-dsql",
                "orgId": 1,
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {
                    # Mount grafana/dashboards here; sub-directories become folders
                    # (copilot, server, dsql, workers).
                    "path": "/var/lib/grafana/dashboards",
                    "foldersFromFilesStructure": True,
                },
            }
        ],
    }
