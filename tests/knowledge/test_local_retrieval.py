"""Local retrieval over docs/knowledge/ with real all-MiniLM-L6-v2 embeddings (loaded offline)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from temporal_dsql_copilot.knowledge import KnowledgeRetriever
from temporal_dsql_copilot.knowledge.embedding import MiniLMEmbedder
from temporal_dsql_copilot.knowledge.errors import KnowledgeQueryError
from temporal_dsql_copilot.knowledge.local import LocalKnowledgeRetriever, split_document

CORPUS_DIR = Path(__file__).resolve().parents[2] / "docs" / "knowledge"


def test_memo_returns_the_same_vectors(embedder: MiniLMEmbedder) -> None:
    first = embedder.embed(["reservoir empty events", "slot blocks"])
    again = embedder.embed(["slot blocks", "reservoir empty events", "slot blocks"])
    assert np.array_equal(again[1], first[0]) and np.array_equal(again[0], first[1])
    assert np.array_equal(again[0], again[2])


def test_embedding_matches_the_published_model_behaviour(embedder: MiniLMEmbedder) -> None:
    vectors = embedder.embed(["A man is eating food.", "A man is eating a piece of bread.",
                              "The girl is carrying a baby."])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # The sentence-transformers documentation's example pair scores 0.7553 with this model.
    assert float(vectors[0] @ vectors[1]) == pytest.approx(0.7553, abs=0.005)
    assert float(vectors[0] @ vectors[2]) < 0.1


async def test_occ_question_retrieves_the_occ_document(retriever: LocalKnowledgeRetriever) -> None:
    assert isinstance(retriever, KnowledgeRetriever)
    chunks = await retriever.retrieve("Why do transactions keep failing with serialization conflicts "
                                      "and OCC retries on the database?", top_k=5)
    assert len(chunks) == 5
    assert chunks[0].source == "docs/knowledge/dsql-occ-conflicts.md"
    assert len({c.source for c in chunks}) == 5  # five distinct documents
    assert [c.score for c in chunks] == sorted((c.score for c in chunks), reverse=True)


@pytest.mark.parametrize(("question", "expected"), [
    ("too many connections errors while the services scale out", "dsql-connection-limits.md"),
    ("workers have all their task slots busy and schedule-to-start latency grows", "worker-tuning.md"),
    ("running workflows do not show up in the workflow list of the UI", "frontend-and-visibility.md"),
    ("authentication failures: the IAM token expired", "dsql-auth-tokens-and-connection-lifetime.md"),
    ("which preset should I pick and what do the guard rails check", "presets-and-guard-rails.md"),
])
def test_operator_questions_retrieve_their_document_first(retriever: LocalKnowledgeRetriever,
                                                          question: str, expected: str) -> None:
    assert retriever.retrieve_sync(question, top_k=3)[0].source == f"docs/knowledge/{expected}"


@pytest.mark.parametrize("top_k", [0, 6, -1])
def test_top_k_is_limited_to_five_documents(retriever: LocalKnowledgeRetriever, top_k: int) -> None:
    with pytest.raises(KnowledgeQueryError) as caught:
        retriever.retrieve_sync("conflicts", top_k=top_k)
    assert caught.value.field == "top_k" and caught.value.allowed == [1, 2, 3, 4, 5]


def test_empty_query_is_refused(retriever: LocalKnowledgeRetriever) -> None:
    with pytest.raises(KnowledgeQueryError) as caught:
        retriever.retrieve_sync("   ")
    assert caught.value.field == "query"


def test_refresh_picks_up_new_and_removed_documents(embedder: MiniLMEmbedder, tmp_path: Path) -> None:
    corpus = tmp_path / "docs" / "knowledge"
    shutil.copytree(CORPUS_DIR, corpus)
    local = LocalKnowledgeRetriever(corpus, embedder=embedder)
    question = "how do I calibrate the frobnicator flux capacitor"
    assert local.retrieve_sync(question, top_k=1)[0].source != "docs/knowledge/frobnicator.md"
    (corpus / "frobnicator.md").write_text("# Frobnicator calibration\n\n## Calibrating the flux capacitor\n\n"
                                           "Calibrate the frobnicator's flux capacitor before each run.\n")
    assert local.refresh() is True
    assert local.refresh() is False  # nothing changed since
    assert local.retrieve_sync(question, top_k=1)[0].source == "docs/knowledge/frobnicator.md"
    (corpus / "frobnicator.md").unlink()
    assert all(c.source != "docs/knowledge/frobnicator.md" for c in local.retrieve_sync(question))


def test_documents_split_into_titled_sections() -> None:
    passages = split_document("# Title\n\nIntro.\n\n## One\n\nAlpha.\n\n## Two\n\nBeta.\n", "docs/knowledge/t.md")
    assert [(p.title, p.text) for p in passages] == [("Title", "Intro."), ("Title: One", "Alpha."),
                                                     ("Title: Two", "Beta.")]


def test_long_sections_are_split_at_paragraphs() -> None:
    paragraph = " ".join(["word"] * 100)
    passages = split_document("# T\n\n## S\n\n" + "\n\n".join([paragraph] * 4), "t.md")
    assert len(passages) == 4 and all(p.title == "T: S" for p in passages)


# Copilot Requirement 3.6: the corpus holds no PromQL, raw metric definitions or threshold values.
PROMQL = re.compile(r"\b(rate|irate|increase|histogram_quantile|sum|avg|max|min)\s*(by\s*)?\(|\{__name__|"
                    r"\[\d+[smh]\]|_bucket\b|_total\b")
THRESHOLD = re.compile(r"\d+(\.\d+)?\s*(%|ms\b|s\b|seconds|minutes|per second|conn/s|/s\b)|[<>]=?\s*\d")


@pytest.mark.parametrize("document", sorted(CORPUS_DIR.glob("*.md")), ids=lambda p: p.name)
def test_corpus_has_no_promql_or_thresholds(document: Path) -> None:
    text = document.read_text()
    assert not PROMQL.search(text), PROMQL.search(text)
    assert not THRESHOLD.search(text), THRESHOLD.search(text)


@pytest.fixture(scope="module")
def unmemoized_embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder(memo_size=0)  # every call runs the encoder


# Property: padding invariance (a text's embedding does not depend on the batch it is embedded in)
@settings(max_examples=15, deadline=None)
@given(texts=st.lists(st.text(alphabet=st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=60)
                      .filter(str.strip), min_size=2, max_size=4))
def test_property_padding_invariance(unmemoized_embedder: MiniLMEmbedder, texts: list[str]) -> None:
    together = unmemoized_embedder.embed(texts)
    for index, text in enumerate(texts):
        alone = unmemoized_embedder.embed([text])[0]
        assert float(alone @ together[index]) > 0.9999
