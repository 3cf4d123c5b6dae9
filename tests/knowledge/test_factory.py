"""temporal_dsql_copilot.knowledge.factory.build_retriever: Bedrock with a knowledge base id, local otherwise."""

from __future__ import annotations

from pathlib import Path

import boto3
from botocore.stub import Stubber

from temporal_dsql_copilot.knowledge.bedrock import BedrockKnowledgeRetriever
from temporal_dsql_copilot.knowledge.factory import build_retriever
from temporal_dsql_copilot.knowledge.local import LocalKnowledgeRetriever
from temporal_dsql_copilot.settings import CopilotSettings

CORPUS_DIR = Path(__file__).resolve().parents[2] / "docs" / "knowledge"


async def test_bedrock_when_a_knowledge_base_is_configured() -> None:
    client = boto3.client("bedrock-agent-runtime", region_name="eu-west-1")
    retriever = build_retriever(CopilotSettings(kb_id="KBABCDEF12", aws_region="eu-west-1"), bedrock_client=client)
    assert isinstance(retriever, BedrockKnowledgeRetriever) and retriever.kb_id == "KBABCDEF12"
    with Stubber(client) as stubber:
        stubber.add_response("retrieve", {"retrievalResults": [
            {"content": {"text": "Spread hot rows."}, "location": {"type": "S3", "s3Location": {
                "uri": "s3://b/knowledge/dsql-occ-conflicts.md"}}, "score": 0.7}]})
        chunks = await retriever.retrieve("occ")
    assert [c.source for c in chunks] == ["s3://b/knowledge/dsql-occ-conflicts.md"]


def test_local_corpus_otherwise() -> None:
    retriever = build_retriever(CopilotSettings(kb_id=None), corpus_dir=CORPUS_DIR)
    assert isinstance(retriever, LocalKnowledgeRetriever) and retriever.corpus_dir == CORPUS_DIR
