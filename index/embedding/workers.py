"""Embedding in several processes (``askdoc index --workers N``).

Each worker process loads the model once (``models.load_embedder``, the
same choice as the build's) with ``cores // N`` threads, and encodes blocks
of texts; the build hands it each slice exactly as it would hand the
single-process embedder, and gets the rows back in order, so an index built
with any number of workers has the same vectors. Workers are started with
``spawn``: the parent already runs onnxruntime's threads, which a fork
would copy half-alive.

A worker pool pays its start-up (Python, onnxruntime, the graph: about a
second a worker) once per build, so it helps on large corpora and on
machines with more cores than one process uses well; ``tests/benchmarks/
workers.py`` measures it on this machine.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Sequence

import numpy as np

from index.embedding.base import Embedder, Progress

log = logging.getLogger(__name__)

BLOCK = 256  # texts a worker encodes per task: small enough to spread a slice, large enough to batch well

_worker_embedder: Embedder | None = None


def _start(model: str | None, threads: int) -> None:
    """Worker initializer: the model, loaded once per process."""
    global _worker_embedder
    from index.embedding.models import load_embedder

    embedder = load_embedder(model)
    embedder.use_threads(threads)
    _worker_embedder = embedder


def _encode(texts: list[str]) -> np.ndarray:
    assert _worker_embedder is not None
    return _worker_embedder.encode(texts)


def blocks(count: int, size: int) -> list[tuple[int, int]]:
    """``(start, end)`` of consecutive blocks covering ``count`` items.

    >>> blocks(600, 256)
    [(0, 256), (256, 512), (512, 600)]
    >>> blocks(0, 256)
    []
    """
    return [(start, min(count, start + size)) for start in range(0, count, size)]


class ProcessPoolEmbedder:
    """``base``'s model in ``workers`` processes; the ``Embedder`` protocol."""

    def __init__(self, base: Embedder, model: str | None, workers: int) -> None:
        if workers < 2:
            raise ValueError("a pool needs at least two workers")
        self.base, self.model, self.workers = base, model, workers
        self.model_id = base.model_id
        self._pool: ProcessPoolExecutor | None = None

    @property
    def dimension(self) -> int:
        return self.base.dimension

    @property
    def encoder(self) -> str:
        return self.base.encoder

    def prepare(self) -> None:
        """Export the graph in this process first: workers must find it made."""
        self.base.prepare()

    def use_threads(self, threads: int) -> None:
        """Each worker gets its share of the cores (see ``_start``)."""

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            threads = max(1, (os.cpu_count() or 1) // self.workers)
            log.info("embedding in %d processes of %d thread(s) each", self.workers, threads)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start, initargs=(self.model, threads))
        return self._pool

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        pool = self._started()
        futures = {pool.submit(_encode, texts[a:b]): (a, b) for a, b in blocks(len(texts), BLOCK)}
        for future in as_completed(futures):
            a, b = futures[future]
            out[a:b] = future.result()
            if progress:
                progress(b - a)
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
