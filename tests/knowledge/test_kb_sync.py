"""temporal_dsql_copilot.knowledge.sync on moto S3 (ingestion-job call via botocore Stubber: moto has no bedrock-agent)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from temporal_dsql_copilot.knowledge.errors import KnowledgeBaseError, KnowledgeSyncError
from temporal_dsql_copilot.knowledge.sync import sync_corpus

CORPUS_DIR = Path(__file__).resolve().parents[2] / "docs" / "knowledge"


@pytest.fixture
def s3(kb_moto_endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=kb_moto_endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"kb-source-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(CORPUS_DIR, target)
    return target


def keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_sync_uploads_only_changes_and_deletes_stale(s3: Any, bucket: str, corpus: Path) -> None:
    documents = sorted(p.name for p in corpus.glob("*.md") if p.name != "README.md")
    s3.put_object(Bucket=bucket, Key="knowledge/retired.md", Body=b"# Old")
    s3.put_object(Bucket=bucket, Key="other/keep.txt", Body=b"not ours")

    first = sync_corpus(corpus, bucket, s3_client=s3)
    assert sorted(first.uploaded) == [f"knowledge/{d}" for d in documents]
    assert first.deleted == ["knowledge/retired.md"]
    assert keys(s3, bucket) == sorted([f"knowledge/{d}" for d in documents] + ["other/keep.txt"])
    body = s3.get_object(Bucket=bucket, Key="knowledge/dsql-occ-conflicts.md")["Body"].read()
    assert body == (corpus / "dsql-occ-conflicts.md").read_bytes()

    second = sync_corpus(corpus, bucket, s3_client=s3)
    assert second.uploaded == [] and second.deleted == [] and not second.changed
    assert len(second.unchanged) == len(documents)

    (corpus / "worker-tuning.md").write_text("# Worker tuning\n\nRewritten.\n")
    third = sync_corpus(corpus, bucket, s3_client=s3)
    assert third.uploaded == ["knowledge/worker-tuning.md"]


def test_sync_starts_an_ingestion_job_when_something_changed(s3: Any, bucket: str, corpus: Path) -> None:
    agent = boto3.client("bedrock-agent", region_name="us-east-1")
    with Stubber(agent) as stubber:
        stubber.add_response(
            "start_ingestion_job",
            {"ingestionJob": {"knowledgeBaseId": "KBABCDEF12", "dataSourceId": "DSABCDEF12", "ingestionJobId": "JOB42",
                              "status": "STARTING", "startedAt": "2026-11-22T00:00:00Z",
                              "updatedAt": "2026-11-22T00:00:00Z"}},
            {"knowledgeBaseId": "KBABCDEF12", "dataSourceId": "DSABCDEF12", "description": "copilot kb sync"})
        report = sync_corpus(corpus, bucket, s3_client=s3, bedrock_agent_client=agent, kb_id="KBABCDEF12",
                             data_source_id="DSABCDEF12")
        stubber.assert_no_pending_responses()
        # Nothing changed: no second ingestion job (the Stubber would fail on an unexpected call).
        again = sync_corpus(corpus, bucket, s3_client=s3, bedrock_agent_client=agent, kb_id="KBABCDEF12",
                            data_source_id="DSABCDEF12")
    assert report.ingestion_job_id == "JOB42"
    assert again.ingestion_job_id is None


def test_sync_input_errors(s3: Any, bucket: str, tmp_path: Path, corpus: Path) -> None:
    with pytest.raises(KnowledgeSyncError) as caught:
        sync_corpus(tmp_path / "absent", bucket, s3_client=s3)
    assert caught.value.field == "corpus_dir"
    (tmp_path / "empty").mkdir()
    with pytest.raises(KnowledgeSyncError, match="no markdown documents"):
        sync_corpus(tmp_path / "empty", bucket, s3_client=s3)
    with pytest.raises(KnowledgeSyncError) as caught:
        sync_corpus(corpus, "", s3_client=s3)
    assert caught.value.field == "bucket"
    with pytest.raises(KnowledgeSyncError) as caught:
        sync_corpus(corpus, bucket, s3_client=s3, kb_id="KBABCDEF12")
    assert caught.value.field == "data_source_id"


def test_missing_bucket_is_a_knowledge_base_error(s3: Any, corpus: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="NoSuchBucket"):
        sync_corpus(corpus, f"absent-{uuid.uuid4().hex[:8]}", s3_client=s3)
