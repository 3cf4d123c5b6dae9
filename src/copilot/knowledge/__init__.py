"""Knowledge-base retrieval for the copilot's explanations."""

from copilot.knowledge.base import KnowledgeChunk, KnowledgeRetriever

__all__ = ["KnowledgeChunk", "KnowledgeRetriever"]
