"""FAISS over the chunk vectors, beside the build's files: the default
engine. The vectors themselves and the BM25 postings are read from the
build's own files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from index.engines import vectors
from index.engines.base import Contents, Engine, Restriction, Rows, contains, top
from index.engines.vectors import VectorIndexInfo
from index.storage.lexical import LexicalIndex

FAISS_FILE = "chunks.faiss"


class FaissEngine(Engine):
    """FAISS over the chunk vectors; vectors and BM25 postings from the build's files."""

    kind = "faiss"

    def __init__(self, faiss_index, chunk_vectors: Rows, sentence_vectors: Rows, chunk_lexical: LexicalIndex) -> None:
        self.faiss_index = faiss_index
        self.chunk_vectors = chunk_vectors
        self.sentence_vectors = sentence_vectors
        self.chunk_lexical = chunk_lexical

    def nearest_chunks(self, vector: np.ndarray, k: int, within: Restriction | None = None) -> np.ndarray:
        """FAISS skips chunks outside ``within`` while it searches (an ID
        selector), so a narrow scope still gets ``k`` candidates. An
        approximate index probes more lists for a narrow scope, in
        proportion, since its chunks are a small share of each list."""
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if within is None:
            found = self.faiss_index.search(query, k)[1][0]
            return found[found >= 0]
        import faiss

        selector = faiss.IDSelectorBitmap(len(within.bitmap), faiss.swig_ptr(within.bitmap))
        try:
            ivf = faiss.extract_index_ivf(self.faiss_index)
        except RuntimeError:  # exact search
            params = faiss.SearchParameters()
            params.sel = selector
        else:
            share = len(within.chunks) / max(1, self.faiss_index.ntotal)
            nprobe = min(ivf.nlist, max(ivf.nprobe, int(np.ceil(ivf.nprobe / max(share, 1e-9)))))
            params = faiss.SearchParametersIVF()
            params.sel, params.nprobe = selector, nprobe
        found = self.faiss_index.search(query, k, params=params)[1][0]
        return found[found >= 0]

    def lexical_chunks(self, tokens: list[str], k: int, within: Restriction | None = None) -> np.ndarray:
        scores = self.chunk_lexical.scores(tokens)
        matching = np.flatnonzero(scores)  # usually far fewer than all chunks
        if within is not None:
            matching = matching[contains(within.chunks, matching)]
        return matching[top(scores[matching], k)]

    @classmethod
    def create(cls, build: Path, uri: str, contents: Contents, vector_index: str = "auto",
               progress: Callable[[int, int], None] | None = None) -> "FaissEngine":
        faiss_index, info = vectors.build(contents.chunk_vectors, vector_index)
        engine = cls(faiss_index, contents.chunk_vectors, contents.sentence_vectors, contents.chunk_lexical)
        engine.vector_index = info
        return engine

    def save(self, build: Path) -> None:
        import faiss

        faiss.write_index(self.faiss_index, str(build / FAISS_FILE))

    @classmethod
    def load(cls, build: Path, manifest: Any, chunk_lexical: LexicalIndex, saved: tuple[Rows, Rows]) -> "FaissEngine":
        import faiss

        faiss_index = faiss.read_index(str(build / FAISS_FILE))
        vectors.set_nprobe(faiss_index, manifest.faiss_nprobe)
        engine = cls(faiss_index, *saved, chunk_lexical)
        kind = "approximate" if "IVF" in manifest.faiss_index else "exact"
        engine.vector_index = VectorIndexInfo(kind, manifest.faiss_index, manifest.faiss_nprobe,
                                              manifest.faiss_recall_at_10)
        return engine

    def problems(self, chunks: int, sentences: int, dimension: int) -> list[str]:
        found = []
        if self.chunk_vectors.shape[0] != chunks:
            found.append("chunk count")
        if self.sentence_vectors.shape[0] != sentences:
            found.append("sentence count")
        if self.faiss_index.ntotal != chunks or self.faiss_index.d != dimension:
            found.append("FAISS index size")
        return found
