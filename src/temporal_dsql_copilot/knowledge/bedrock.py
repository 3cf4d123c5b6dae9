"""A KnowledgeRetriever over an Amazon Bedrock knowledge base (bedrock-agent-runtime Retrieve).

The boto3 client is synchronous; calls run in a worker thread so the copilot's event loop (a
Temporal activity's) is never blocked. Results keep Bedrock's order and score, and are capped at
five documents (copilot Requirement 3.4).
"""

from __future__ import annotations

import asyncio
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from temporal_dsql_copilot.knowledge.base import KnowledgeChunk
from temporal_dsql_copilot.knowledge.errors import KnowledgeBaseError, KnowledgeQueryError
from temporal_dsql_copilot.knowledge.local import MAX_TOP_K

__all__ = ["BedrockKnowledgeRetriever"]


class BedrockKnowledgeRetriever:
    """Retrieve passages from the Bedrock knowledge base `kb_id`."""

    def __init__(self, kb_id: str, *, client: Any = None, region: str | None = None) -> None:
        if not kb_id or not kb_id.strip():
            raise KnowledgeQueryError("the knowledge base id is empty", field="kb_id",
                                      suggestion="Set COPILOT_KB_ID to the id `copilot dev infra apply` printed.")
        self.kb_id = kb_id.strip()
        if client is None:
            import boto3

            client = boto3.client("bedrock-agent-runtime", region_name=region)
        self._client = client

    def retrieve_sync(self, query: str, top_k: int = MAX_TOP_K) -> list[KnowledgeChunk]:
        if not query or not query.strip():
            raise KnowledgeQueryError("the query is empty", field="query",
                                      suggestion="Describe the signals or the question in words.")
        if not 1 <= top_k <= MAX_TOP_K:
            raise KnowledgeQueryError(f"top_k={top_k} is out of range", field="top_k",
                                      allowed=list(range(1, MAX_TOP_K + 1)),
                                      suggestion="Retrieval is limited to the five most relevant documents.")
        try:
            response = self._client.retrieve(
                knowledgeBaseId=self.kb_id,
                retrievalQuery={"text": query.strip()},
                retrievalConfiguration={"vectorSearchConfiguration": {"numberOfResults": top_k}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise KnowledgeBaseError(f"Bedrock Retrieve on knowledge base {self.kb_id} failed: {exc}") from exc
        chunks: list[KnowledgeChunk] = []
        for result in response.get("retrievalResults", []):
            text = (result.get("content") or {}).get("text")
            if not text:
                continue
            chunks.append(KnowledgeChunk(text=text, source=_source_of(result), score=float(result.get("score", 0.0)),
                                         title=(result.get("metadata") or {}).get("title")))
        return chunks[:top_k]

    async def retrieve(self, query: str, top_k: int = MAX_TOP_K) -> list[KnowledgeChunk]:
        return await asyncio.to_thread(self.retrieve_sync, query, top_k)


def _source_of(result: dict[str, Any]) -> str:
    location = result.get("location") or {}
    s3 = location.get("s3Location") or {}
    if s3.get("uri"):
        return str(s3["uri"])
    metadata = result.get("metadata") or {}
    return str(metadata.get("x-amz-bedrock-kb-source-uri") or location.get("type") or "bedrock")
