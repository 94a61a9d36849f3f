"""Where a question's chunk searches run and its vectors are read: the
engine interface every engine implements (``factory`` names them all).

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

An engine is made for a new build (``create``), made durable (``save``)
and opened again (``load``, the inverse); ``drop`` removes what it holds
outside the build directory. ``index.engines.faiss.FaissEngine`` searches a
FAISS index and reads the vectors from the build's ``.npy`` files (the
default); ``index.engines.milvus.MilvusEngine`` and
``index.engines.qdrant.QdrantEngine`` keep vectors, BM25 weights and quotable spans
in collections (``index.engines.collection``), so a corpus can live on an engine that
shards and replicates it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

from index.engines.vectors import VectorIndexInfo
from index.storage.lexical import LexicalIndex

log = logging.getLogger(__name__)



class Rows(Protocol):
    """Vectors read by row number: ``rows[np.array([4, 2])]`` is a (2, dim) array."""

    @property
    def shape(self) -> tuple[int, ...]: ...

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


@dataclass(frozen=True, eq=False)
class Contents:
    """What a new build gives its engine to hold: the span tables, the
    sentences' texts by row, the chunk and sentence vectors, the chunks'
    BM25 index, and the vectors' dimension."""

    tables: Any  # storage.tables.Tables
    texts: Callable[[np.ndarray], list[str]]
    chunk_vectors: Rows  # in memory, or read by rows from the build's files
    sentence_vectors: Rows
    chunk_lexical: LexicalIndex
    dimension: int


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

    vector_index: VectorIndexInfo = VectorIndexInfo("engine", "", 0, 1.0)  # how it searches, for the manifest

    @classmethod
    @abstractmethod
    def create(cls, build: Path, uri: str, contents: Contents, vector_index: str = "auto",
               progress: Callable[[int, int], None] | None = None) -> "Engine":
        """A new engine holding ``contents`` for ``build`` (``uri``: where,
        for an engine that lives outside the build directory)."""

    @abstractmethod
    def save(self, build: Path) -> None:
        """Make the engine's part of a build durable (called before the manifest is written)."""

    @classmethod
    @abstractmethod
    def load(cls, build: Path, manifest: Any, chunk_lexical: LexicalIndex, saved: tuple[Rows, Rows]) -> "Engine":
        """The engine of a saved build (the inverse of ``create`` then
        ``save``): ``manifest`` its counts and settings, ``saved`` the
        build's own chunk and sentence vector files."""

    def problems(self, chunks: int, sentences: int, dimension: int) -> list[str]:
        """What disagrees with the manifest's counts (empty: consistent)."""
        return []

    def drop(self) -> None:  # noqa: B027 - most engines hold nothing outside their build directory
        """Delete what the engine holds for this build (its build is being removed)."""


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
