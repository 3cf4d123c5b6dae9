"""Fixtures for the knowledge base: the real corpus, the real embedding model, moto_server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from temporal_dsql_copilot.knowledge.embedding import MiniLMEmbedder
from temporal_dsql_copilot.knowledge.local import LocalKnowledgeRetriever

CORPUS_DIR = Path(__file__).resolve().parents[2] / "docs" / "knowledge"


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def retriever(embedder: MiniLMEmbedder) -> LocalKnowledgeRetriever:
    return LocalKnowledgeRetriever(CORPUS_DIR, embedder=embedder)


@pytest.fixture(scope="session")
def kb_moto_endpoint(moto_server: Any) -> str:
    """The session's shared moto_server (tests/conftest.py); tests use their own bucket names."""
    return str(moto_server.endpoint_url)


@pytest.fixture(autouse=True)
def _dummy_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
