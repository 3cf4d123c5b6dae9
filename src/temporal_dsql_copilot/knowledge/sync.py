"""`copilot kb sync`: upload docs/knowledge/ to the knowledge base's S3 source bucket.

Only changed documents are uploaded (an object's MD5 ETag is compared with the file's MD5),
objects under the prefix that no longer have a document are deleted, and, when a knowledge base
and data source are given, a Bedrock ingestion job is started so the knowledge base re-indexes
without restarting the copilot (copilot Requirement 3.5). The copilot CLI calls `sync_corpus`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from temporal_dsql_copilot.knowledge.errors import KnowledgeBaseError, KnowledgeSyncError

__all__ = ["DEFAULT_PREFIX", "SyncReport", "corpus_files", "sync_corpus"]

DEFAULT_PREFIX = "knowledge/"


@dataclass
class SyncReport:
    bucket: str
    prefix: str
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    ingestion_job_id: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.uploaded or self.deleted)


def corpus_files(corpus_dir: Path) -> dict[str, Path]:
    """Relative key -> file, for every markdown document of the corpus (README excluded)."""
    if not corpus_dir.is_dir():
        raise KnowledgeSyncError(f"corpus directory {corpus_dir} does not exist", field="corpus_dir",
                                 suggestion="Pass the path of docs/knowledge/.")
    files = {path.relative_to(corpus_dir).as_posix(): path for path in sorted(corpus_dir.rglob("*.md"))
             if path.name.lower() != "readme.md"}
    if not files:
        raise KnowledgeSyncError(f"no markdown documents under {corpus_dir}", field="corpus_dir",
                                 suggestion="Add documents to docs/knowledge/ first.")
    return files


def _existing_etags(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    etags: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            etags[item["Key"]] = str(item["ETag"]).strip('"')
    return etags


def sync_corpus(corpus_dir: Path, bucket: str, *, s3_client: Any, prefix: str = DEFAULT_PREFIX,
                delete_stale: bool = True, bedrock_agent_client: Any = None, kb_id: str | None = None,
                data_source_id: str | None = None) -> SyncReport:
    """Make s3://bucket/prefix mirror the corpus; start ingestion when anything changed."""
    if not bucket:
        raise KnowledgeSyncError("no knowledge-base bucket given", field="bucket",
                                 suggestion="Set COPILOT_KB_BUCKET (an output of `copilot dev infra apply`).")
    if (kb_id is None) != (data_source_id is None):
        raise KnowledgeSyncError("kb_id and data_source_id go together", field="data_source_id",
                                 suggestion="Give both to start an ingestion job, or neither.")
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    files = corpus_files(corpus_dir)
    report = SyncReport(bucket=bucket, prefix=prefix)
    try:
        existing = _existing_etags(s3_client, bucket, prefix)
        for relative, path in files.items():
            key = prefix + relative
            body = path.read_bytes()
            if existing.get(key) == hashlib.md5(body, usedforsecurity=False).hexdigest():
                report.unchanged.append(key)
                continue
            s3_client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/markdown; charset=utf-8")
            report.uploaded.append(key)
        if delete_stale:
            wanted = {prefix + relative for relative in files}
            for key in sorted(set(existing) - wanted):
                s3_client.delete_object(Bucket=bucket, Key=key)
                report.deleted.append(key)
        if kb_id and data_source_id and report.changed:
            if bedrock_agent_client is None:
                import boto3

                bedrock_agent_client = boto3.client("bedrock-agent")
            job = bedrock_agent_client.start_ingestion_job(knowledgeBaseId=kb_id, dataSourceId=data_source_id,
                                                           description="copilot kb sync")
            report.ingestion_job_id = job["ingestionJob"]["ingestionJobId"]
    except (ClientError, BotoCoreError) as exc:
        raise KnowledgeBaseError(f"knowledge-base sync to s3://{bucket}/{prefix} failed: {exc}") from exc
    return report
