"""Chunk vectors pooled from the vectors of their sentences and title, so
the model reads each piece of text once (see ``pool_chunks``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from index.embedding.base import normalize_rows

if TYPE_CHECKING:
    from index.storage.filearray import FileArray


def concat_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``range(starts[i], starts[i] + counts[i])`` for every i, one after another.

    >>> concat_ranges(np.array([5, 0, 9]), np.array([2, 3, 0])).tolist()
    [5, 6, 0, 1, 2]
    """
    starts, counts = np.asarray(starts, dtype=np.int64), np.asarray(counts, dtype=np.int64)
    if len(counts) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(counts.sum())


def pool_chunks(sentence_vectors: "np.ndarray | FileArray", first: np.ndarray, last: np.ndarray,
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
    set and within 0.3 points on XQuAD (guide/how-it-works.md, "How chunks are embedded").

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
