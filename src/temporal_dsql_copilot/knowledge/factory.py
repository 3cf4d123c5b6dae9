"""Pick the copilot's knowledge retriever from its settings.

With `COPILOT_KB_ID` set, the Bedrock knowledge base answers (what ECS runs); without it, the
local embedding retriever over docs/knowledge/ does (local runs, the demo, tests). Both satisfy
`KnowledgeRetriever`, so the assessment code does not know which one it has.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporal_dsql_copilot.knowledge.base import KnowledgeRetriever

__all__ = ["build_retriever"]


def build_retriever(settings: Any, *, corpus_dir: Path | None = None, bedrock_client: Any = None) -> KnowledgeRetriever:
    """`settings` is a temporal_dsql_copilot.settings.CopilotSettings (kb_id, aws_region are read)."""
    kb_id = getattr(settings, "kb_id", None)
    if kb_id:
        from temporal_dsql_copilot.knowledge.bedrock import BedrockKnowledgeRetriever

        return BedrockKnowledgeRetriever(kb_id, client=bedrock_client, region=getattr(settings, "aws_region", None))
    from temporal_dsql_copilot.knowledge.local import LocalKnowledgeRetriever

    return LocalKnowledgeRetriever(corpus_dir)
