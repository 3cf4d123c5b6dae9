"""Item 4 (LLM side): secret values never reach the explainer model.

The same generated secrets as ``test_secrets`` (secret names the profile registry knows, common
names such as ``DB_PASS`` or ``SSH_KEY``, credential-shaped values under any name) are put where the
copilot's explainer input comes from: a baseline/latest profile comparison whose config changes
carry them (turned into correlations by ``correlate_config_changes``, as the baseline loop does),
log sample lines and log patterns, and knowledge passages (in the prompt and behind
``search_runbooks``). The prompt is built with ``build_prompt`` and the explainer agent run as the
assess workflow runs it, on a ``FunctionModel`` that records everything it is sent and calls both
tools so their results pass through it. The assessment is then finalized and saved as the workflow
does. No secret may appear in what the model saw, in the copilot's stored rows (assessment, issues)
or in a log line.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from reliability_results import ReliabilityRow, budget  # type: ignore[import-not-found]
from test_secrets import draw_secret_config  # type: ignore[import-not-found]
from whenever import Instant

from copilot_snapshots import stressed_mid_snapshot  # type: ignore[import-not-found]
from temporal_dsql_copilot.assessment import (
    AssessmentContext,
    AssessmentTrigger,
    build_prompt,
    finalize_assessment,
)
from temporal_dsql_copilot.assessment.agent import ExplainerDeps, explainer_agent, register_runbook_retriever
from temporal_dsql_copilot.health import (
    MachineState,
    ScaleBand,
    assess_workers,
    evaluate,
    service_health,
    thresholds_for,
)
from temporal_dsql_copilot.knowledge.base import KnowledgeChunk
from temporal_dsql_copilot.loop.drift import correlate_config_changes
from temporal_dsql_copilot.narrative.patterns import Correlation
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.signals import LogPatternCount
from temporal_dsql_copilot.store import StateStore
from temporal_dsql_core.metric_catalog import MetricGroup
from temporal_dsql_profiles.models import ComparisonThresholds, ConfigDiff, ProfileComparison, TelemetryDiff
from temporal_dsql_standins import PostgresServer

pytestmark = pytest.mark.standins

COMMON_NAMES = st.from_regex(r"[A-Z][A-Z_]{2,20}", fullmatch=True)


class _Retriever:
    """The knowledge base's answer carries the secrets too (a runbook someone pasted a DSN into)."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    async def retrieve(self, query: str, top_k: int = 5) -> list[KnowledgeChunk]:
        return [KnowledgeChunk(text=t, source="runbooks/leaky.md") for t in self.texts][:top_k]


class _Recorder:
    """A model that calls both tools once, then answers; it keeps every message it was sent."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.seen += [repr(m) for m in messages]
        self.seen += [info.instructions or ""]
        returned = [p for m in messages for p in m.parts if isinstance(p, ToolReturnPart)]
        if not returned:
            return ModelResponse(parts=[
                ToolCallPart("signal_history", {"name": "persistence_latency_p99_ms"}),
                ToolCallPart("search_runbooks", {"query": "DSQL connection credentials"})])
        return ModelResponse(parts=[ToolCallPart("final_result", {"summary": "explained"})]) \
            if "final_result" in {t.name for t in info.output_tools} else ModelResponse(parts=[TextPart("explained")])


def _context(config: dict[str, Any], lines: list[str], passages: list[str]) -> AssessmentContext:
    snap = stressed_mid_snapshot()
    ev = evaluate(MachineState(band=ScaleBand.MID), snap)
    workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
    comparison = ProfileComparison(
        profile_a_id="a", profile_b_id="b", thresholds=ComparisonThresholds(), version_diffs=[],
        config_diffs=[ConfigDiff(section="server_env", key=k, change="changed", old_value="old", new_value=v)
                      for k, v in config.items()],
        telemetry_diffs=[TelemetryDiff(metric="persistence_latency_p99", group=MetricGroup.LATENCY, unit="ms",
                                       old_value=None, new_value=None, change_pct=80.0, direction="regressed",
                                       severity="critical")])
    return AssessmentContext(
        trigger=AssessmentTrigger.STATE_CHANGE, evaluation=ev, workers=workers,
        services=service_health(ev, workers), snapshot=snap, window=[snap],
        log_patterns=[LogPatternCount(pattern=line, service="history", count=3) for line in lines],
        log_samples=lines,
        log_correlations=[Correlation(anomaly_at=snap.observed_at, anomaly=line, pattern=line, service="history",
                                      count=2, distance_seconds=5.0) for line in lines],
        knowledge=[KnowledgeChunk(text=p, source="runbooks/leaky.md") for p in passages],
        correlations=correlate_config_changes(comparison))


_SEEN = {"runs": 0, "secrets": 0}


async def _stored_rows(postgres: PostgresServer, assessment: Any) -> str:
    """Save as the assess workflow does (its own cluster id) and read back every row it wrote."""
    cluster = f"secrets-{uuid.uuid4().hex[:8]}"
    store = await StateStore.connect(CopilotSettings(
        dsql_endpoint=postgres.host, dsql_port=postgres.port, dsql_user=postgres.user,
        dsql_database=postgres.database, dsql_password=postgres.password), max_size=2)  # type: ignore[arg-type]
    try:
        await store.setup_schema()
        store = StateStore(pool=store.pool, cluster_id=cluster, dialect=store.dialect)
        assert await store.save_assessment(assessment)
    finally:
        await store.close()
    conn = await asyncpg.connect(postgres.dsn)
    try:
        rows = []
        for table in ("copilot_assessments", "copilot_issues"):
            rows += await conn.fetch(f"SELECT * FROM {table} WHERE cluster_id = $1", cluster)
        assert rows, "the assessment row must have been written"
        return "\n".join(repr(dict(r)) for r in rows)
    finally:
        await conn.close()


@settings(max_examples=budget(ci=5, full=60), deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_secrets_never_reach_the_explainer_model(data: st.DataObject, postgres_server: PostgresServer,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    config, secrets_ = draw_secret_config(data, COMMON_NAMES)
    lines = [f"{k}={v}" for k, v in config.items()] + [f'config {{"{k}": "{v}"}}' for k, v in config.items()]
    recorder = _Recorder()
    ctx = _context(config, lines, lines)
    register_runbook_retriever(_Retriever(lines))
    try:
        with caplog.at_level(logging.DEBUG):
            result = await explainer_agent.run(build_prompt(ctx), model=FunctionModel(recorder),
                                               deps=ExplainerDeps(window=ctx.window))
    finally:
        register_runbook_retriever(None)
        assessment = finalize_assessment(ctx, result.output, workflow_id=f"wf-{uuid.uuid4()}", sequence=1,
                                         assessed_at=Instant.now().format_iso(), explained_by="llm")
        rows = await _stored_rows(postgres_server, assessment)
    assert result.output.summary == "explained"
    seen = "\n".join(recorder.seen)
    assert "signal_history" in seen and "runbooks/leaky.md" in seen, "both tools' results must reach the model"
    _SEEN["runs"] += 1
    _SEEN["secrets"] += len(secrets_)
    places = {"model input": seen, "stored rows": rows, "log lines": caplog.text}
    for secret in secrets_:
        leaks = [where for where, text in places.items() if secret in text]
        assert not leaks, f"secret {secret!r} ({config}) found in {leaks}"


def test_secrets_llm_summary(reliability: ReliabilityRow) -> None:
    """Runs after the property: its row for the table."""
    reliability.test = "secrets never reach the LLM"
    reliability.load = f"{_SEEN['runs']} explainer runs carrying {_SEEN['secrets']} secrets"
    reliability.faults = "secret names + credential-shaped values in config, logs, runbooks"
    assert _SEEN["runs"] > 0
