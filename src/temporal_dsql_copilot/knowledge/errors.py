"""Errors of the knowledge-base package: each names the field, the allowed values and a fix."""

from __future__ import annotations

from temporal_dsql_core.errors import InputError, TemporalDsqlError

__all__ = ["EmbeddingModelUnavailable", "KnowledgeBaseError", "KnowledgeQueryError", "KnowledgeSyncError"]


class KnowledgeQueryError(InputError):
    """A retrieval request that cannot be answered as asked (empty query, top_k out of range)."""


class EmbeddingModelUnavailable(InputError):
    """The local embedding model or its numpy runtime is not installed."""


class KnowledgeSyncError(InputError):
    """The corpus cannot be uploaded as asked (missing directory, no documents, bad bucket)."""


class KnowledgeBaseError(TemporalDsqlError):
    """A knowledge-base service call failed (Bedrock retrieve, S3 upload, ingestion job)."""
