"""Where a question's chunk searches run and its vectors are read: the store
interface, and its default implementation, FAISS beside the tables.

A retriever asks an index's engine for four things and nothing else:

- ``nearest_chunks``: the chunks whose vectors are nearest a question's;
- ``lexical_chunks``: the chunks with the best BM25 scores for its terms;
- ``chunk_vectors[rows]`` and ``sentence_vectors[rows]``: the exact vectors
  of the few candidates it re-scores.

Both searches may be restricted to part of the corpus (a ``Restriction``:
a scope's documents, their chunks, and those chunks as a bitmap). Term
statistics (vocabulary, document frequencies, postings read for the
coverage of a question's candidates), the span tables and the documents'
text stay in the index directory whatever the engine; they are what
askdoc's ranking reads, and they are small next to the vectors.

``FaissEngine`` searches a FAISS index and reads the vectors from the
build's ``.npy`` files (the default); ``index.engines.milvus.MilvusEngine`` and
``index.engines.qdrant.QdrantEngine`` keep vectors, BM25 weights and quotable spans
in collections (``index.engines.collection``), so a corpus can live on an engine that
shards and replicates it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.storage.lexical import LexicalIndex

log = logging.getLogger(__name__)

KINDS = ("faiss", "milvus", "qdrant")
FAISS_FILE = "chunks.faiss"


class Rows(Protocol):
    """Vectors read by row number: ``rows[np.array([4, 2])]`` is a (2, dim) array."""

    shape: tuple[int, ...]

    def __getitem__(self, rows): ...


@dataclass(frozen=True, eq=False)
class Restriction:
    """The part of the corpus a search may return: document rows, the rows
    of their chunks (ascending), and those chunks as a bitmap (one bit per
    chunk, ``faiss.IDSelectorBitmap``'s layout)."""

    docs: np.ndarray
    chunks: np.ndarray
    bitmap: np.ndarray

    @classmethod
    def of_documents(cls, docs: np.ndarray, chunk_doc: np.ndarray) -> "Restriction":
        """The restriction to documents ``docs``, given each chunk's document.

        >>> r = Restriction.of_documents(np.array([1]), np.array([0, 0, 1, 1, 2]))
        >>> r.chunks.tolist(), np.unpackbits(r.bitmap, bitorder="little")[:5].tolist()
        ([2, 3], [0, 0, 1, 1, 0])
        """
        held = np.isin(chunk_doc, docs)
        return cls(np.asarray(docs, dtype=np.int64), np.flatnonzero(held), np.packbits(held, bitorder="little"))


def check_kind(kind: str) -> str:
    """``kind`` when it names an engine, else a ``ValueError`` listing them.

    >>> check_kind("qdrant")
    'qdrant'
    """
    if kind not in KINDS:
        raise ValueError(f"store must be one of {', '.join(KINDS)}, not {kind!r}")
    return kind


class Engine(ABC):
    """The store interface (see the module's docstring)."""

    kind: str = ""
    chunk_vectors: Rows
    sentence_vectors: Rows

    @abstractmethod
    def nearest_chunks(self, vector: np.ndarray, k: int, within: Restriction | None = None) -> np.ndarray:
        """Rows of the ``k`` chunks nearest ``vector`` (inner product), best first."""

    @abstractmethod
    def lexical_chunks(self, tokens: list[str], k: int, within: Restriction | None = None) -> np.ndarray:
        """Rows of the (at most ``k``) chunks with the best positive BM25
        scores for ``tokens``, best first."""

    @abstractmethod
    def save(self, build: Path) -> None:
        """Make the engine's part of a build durable (called before the manifest is written)."""

    def problems(self, chunks: int, sentences: int, dimension: int) -> list[str]:
        """What disagrees with the manifest's counts (empty: consistent)."""
        return []

    def drop(self) -> None:
        """Delete what the engine holds for this build (its build is being removed)."""


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
            params = faiss.SearchParameters(sel=selector)
        else:
            share = len(within.chunks) / max(1, self.faiss_index.ntotal)
            nprobe = min(ivf.nlist, max(ivf.nprobe, int(np.ceil(ivf.nprobe / max(share, 1e-9)))))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        found = self.faiss_index.search(query, k, params=params)[1][0]
        return found[found >= 0]

    def lexical_chunks(self, tokens: list[str], k: int, within: Restriction | None = None) -> np.ndarray:
        scores = self.chunk_lexical.scores(tokens)
        matching = np.flatnonzero(scores)  # usually far fewer than all chunks
        if within is not None:
            matching = matching[contains(within.chunks, matching)]
        return matching[top(scores[matching], k)]

    def save(self, build: Path) -> None:
        import faiss

        faiss.write_index(self.faiss_index, str(build / FAISS_FILE))

    @classmethod
    def load(cls, build: Path, nprobe: int, chunk_vectors: Rows, sentence_vectors: Rows,
             chunk_lexical: LexicalIndex) -> "FaissEngine":
        import faiss

        from index.engines import vectors

        faiss_index = faiss.read_index(str(build / FAISS_FILE))
        vectors.set_nprobe(faiss_index, nprobe)
        return cls(faiss_index, chunk_vectors, sentence_vectors, chunk_lexical)

    def problems(self, chunks: int, sentences: int, dimension: int) -> list[str]:
        found = []
        if self.chunk_vectors.shape[0] != chunks:
            found.append("chunk count")
        if self.sentence_vectors.shape[0] != sentences:
            found.append("sentence count")
        if self.faiss_index.ntotal != chunks or self.faiss_index.d != dimension:
            found.append("FAISS index size")
        return found


def contains(sorted_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows``, is it in ``sorted_rows``? Binary search, so a
    term in millions of sentences costs no more than a rare one.

    >>> contains(np.array([2, 5, 9]), np.array([5, 6, 9, 10])).tolist()
    [True, False, True, False]
    """
    if len(sorted_rows) == 0:
        return np.zeros(len(rows), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
    return sorted_rows[at] == rows


def top(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` highest scores, best first, without sorting them all.

    >>> top(np.array([0.1, 0.9, 0.5, 0.7]), 2).tolist()
    [1, 3]
    """
    if k >= len(scores):
        return np.argsort(-scores)
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part])]
