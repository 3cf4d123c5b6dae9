"""The "Create Behaviour Profile" action of the copilot dashboard (config Requirement 14).

How it works in Grafana: a Business Text panel (plugin ``marcusolsson-dynamictext-panel``) runs
``AFTER_RENDER_JS`` after it renders. The script builds a small form with DOM calls (so Grafana's
HTML sanitizer has nothing to strip), and on submit POSTs the request template below to
``<api>/profiles/``. Values come from ``context.grafana.replaceVariables``, i.e. Grafana's own
interpolation: ``${__from}``/``${__to}`` are the dashboard time range in epoch milliseconds,
``${namespace}``/``${task_queue}`` the selected variables (``.*`` = "All" = none).

Where ``<api>`` is (the ``profile_api`` dashboard variable):

* empty (the default): Grafana's data source proxy for the "Copilot API" datasource,
  ``/api/datasources/proxy/uid/${copilot_datasource}`` (provisioned: ``copilot-api``). Grafana forwards the call to the datasource URL and
  adds the datasource's custom header ``Authorization: Bearer ${COPILOT_API_TOKEN}`` from its
  encrypted ``secureJsonData`` (see ``provisioning.py``), so the profile API's ``token`` auth mode
  works and the token never reaches a viewer's browser. The call is same-origin, so no CORS.
  Grafana turns an upstream 401 into a 400 whose body is only "Authentication to data source
  failed" (``pkg/api/pluginproxy/ds_proxy.go``); the panel explains that case instead of the
  API's own message, which Grafana drops.
* a URL: the browser calls that API directly (CORS preflight; the Lambda Function URL and the
  local uvicorn answer it). No credentials are sent, so this suits only an API that needs none
  from the browser (the local stack); a token-mode API answers 401 and the panel shows its
  problem ``detail``.

On success the panel shows the profile id and a link to it (through the same route); on failure
the API's RFC 7807 ``detail`` (or ``title``) verbatim.

``REQUEST_TEMPLATE`` is kept in the dashboard JSON (panel option ``afterRender``, between the
``TEMPLATE`` markers) so a test can take it out, interpolate it the way Grafana does and send it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from temporal_dsql_dashboards._panels import COPILOT_DATASOURCE

__all__ = [
    "AFTER_RENDER_JS",
    "DATASOURCE_PROXY_PATH",
    "GRAFANA_401_BODY",
    "PANEL_STYLES",
    "REQUEST_TEMPLATE",
    "TEMPLATE_BEGIN",
    "TEMPLATE_END",
    "extract_request_template",
    "interpolate",
]

# Field names are the profile API's CreateProfileRequest.
REQUEST_TEMPLATE: dict[str, str] = {
    "name": "grafana-${cluster_id}-${__from}-${__to}",
    "cluster_id": "${cluster_id}",
    "time_window_start": "${__from}",
    "time_window_end": "${__to}",
    "namespace": "${namespace}",
    "task_queue": "${task_queue}",
}
# POSTed to <api>/profiles/: the router's canonical path (with the slash, so no redirect happens
# inside the request). <api> is ${profile_api} when set, else Grafana's data source proxy.
API_TEMPLATE = "${profile_api}"
DATASOURCE_PROXY_PATH = f"/api/datasources/proxy/uid/{COPILOT_DATASOURCE['uid']}"
"""Grafana's data source proxy route for the datasource the ``copilot_datasource`` variable selects
(under Grafana's sub-path); the script interpolates the variable, a datasource variable's value
being the datasource's uid."""
GRAFANA_401_BODY = "Authentication to data source failed"
"""The whole body Grafana's data source proxy answers (as HTTP 400) when the upstream says 401."""

TEMPLATE_BEGIN = "/* TEMPLATE BEGIN */"
TEMPLATE_END = "/* TEMPLATE END */"

AFTER_RENDER_JS = (
    "// Create Behaviour Profile: POST the dashboard time range and variables to the profile API.\n"
    "const root = context.element.querySelector('[data-profile-action]') || context.element;\n"
    "const vars = (s) => context.grafana.replaceVariables(s);\n"
    f"const template = {TEMPLATE_BEGIN}{json.dumps(REQUEST_TEMPLATE, sort_keys=True)}{TEMPLATE_END};\n"
    f"const apiTemplate = {json.dumps(API_TEMPLATE)};\n"
    "// Default route: Grafana's data source proxy, which adds the datasource's bearer token\n"
    "// (secureJsonData, never sent to browsers). Grafana may live under a sub-path (appSubUrl).\n"
    "const boot = window.grafanaBootData || {};\n"
    "const subUrl = ((boot.settings || {}).appSubUrl || '').replace(/\\/+$/, '');\n"
    f"const proxyPath = {json.dumps(DATASOURCE_PROXY_PATH)};\n"
    f"const grafana401 = {json.dumps(GRAFANA_401_BODY)};\n"
    "const noneIfAll = (v) => (v === '' || v === '.*' || v === '$__all' || v === 'All') ? null : v;\n"
    "root.replaceChildren();\n"
    "const form = document.createElement('form');\n"
    "form.className = 'profile-form';\n"
    "const input = document.createElement('input');\n"
    "input.type = 'text'; input.name = 'label'; input.placeholder = 'label (optional)';\n"
    "input.setAttribute('aria-label', 'Profile label');\n"
    "const button = document.createElement('button');\n"
    "button.type = 'submit'; button.textContent = 'Create Behaviour Profile';\n"
    "const result = document.createElement('div');\n"
    "result.className = 'profile-result'; result.setAttribute('role', 'status');\n"
    "form.append(input, button);\n"
    "root.append(form, result);\n"
    "const show = (kind, nodes) => { result.dataset.state = kind; result.replaceChildren(...nodes); };\n"
    "form.addEventListener('submit', async (event) => {\n"
    "  event.preventDefault();\n"
    "  const body = {};\n"
    "  for (const [key, value] of Object.entries(template)) { body[key] = noneIfAll(vars(value)); }\n"
    "  body.label = input.value.trim() || null;\n"
    "  const direct = vars(apiTemplate).trim().replace(/\\/+$/, '');\n"
    "  const viaGrafana = direct === '' || direct === apiTemplate;\n"
    "  const api = viaGrafana ? subUrl + vars(proxyPath) : direct;\n"
    "  const url = api + '/profiles/';\n"
    "  button.disabled = true;\n"
    "  show('pending', [document.createTextNode('Creating profile…')]);\n"
    "  try {\n"
    "    const response = await fetch(url, {\n"
    "      method: 'POST',\n"
    "      // Through Grafana the session cookie authenticates the viewer; a direct call sends none.\n"
    "      credentials: viaGrafana ? 'same-origin' : 'omit',\n"
    "      headers: {'Content-Type': 'application/json', 'Accept': 'application/json, application/problem+json'},\n"
    "      body: JSON.stringify(body),\n"
    "    });\n"
    "    const text = await response.text();\n"
    "    let data = {};\n"
    "    try { data = JSON.parse(text) || {}; } catch (e) { data = {}; }\n"
    "    if (response.ok && data.id) {\n"
    "      const link = document.createElement('a');\n"
    "      link.href = new URL(api + '/profiles/' + encodeURIComponent(data.id), window.location.href).href;\n"
    "      link.target = '_blank'; link.rel = 'noopener';\n"
    "      link.textContent = 'View profile';\n"
    "      show('success', [document.createTextNode('Profile created: ' + data.id + ' '), link]);\n"
    "    } else {\n"
    "      let message = data.detail || data.title || data.message || text.trim() "
    "|| (response.status + ' ' + response.statusText);\n"
    "      if (viaGrafana && response.status === 400 && text.trim() === grafana401) {\n"
    "        // Grafana replaced the API's 401 problem details with this fixed text.\n"
    "        message = 'the profile API answered 401 Unauthorized to the Copilot API datasource '"
    " + '(Grafana does not pass its message on): set COPILOT_API_TOKEN in Grafana\\'s environment to '"
    " + 'the API token of this deployment and restart Grafana';\n"
    "      }\n"
    "      show('error', [document.createTextNode('Profile creation failed: ' + "
    "(typeof message === 'string' ? message : JSON.stringify(message)))]);\n"
    "    }\n"
    "  } catch (error) {\n"
    "    show('error', [document.createTextNode('Profile API unreachable at ' + api + ': ' + error.message)]);\n"
    "  } finally {\n"
    "    button.disabled = false;\n"
    "  }\n"
    "});\n"
)

PANEL_STYLES = """
.profile-form { display: flex; gap: 8px; align-items: center; }
.profile-form input { flex: 1; padding: 6px 8px; }
.profile-form button { padding: 6px 12px; background: #3d71d9; color: white; border: 0; border-radius: 2px; cursor: pointer; }
.profile-result { margin-top: 8px; }
.profile-result[data-state=success] { color: #73bf69; }
.profile-result[data-state=error] { color: #f2495c; }
""".strip()

_TEMPLATE_RE = re.compile(re.escape(TEMPLATE_BEGIN) + r"(.*?)" + re.escape(TEMPLATE_END), re.DOTALL)
_VARIABLE_RE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")


def extract_request_template(after_render: str) -> dict[str, str]:
    """The request template embedded in a panel's afterRender code."""
    match = _TEMPLATE_RE.search(after_render)
    if match is None:
        raise ValueError("afterRender code holds no request template markers")
    template = json.loads(match.group(1))
    if not isinstance(template, dict):
        raise ValueError("the request template is not a JSON object")
    return {str(k): str(v) for k, v in template.items()}


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Grafana's ``replaceVariables`` for the forms used here: ``$var``, ``${var}``, ``${var:raw}``.

    Unknown variables stay as written, as in Grafana.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        return variables.get(name, match.group(0))

    return _VARIABLE_RE.sub(replace, text)
