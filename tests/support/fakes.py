"""A deterministic fake embedder, for unit tests of pure logic only: quality
and CLI tests use the real bundled model."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from index.embedding.base import Progress, normalize_rows


class HashEmbedder:
    """Deterministic bag-of-words vectors: for unit tests of pure logic only.

    Texts sharing words get similar vectors, which is enough to exercise
    ranking code without a neural model.
    """

    def __init__(self, dimension: int = 64, model_id: str = "fake/hash-embedder") -> None:
        self.model_id = model_id
        self.dimension = dimension

    encoder = ""  # a stand-in: no encoder of its own

    def prepare(self) -> None:
        pass

    def use_threads(self, threads: int) -> None:
        pass

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        import zlib

        from index.storage.lexical import tokenize

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text):
                out[row, zlib.crc32(token.encode()) % self.dimension] += 1.0
        if progress:
            progress(len(texts))
        return normalize_rows(out)
