"""The model on sentence-transformers and torch: the reference the ONNX
graph is checked against, and what ``--model torch`` runs."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from index.embedding.base import BATCH_SIZE, Progress, encode_by_length, quiet_offline_hub
from index.errors import ModelError


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
            quiet_offline_hub()
            from sentence_transformers import SentenceTransformer

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

    def prepare(self) -> None:
        """Nothing to make ahead: the model loads on first use."""

    def use_threads(self, threads: int) -> None:
        """torch picks its own thread count."""

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        model = self._load()
        return encode_by_length(
            texts, self.dimension, self.batch_size * 4, progress,
            lambda batch: model.encode(batch, batch_size=self.batch_size, normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=False),
        )
