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


log = logging.getLogger(__name__)

BATCH_SIZE = 64

Progress = Callable[[int], None]
"""Called with the number of texts just finished."""


class Embedder(Protocol):
    """What builds and questions need of a model, every capability declared
    (no caller probes for one):

    - ``model_id`` and ``dimension``: what the index records;
    - ``encoder``: what computes the vectors (``onnx-fp32``, ``torch``, ...;
      ``""`` for a stand-in);
    - ``encode``: unit rows for texts, reporting progress;
    - ``prepare``: work done once at index time, never while answering
      (exporting an ONNX graph); may do nothing;
    - ``use_threads``: how many threads one process may use (a worker of a
      pool gets its share); may do nothing.
    """

    model_id: str

    @property
    def dimension(self) -> int: ...

    @property
    def encoder(self) -> str: ...

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...

    def prepare(self) -> None: ...

    def use_threads(self, threads: int) -> None: ...


def quiet_offline_hub() -> None:
    """Model libraries set up to never reach a model hub (the machine may be
    offline, and a silent download would hide a misconfiguration) and to
    print no progress bars or warnings of their own."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


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
