"""The FAISS index over chunk vectors, chosen by corpus size.

Up to ``EXACT_UP_TO`` chunks, exact search (``IndexFlatIP``: the vectors
are unit length, so inner product is cosine) is fast enough and costs 4
bytes per dimension per chunk. Above it, an inverted file with 8-bit scalar
quantization (``IVF<nlist>,SQ8``) keeps a quarter of the memory and scans a
few lists instead of every vector. The number of lists probed (``nprobe``)
is calibrated at build time: the smallest value at which the top 10, found
the way the retriever searches (40 candidates re-ranked by their exact
vectors), matches exact search's top 10 for ``TARGET_RECALL`` of
question-like probes made from the corpus's own vectors. Kind, parameters and the measured recall go into the
manifest, and the same ``nprobe`` is set again on load.

The retriever re-scores every candidate with its exact vector
(read from disk by rows), so quantization only has to get the right chunks into the
candidate list, not order them: that is the recall calibrated here.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

EXACT_UP_TO = 100_000
TARGET_RECALL = 0.99  # margin: probes only approximate real questions
VECTOR_INDEXES = ("auto", "exact", "approximate")
CANDIDATES = 40  # what the retriever asks FAISS for (assistant.params.Weights.dense_candidates)


@dataclass(frozen=True)
class VectorIndexInfo:
    """What the manifest records about the FAISS index."""

    kind: str  # "exact" or "approximate"
    factory: str  # the FAISS factory string, e.g. "Flat" or "IVF1000,SQ8"
    nprobe: int = 0
    recall_at_10: float = 1.0


def choose_kind(chunks: int, requested: str = "auto", exact_up_to: int = EXACT_UP_TO) -> str:
    """Exact or approximate search for an index of ``chunks`` vectors.

    >>> choose_kind(5_000), choose_kind(2_000_000), choose_kind(5_000, "approximate")
    ('exact', 'approximate', 'approximate')
    """
    if requested not in VECTOR_INDEXES:
        raise ValueError(f"vector index kind must be one of {', '.join(VECTOR_INDEXES)}, not {requested!r}")
    if requested != "auto":
        return requested
    return "exact" if chunks <= exact_up_to else "approximate"


def list_count(chunks: int) -> int:
    """Inverted lists for ``chunks`` vectors: about the square root, so a
    list and the centroid table cost about the same to scan; at least 1 and
    never more than the vectors can train (39 each).

    >>> list_count(1_000_000), list_count(100_000), list_count(50)
    (1000, 316, 1)
    """
    return max(1, min(int(math.sqrt(chunks)), chunks // 39))


def build(vectors: Any, requested: str = "auto", exact_up_to: int = EXACT_UP_TO,
          seed: int = 0) -> tuple[object, VectorIndexInfo]:
    """A FAISS index over ``vectors`` (unit rows) and what to record about it."""
    import faiss

    n, dim = vectors.shape
    if choose_kind(n, requested, exact_up_to) == "exact" or n < 39:
        index: faiss.Index = faiss.IndexFlatIP(dim)
        _add(index, vectors)
        return index, VectorIndexInfo("exact", "Flat")
    nlist = list_count(n)
    factory = f"IVF{nlist},SQ8"
    index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(seed)
    # FAISS wants ~39-256 points per centroid; more only slows training.
    sample = np.ascontiguousarray(vectors[np.sort(rng.choice(n, size=min(n, 64 * nlist), replace=False))],
                                  dtype=np.float32)
    log.info("training %s on %d of %d vectors", factory, len(sample), n)
    index.train(sample)
    _add(index, vectors)
    nprobe, recall = calibrate(index, vectors, rng)
    set_nprobe(index, nprobe)
    return index, VectorIndexInfo("approximate", factory, nprobe, recall)


def _add(index, vectors, block: int = 65_536) -> None:
    """Add ``vectors`` a block at a time: an array on disk (``FileArray``) is
    never read whole, only ``block`` rows of it at once."""
    for start in range(0, len(vectors), block):
        index.add(np.ascontiguousarray(vectors[start : start + block], dtype=np.float32))


def calibration_queries(vectors: np.ndarray, rng: np.random.Generator, count: int = 200,
                        similarity: float = 0.7) -> np.ndarray:
    """Stand-ins for questions: sampled corpus vectors pushed in a random
    direction until their cosine to the original is ``similarity`` (about
    what a question has with the passage that answers it).

    A corpus row itself would be a far easier query (it sits in its own
    list). These probes are only a stand-in: on the scale benchmark real
    questions reached a little lower recall than the probes, hence the
    margin in ``TARGET_RECALL``.
    """
    base = vectors[rng.choice(len(vectors), size=min(count, len(vectors)), replace=False)]
    noise = rng.normal(size=base.shape).astype(np.float32)
    noise -= (noise * base).sum(axis=1, keepdims=True) * base  # orthogonal to the row
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    queries = similarity * base + math.sqrt(1 - similarity**2) * noise
    return np.ascontiguousarray(queries / np.linalg.norm(queries, axis=1, keepdims=True), dtype=np.float32)


def calibrate(index, vectors: np.ndarray, rng: np.random.Generator, k: int = 10,
              candidates: int = CANDIDATES) -> tuple[int, float]:
    """The smallest nprobe (doubling) at which the top ``k`` of
    ``search_rescored`` reaches ``TARGET_RECALL`` against exact search on
    ``calibration_queries``, and the recall it reached."""
    queries = calibration_queries(vectors, rng)
    truth = exact_neighbours(vectors, queries, k)
    nlist = index.nlist
    nprobe = 1
    while True:
        set_nprobe(index, nprobe)
        recall = recall_at_k(truth, search_rescored(index, vectors, queries, k, candidates), k)
        if recall >= TARGET_RECALL or nprobe >= nlist:
            return nprobe, recall
        nprobe = min(nlist, nprobe * 2)


def search_rescored(index, vectors: np.ndarray, queries: np.ndarray, k: int, candidates: int = CANDIDATES) -> np.ndarray:
    """Top ``k`` ids per query the way the retriever searches: ``candidates``
    from the index, ranked again by their exact vectors (8-bit codes blur
    near-ties; the exact vectors do not)."""
    _, found = index.search(np.ascontiguousarray(queries, dtype=np.float32), candidates)
    out = np.full((len(queries), k), -1, dtype=np.int64)
    for i, row in enumerate(found):
        row = row[row >= 0]
        ordered = np.sort(row)  # reads the vectors on disk front to back
        best = ordered[np.argsort(-(vectors[ordered] @ queries[i]))][:k]
        out[i, : len(best)] = best
    return out


def exact_neighbours(vectors: np.ndarray, queries: np.ndarray, k: int, block: int = 65_536) -> np.ndarray:
    """Row ids of the ``k`` most similar vectors to each query, by brute
    force in blocks (bounded memory at any corpus size)."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(vectors), block):
        scores = queries @ np.asarray(vectors[start : start + block], dtype=np.float32).T
        ids = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
        all_scores = np.concatenate([best_scores, scores], axis=1)
        all_ids = np.concatenate([best_ids, ids], axis=1)
        top = np.argpartition(-all_scores, min(k, all_scores.shape[1] - 1), axis=1)[:, :k]
        best_scores = np.take_along_axis(all_scores, top, axis=1)
        best_ids = np.take_along_axis(all_ids, top, axis=1)
    order = np.argsort(-best_scores, axis=1)
    return np.take_along_axis(best_ids, order, axis=1)


def recall_at_k(truth: np.ndarray, found: np.ndarray, k: int) -> float:
    """Share of the true top-``k`` (per query row) that ``found`` contains.

    >>> recall_at_k(np.array([[1, 2], [3, 4]]), np.array([[2, 9], [3, 4]]), 2)
    0.75
    """
    hits = total = 0
    for true_row, found_row in zip(truth, found):
        wanted = [int(t) for t in true_row][:k]
        got = set(list(dict.fromkeys(int(f) for f in found_row if f >= 0))[:k])
        hits += sum(t in got for t in wanted)
        total += len(wanted)
    return hits / total if total else 1.0


def set_nprobe(index, nprobe: int) -> None:
    """Set the lists an inverted-file index scans (nothing for exact ones)."""
    import faiss

    if nprobe and hasattr(faiss, "extract_index_ivf"):
        try:
            faiss.extract_index_ivf(index).nprobe = int(nprobe)
        except RuntimeError:  # not an IVF index
            pass
