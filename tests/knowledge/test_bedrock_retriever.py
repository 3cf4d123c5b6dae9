"""BedrockKnowledgeRetriever against the real bedrock-agent-runtime client with botocore Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from temporal_dsql_copilot.knowledge import KnowledgeRetriever
from temporal_dsql_copilot.knowledge.bedrock import BedrockKnowledgeRetriever
from temporal_dsql_copilot.knowledge.errors import KnowledgeBaseError, KnowledgeQueryError


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("bedrock-agent-runtime", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def result(text: str, uri: str, score: float) -> dict[str, Any]:
    return {"content": {"text": text}, "location": {"type": "S3", "s3Location": {"uri": uri}}, "score": score}


async def test_retrieve_maps_results_and_asks_for_top_k(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("retrieve", {"retrievalResults": [
        result("OCC conflicts happen at commit.", "s3://kb-src/knowledge/dsql-occ-conflicts.md", 0.81),
        result("Pollers fetch tasks.", "s3://kb-src/knowledge/worker-tuning.md", 0.42),
        {"content": {"text": ""}, "score": 0.1},  # empty passages are dropped
    ]}, expected_params={
        "knowledgeBaseId": "KB12345678",
        "retrievalQuery": {"text": "occ conflicts"},
        "retrievalConfiguration": {"vectorSearchConfiguration": {"numberOfResults": 3}},
    })
    retriever = BedrockKnowledgeRetriever("KB12345678", client=client)
    assert isinstance(retriever, KnowledgeRetriever)
    chunks = await retriever.retrieve("  occ conflicts ", top_k=3)
    assert [(c.source, c.score) for c in chunks] == [
        ("s3://kb-src/knowledge/dsql-occ-conflicts.md", 0.81), ("s3://kb-src/knowledge/worker-tuning.md", 0.42)]
    assert chunks[0].text == "OCC conflicts happen at commit."


def test_service_error_becomes_a_knowledge_base_error(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("retrieve", service_error_code="ResourceNotFoundException",
                             service_message="Knowledge base KBMISSING0 not found", http_status_code=404)
    with pytest.raises(KnowledgeBaseError) as caught:
        BedrockKnowledgeRetriever("KBMISSING0", client=client).retrieve_sync("conflicts")
    assert "KBMISSING0" in str(caught.value) and "ResourceNotFoundException" in str(caught.value)


def test_bad_arguments_are_refused_before_any_call(stubbed: tuple[Any, Stubber]) -> None:
    client, _ = stubbed
    with pytest.raises(KnowledgeQueryError) as caught:
        BedrockKnowledgeRetriever(" ", client=client)
    assert caught.value.field == "kb_id"
    with pytest.raises(KnowledgeQueryError) as caught:
        BedrockKnowledgeRetriever("KBABCDEF12", client=client).retrieve_sync("x", top_k=9)
    assert caught.value.field == "top_k"
