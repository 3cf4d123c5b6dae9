"""The dashboard's "Create Behaviour Profile" action, run in headless Chromium against the real API.

The request template and the panel script are taken out of the generated dashboard JSON, the
variables are interpolated with Grafana's own variable syntax (``${__from}``/``${__to}`` as epoch
milliseconds), and the page is served from a different origin than the API (uvicorn under
`copilot dev up`, shared with the status-API test), so the browser really performs the CORS preflight.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from whenever import Instant, TimeDelta

from copilot.dev.stack import CLUSTER_ID
from copilot.grafana.browser import Browser
from copilot.grafana.copilot_dashboard import copilot_dashboard
from copilot.grafana.profile_action import extract_request_template

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


def _page(harness: Harness, start: Instant, end: Instant, *, namespace: str, api_url: str | None = None) -> str:
    panel = _panel()
    variables = {
        "__from": str(int(start.timestamp(unit="millisecond"))), "__to": str(int(end.timestamp(unit="millisecond"))),
        "cluster_id": CLUSTER_ID, "namespace": namespace, "task_queue": ".*",
        "profile_api": api_url or harness.api_url,
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
    harness.allowed.pages["/ok"] = _page(harness, start, end, namespace="default")
    harness.allowed.pages["/too-long"] = _page(harness, end - TimeDelta(hours=30), end, namespace="default")
    harness.foreign.pages["/ok"] = _page(harness, start, end, namespace="default")
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
