"""Knowledge-base retrieval for the copilot's explanations."""

from temporal_dsql_copilot.knowledge.base import KnowledgeChunk, KnowledgeRetriever

__all__ = ["KnowledgeChunk", "KnowledgeRetriever"]
