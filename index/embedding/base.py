"""Text embedders: what every model backend provides (unit-length float32
rows, computed shortest texts first), and the sentence-transformers backend.
Which model and backend a user's choice means is decided in ``models``.

Every embedder returns float32 rows of unit length, so inner product is
cosine similarity everywhere downstream (FAISS IndexFlatIP, sentence scores).
"""

from __future__ import annotations

import logging
import os
from typing import Callable, Protocol, Sequence

import numpy as np

from index.errors import ModelError

log = logging.getLogger(__name__)

BATCH_SIZE = 64

Progress = Callable[[int], None]
"""Called with the number of texts just finished."""


class Embedder(Protocol):
    model_id: str
    dimension: int

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Scale rows to unit length (zero rows stay zero).

    >>> normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).astype(float).round(3).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


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
    """A sentence-transformers model on the CPU (or a CUDA GPU), loaded lazily on first use."""

    encoder = "torch"

    def __init__(self, model_id: str, load_from: str, batch_size: int = BATCH_SIZE, device: str = "cpu") -> None:
        self.model_id, self._load_from = model_id, load_from
        self.batch_size = batch_size
        self.device = device
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
                self._model = SentenceTransformer(self._load_from, device=self.device)
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
