"""The dashboard's "Create Behaviour Profile" action, run in headless Chromium against the real API.

The request template and the panel script are taken out of the generated dashboard JSON, the
variables are interpolated with Grafana's own variable syntax (``${__from}``/``${__to}`` as epoch
milliseconds), and the page is served from a different origin than the API (uvicorn under
`copilot dev up`, shared with the status-API test), so a direct call really performs the CORS
preflight. The default route goes through Grafana's data source proxy (a stand-in in conftest that
reads the generated provisioning, since Grafana cannot run here) to a second API over the same
stores in the ``token`` auth mode: the token comes from the provisioning's environment variable,
never from the page.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from whenever import Instant, TimeDelta

from temporal_dsql_dashboards._panels import COPILOT
from temporal_dsql_dashboards.browser import Browser
from temporal_dsql_dashboards.copilot_dashboard import copilot_dashboard
from temporal_dsql_dashboards.profile_action import (
    DATASOURCE_PROXY_PATH,
    GRAFANA_401_BODY,
    extract_request_template,
    interpolate,
)
from temporal_dsql_dashboards.provisioning import API_TOKEN_ENV
from temporal_dsql_devstack.stack import CLUSTER_ID
from temporal_dsql_standins._process import ManagedProcess, free_port

if TYPE_CHECKING:
    from conftest import AssessedStack, PageServer

pytestmark = pytest.mark.standins

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "out" / "grafana-create-profile.png"

# Grafana's variable syntax (public/app/features/variables/utils.ts, variableRegex).
_HARNESS = """<!doctype html>
<html><head><meta charset="utf-8"><title>Create Behaviour Profile</title>
<style>body {{ font-family: sans-serif; background: #181b1f; color: #ccccdc; padding: 16px; }} {styles}</style>
</head><body>
<h3>{title}</h3>
<div id="panel">{content}</div>
<script>
const variables = {variables};
const variableRegex = /\\$(\\w+)|\\[\\[(\\w+?)(?::(\\w+))?\\]\\]|\\$\\{{(\\w+)(?:\\.([^:^\\}}]+))?(?::([^\\}}]+))?\\}}/g;
function replaceVariables(text) {{
  return text.replace(variableRegex, (match, var1, var2, fmt2, var3) => {{
    const name = var1 || var2 || var3;
    return Object.prototype.hasOwnProperty.call(variables, name) ? String(variables[name]) : match;
  }});
}}
const context = {{ element: document.getElementById('panel'), grafana: {{ replaceVariables }} }};
new Function('context', {after_render})(context);
</script></body></html>
"""


def _panel() -> dict:
    return next(p for p in copilot_dashboard()["panels"] if p["title"] == "Create Behaviour Profile")


@dataclass
class Harness:
    api_url: str
    allowed: PageServer
    foreign: PageServer
    healthy_window: tuple[Instant, Instant]


@pytest.fixture(scope="module")
def harness(assessed_stack: AssessedStack) -> Harness:
    start, end = assessed_stack.env["COPILOT_DEV_HEALTHY_WINDOW"].split("/")
    return Harness(assessed_stack.api_url, assessed_stack.allowed, assessed_stack.foreign,
                   (Instant.parse_iso(start), Instant.parse_iso(end)))


@dataclass
class TokenApi:
    url: str
    token: str


@pytest.fixture(scope="module")
def token_api(assessed_stack: AssessedStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenApi]:
    """The same API app over the stack's stores, in the ``token`` auth mode (temporal_dsql_copilot.api.auth)."""
    token = secrets.token_urlsafe(24)
    port = free_port()
    env = {**assessed_stack.service_env, "PROFILES_AUTH_MODE": "token", "PROFILES_AUTH_TOKEN": token}
    process = ManagedProcess(
        name="api-token", port=port, log_file=tmp_path_factory.mktemp("api-token") / "api.log", env=env,
        argv=[sys.executable, "-m", "uvicorn", "temporal_dsql_copilot.api.app:create_app", "--factory",
              "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
    )
    process.start(ready_timeout=60)
    try:
        yield TokenApi(f"http://127.0.0.1:{port}", token)
    finally:
        process.stop()


def _page(start: Instant, end: Instant, *, namespace: str, api_url: str) -> str:
    """The panel in a page; ``api_url`` is the Profile API variable ("" = Grafana's datasource proxy)."""
    panel = _panel()
    variables = {
        "__from": str(int(start.timestamp(unit="millisecond"))), "__to": str(int(end.timestamp(unit="millisecond"))),
        "cluster_id": CLUSTER_ID, "namespace": namespace, "task_queue": ".*",
        "profile_api": api_url,
        # A datasource variable interpolates to the selected datasource's uid: the provisioned one.
        "copilot_datasource": COPILOT.uid,
    }
    return _HARNESS.format(styles=panel["options"]["styles"], title=panel["title"],
                           content=panel["options"]["content"], variables=json.dumps(variables),
                           after_render=json.dumps(panel["options"]["afterRender"]))


def _submit(browser: Browser, url: str, label: str) -> tuple[str, str]:
    browser.navigate(url)
    browser.wait_for("document.querySelector('.profile-form button') !== null")
    browser.evaluate(f"document.querySelector('.profile-form input').value = {json.dumps(label)}")
    browser.evaluate("document.querySelector('.profile-form button').click()")
    state = browser.wait_for(
        "['success', 'error'].includes(document.querySelector('.profile-result').dataset.state)"
        " && document.querySelector('.profile-result').dataset.state")
    return state, browser.evaluate("document.querySelector('.profile-result').textContent")


def test_template_in_the_dashboard_is_what_the_page_sends() -> None:
    template = extract_request_template(_panel()["options"]["afterRender"])
    assert template["time_window_start"] == "${__from}" and template["time_window_end"] == "${__to}"
    assert {"cluster_id", "namespace", "task_queue", "name"} <= set(template)


def test_create_profile_from_the_dashboard_in_chromium(harness: Harness) -> None:
    start, end = harness.healthy_window
    start, end = start + TimeDelta(minutes=5), end - TimeDelta(minutes=5)
    harness.allowed.pages["/ok"] = _page(start, end, namespace="default", api_url=harness.api_url)
    harness.allowed.pages["/too-long"] = _page(end - TimeDelta(hours=30), end, namespace="default",
                                               api_url=harness.api_url)
    harness.foreign.pages["/ok"] = _page(start, end, namespace="default", api_url=harness.api_url)
    with Browser(width=900, height=320) as browser:
        # Success: id and link shown; the stored profile has exactly the dashboard's time range.
        state, text = _submit(browser, f"{harness.allowed.origin}/ok", "from-grafana")
        assert state == "success", text
        profile_id = text.removeprefix("Profile created: ").split()[0]
        link = browser.evaluate("document.querySelector('.profile-result a').href")
        assert link == f"{harness.api_url}/profiles/{profile_id}"
        stored = httpx.get(link, timeout=10).json()
        assert stored["label"] == "from-grafana"
        assert stored["namespace"] == "default" and stored["task_queue"] is None  # "All" sends none
        assert stored["cluster_id"] == CLUSTER_ID
        assert Instant.parse_iso(stored["time_window_start"]).timestamp(unit="millisecond") == start.timestamp(unit="millisecond")
        assert Instant.parse_iso(stored["time_window_end"]).timestamp(unit="millisecond") == end.timestamp(unit="millisecond")

        # Failure: the API's problem-details message is shown verbatim.
        state, text = _submit(browser, f"{harness.allowed.origin}/too-long", "")
        assert state == "error", text
        problem = httpx.post(f"{harness.api_url}/profiles/", timeout=10, json={
            "name": "x", "cluster_id": CLUSTER_ID,
            "time_window_start": str(int((end - TimeDelta(hours=30)).timestamp(unit="millisecond"))),
            "time_window_end": str(int(end.timestamp(unit="millisecond")))})
        assert problem.status_code == 400
        assert text == f"Profile creation failed: {problem.json()['detail']}"
        SCREENSHOT.parent.mkdir(exist_ok=True)
        browser.screenshot(SCREENSHOT)
        print(f"\nscreenshot: {SCREENSHOT}")

        # CORS is enforced: a page from an origin the API does not allow cannot create profiles.
        state, text = _submit(browser, f"{harness.foreign.origin}/ok", "foreign")
        assert state == "error" and text.startswith("Profile API unreachable"), text
    listed = httpx.get(f"{harness.api_url}/profiles/", timeout=10).json()
    labels = [item["label"] for item in listed["items"]]
    assert labels.count("from-grafana") == 1 and "foreign" not in labels


def _window_ms(start: Instant, end: Instant) -> dict[str, str]:
    return {"time_window_start": str(int(start.timestamp(unit="millisecond"))),
            "time_window_end": str(int(end.timestamp(unit="millisecond")))}


def test_token_mode_through_grafanas_datasource_proxy(harness: Harness, token_api: TokenApi) -> None:
    """Token mode end to end: the provisioned datasource adds the token for the panels' reads and the
    action; without it Grafana's 401 rewrite is explained; a direct call shows the API's 401 detail."""
    start, end = harness.healthy_window
    start, end = start + TimeDelta(minutes=10), end - TimeDelta(minutes=10)
    allowed = harness.allowed
    proxy = f"{allowed.origin}{interpolate(DATASOURCE_PROXY_PATH, {'copilot_datasource': COPILOT.uid})}"
    # The dashboard never carries a token: the action has to go through the datasource.
    assert token_api.token not in json.dumps(copilot_dashboard())
    allowed.pages["/grafana"] = _page(start, end, namespace="default", api_url="")
    allowed.pages["/grafana-too-long"] = _page(end - TimeDelta(hours=30), end, namespace="default", api_url="")
    allowed.pages["/direct-token"] = _page(start, end, namespace="default", api_url=token_api.url)

    # Grafana configured as documented: COPILOT_API_URL + COPILOT_API_TOKEN.
    allowed.grafana_env = {"COPILOT_API_URL": token_api.url, API_TOKEN_ENV: token_api.token}
    status = httpx.get(f"{proxy}/status", timeout=10)  # what the panels' Infinity queries send
    assert status.status_code == 200, status.text
    assert status.json()["health_state"] in ("stressed", "critical")
    with Browser(width=900, height=320) as browser:
        state, text = _submit(browser, f"{allowed.origin}/grafana", "via-grafana")
        assert state == "success", text
        profile_id = text.removeprefix("Profile created: ").split()[0]
        link = browser.evaluate("document.querySelector('.profile-result a').href")
        assert link == f"{proxy}/profiles/{profile_id}"
        stored = httpx.get(link, timeout=10).json()  # "View profile" works through Grafana too
        assert stored["label"] == "via-grafana" and stored["cluster_id"] == CLUSTER_ID
        posts = [headers for method, url, headers in allowed.proxied if method == "POST"]
        assert posts and posts[-1]["Authorization"] == f"Bearer {token_api.token}"

        # An API error passes through Grafana's proxy unchanged: the problem detail is shown.
        state, text = _submit(browser, f"{allowed.origin}/grafana-too-long", "")
        too_long = httpx.post(f"{token_api.url}/profiles/", timeout=10,
                              headers={"Authorization": f"Bearer {token_api.token}"},
                              json={"name": "x", "cluster_id": CLUSTER_ID, **_window_ms(end - TimeDelta(hours=30), end)})
        assert too_long.status_code == 400
        assert (state, text) == ("error", f"Profile creation failed: {too_long.json()['detail']}")

        # Grafana without the token: the API says 401, Grafana answers 400 with its own fixed text,
        # and the panel says what to configure.
        allowed.grafana_env = {"COPILOT_API_URL": token_api.url}
        unauthorised = httpx.get(f"{proxy}/status", timeout=10)
        assert (unauthorised.status_code, unauthorised.text) == (400, GRAFANA_401_BODY)
        state, text = _submit(browser, f"{allowed.origin}/grafana", "no-token")
        assert state == "error", text
        assert "401 Unauthorized" in text and API_TOKEN_ENV in text, text

        # Directly from the browser there is no token: the API's own 401 problem detail is shown.
        state, text = _submit(browser, f"{allowed.origin}/direct-token", "direct-no-token")
        problem = httpx.post(f"{token_api.url}/profiles/", timeout=10,
                             json={"name": "x", "cluster_id": CLUSTER_ID, **_window_ms(start, end)})
        assert problem.status_code == 401
        assert (state, text) == ("error", f"Profile creation failed: {problem.json()['detail']}")
    listed = httpx.get(f"{token_api.url}/profiles/", timeout=10,
                       headers={"Authorization": f"Bearer {token_api.token}"}).json()
    labels = [item["label"] for item in listed["items"]]
    assert labels.count("via-grafana") == 1
    assert "no-token" not in labels and "direct-no-token" not in labels
