"""The retrieval contract between the assessment agent and any knowledge base.

Bedrock Knowledge Bases (``temporal_dsql_copilot.knowledge.bedrock``) and the local embedding retriever over
``docs/knowledge/`` both implement :class:`KnowledgeRetriever`; the agent only sees this protocol.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["KnowledgeChunk", "KnowledgeRetriever"]


class KnowledgeChunk(BaseModel):
    """One retrieved passage, with where it came from and how relevant the retriever judged it."""

    model_config = ConfigDict(frozen=True)

    text: str
    source: str
    """A path under docs/knowledge/ or an s3:// URI."""
    score: float = Field(default=0.0)
    """Higher is more relevant; only comparable between chunks from the same retriever."""
    title: str | None = None


@runtime_checkable
class KnowledgeRetriever(Protocol):
    """Anything that returns the passages most relevant to a query, best first."""

    async def retrieve(self, query: str, top_k: int = 5) -> list[KnowledgeChunk]: ...
