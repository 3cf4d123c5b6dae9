"""Bedrock knowledge-base administration behind `copilot kb ...` (bedrock-agent API).

Functions take the boto3 ``bedrock-agent`` client so tests drive them with botocore's Stubber
(moto does not implement these APIs).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from temporal_dsql_copilot.exceptions import CopilotError, CopilotInputError

__all__ = ["KnowledgeBaseAdminError", "kb_status", "list_ingestion_jobs", "start_ingestion"]


class KnowledgeBaseAdminError(CopilotError):
    """A Bedrock knowledge-base call failed."""


def _require(value: str | None, field: str, env: str) -> str:
    if not value:
        raise CopilotInputError(f"{field} is required.", field=field, suggestion=f"Pass --{field.replace('_', '-')} "
                                f"or set {env}.")
    return value


def _call(what: str, fn: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return dict(fn(**kwargs))
    except (BotoCoreError, ClientError) as exc:
        raise KnowledgeBaseAdminError(f"{what} failed: {exc}") from exc


def start_ingestion(client: Any, kb_id: str | None, data_source_id: str | None) -> dict[str, Any]:
    kb = _require(kb_id, "kb_id", "COPILOT_KB_ID")
    ds = _require(data_source_id, "data_source_id", "COPILOT_KB_DATA_SOURCE_ID")
    job = _call("StartIngestionJob", client.start_ingestion_job, knowledgeBaseId=kb, dataSourceId=ds)
    return dict(job["ingestionJob"])


def kb_status(client: Any, kb_id: str | None, *, data_source_id: str | None = None,
              job_id: str | None = None) -> dict[str, Any]:
    """The knowledge base's status, or one ingestion job's when ``job_id`` is given."""
    kb = _require(kb_id, "kb_id", "COPILOT_KB_ID")
    if job_id is not None:
        ds = _require(data_source_id, "data_source_id", "COPILOT_KB_DATA_SOURCE_ID")
        job = _call("GetIngestionJob", client.get_ingestion_job, knowledgeBaseId=kb, dataSourceId=ds,
                    ingestionJobId=job_id)
        return dict(job["ingestionJob"])
    return dict(_call("GetKnowledgeBase", client.get_knowledge_base, knowledgeBaseId=kb)["knowledgeBase"])


def list_ingestion_jobs(client: Any, kb_id: str | None, data_source_id: str | None, *,
                        max_results: int = 10) -> list[dict[str, Any]]:
    kb = _require(kb_id, "kb_id", "COPILOT_KB_ID")
    ds = _require(data_source_id, "data_source_id", "COPILOT_KB_DATA_SOURCE_ID")
    page = _call("ListIngestionJobs", client.list_ingestion_jobs, knowledgeBaseId=kb, dataSourceId=ds,
                 maxResults=max_results, sortBy={"attribute": "STARTED_AT", "order": "DESCENDING"})
    return [dict(j) for j in page.get("ingestionJobSummaries", [])]
