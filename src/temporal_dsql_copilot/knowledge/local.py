"""The local knowledge retriever: real embeddings over docs/knowledge/, no AWS.

Used by local runs, the demo and tests, and as the fallback when no Bedrock knowledge base is
configured. The corpus is split into passages at `## ` headings (long sections at paragraph
boundaries), each passage is embedded with all-MiniLM-L6-v2 (`temporal_dsql_copilot.knowledge.embedding`), and a
query returns the best passage of each of the `top_k` most similar documents (copilot
Requirement 3.4: at most five documents). `refresh()` re-reads the corpus when a file changed, so
the knowledge base is refreshable without restarting the copilot (Requirement 3.5).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from temporal_dsql_copilot.knowledge.base import KnowledgeChunk
from temporal_dsql_copilot.knowledge.errors import KnowledgeQueryError, KnowledgeSyncError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "MAX_TOP_K",
    "Embedder",
    "LocalKnowledgeRetriever",
    "Passage",
    "default_corpus_dir",
    "load_corpus",
    "split_document",
]

MAX_TOP_K = 5
_MAX_PASSAGE_WORDS = 180


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> NDArray[np.float32]: ...


@dataclass(frozen=True)
class Passage:
    source: str
    """Path of the document relative to the corpus's parent's parent (e.g. docs/knowledge/x.md)."""
    title: str
    text: str

    @property
    def embedding_text(self) -> str:
        return f"{self.title}\n{self.text}"


def default_corpus_dir(start: Path | None = None) -> Path:
    """docs/knowledge/ of the nearest enclosing checkout (or /app in the copilot image)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents, Path(__file__).resolve().parents[3], Path("/app")):
        corpus = candidate / "docs" / "knowledge"
        if corpus.is_dir():
            return corpus
    raise KnowledgeSyncError("no docs/knowledge/ directory found", field="corpus_dir",
                             suggestion="Run from the repository, or pass the corpus directory.")


def split_document(text: str, source: str) -> list[Passage]:
    """A markdown document -> passages: one per `## ` section, long sections split by paragraph."""
    lines = text.splitlines()
    title = next((line[2:].strip() for line in lines if line.startswith("# ")), Path(source).stem)
    sections: list[tuple[str, list[str]]] = [(title, [])]
    for line in lines:
        if line.startswith("# "):
            continue
        if line.startswith("## "):
            sections.append((f"{title}: {line[3:].strip()}", []))
        else:
            sections[-1][1].append(line)
    passages: list[Passage] = []
    for heading, body in sections:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", "\n".join(body)) if p.strip()]
        current: list[str] = []
        for paragraph in paragraphs:
            words = sum(len(p.split()) for p in current)
            if current and words + len(paragraph.split()) > _MAX_PASSAGE_WORDS:
                passages.append(Passage(source, heading, "\n\n".join(current)))
                current = []
            current.append(paragraph)
        if current:
            passages.append(Passage(source, heading, "\n\n".join(current)))
    return passages


def load_corpus(corpus_dir: Path) -> list[Passage]:
    if not corpus_dir.is_dir():
        raise KnowledgeSyncError(f"corpus directory {corpus_dir} does not exist", field="corpus_dir",
                                 suggestion="Pass the path of docs/knowledge/.")
    root = corpus_dir.parent.parent
    passages: list[Passage] = []
    for path in sorted(corpus_dir.rglob("*.md")):
        if path.name.lower() == "readme.md":
            continue  # describes the corpus, is not part of it
        source = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        passages.extend(split_document(path.read_text(encoding="utf-8"), source))
    return passages


def _fingerprint(corpus_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(corpus_dir.rglob("*.md")):
        stat = path.stat()
        digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size}\n".encode())
    return digest.hexdigest()


class LocalKnowledgeRetriever:
    """A KnowledgeRetriever over a directory of markdown documents with local embeddings."""

    def __init__(self, corpus_dir: Path | None = None, embedder: Embedder | None = None) -> None:
        self.corpus_dir = corpus_dir or default_corpus_dir()
        if embedder is None:
            from temporal_dsql_copilot.knowledge.embedding import MiniLMEmbedder

            embedder = MiniLMEmbedder()
        self._embedder = embedder
        self._lock = threading.Lock()
        self._fingerprint: str | None = None
        self._passages: list[Passage] = []
        self._matrix: Any = None
        self._cache: dict[str, Any] = {}

    @property
    def passages(self) -> list[Passage]:
        self.refresh()
        return list(self._passages)

    def refresh(self) -> bool:
        """Re-index when a document was added, changed or removed; True when it re-indexed."""
        import numpy as np

        with self._lock:
            fingerprint = _fingerprint(self.corpus_dir)
            if fingerprint == self._fingerprint:
                return False
            passages = load_corpus(self.corpus_dir)
            if not passages:
                raise KnowledgeSyncError(f"no markdown documents under {self.corpus_dir}", field="corpus_dir")
            keys = [hashlib.sha256(p.embedding_text.encode()).hexdigest() for p in passages]
            missing = [i for i, key in enumerate(keys) if key not in self._cache]
            if missing:
                vectors = self._embedder.embed([passages[i].embedding_text for i in missing])
                for row, i in enumerate(missing):
                    self._cache[keys[i]] = vectors[row]
            self._cache = {key: self._cache[key] for key in keys}
            self._matrix = np.stack([self._cache[key] for key in keys])
            self._passages = passages
            self._fingerprint = fingerprint
            return True

    def retrieve_sync(self, query: str, top_k: int = MAX_TOP_K) -> list[KnowledgeChunk]:
        if not query or not query.strip():
            raise KnowledgeQueryError("the query is empty", field="query",
                                      suggestion="Describe the signals or the question in words.")
        if not 1 <= top_k <= MAX_TOP_K:
            raise KnowledgeQueryError(f"top_k={top_k} is out of range", field="top_k",
                                      allowed=list(range(1, MAX_TOP_K + 1)),
                                      suggestion="Retrieval is limited to the five most relevant documents.")
        self.refresh()
        query_vector = self._embedder.embed([query.strip()])[0]
        scores = self._matrix @ query_vector
        best: dict[str, tuple[float, Passage]] = {}
        for index in scores.argsort()[::-1]:
            passage = self._passages[int(index)]
            if passage.source not in best:
                best[passage.source] = (float(scores[int(index)]), passage)
                if len(best) == top_k:
                    break
        return [KnowledgeChunk(text=p.text, source=p.source, score=score, title=p.title)
                for score, p in best.values()]

    async def retrieve(self, query: str, top_k: int = MAX_TOP_K) -> list[KnowledgeChunk]:
        # Embedding is CPU-bound numpy: keep it off the event loop (a Temporal activity's loop).
        return await asyncio.to_thread(self.retrieve_sync, query, top_k)
