from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("first, last", [([0], [0]), ([0, 1], [2, 3]), ([3, 0], [3, 3]), ([], [])])
def test_pool_chunks_matches_the_formula(first, last):
    from index.embedding.base import normalize_rows
    from index.embedding.pool import pool_chunks

    rng = np.random.default_rng(0)
    sentences = normalize_rows(rng.normal(size=(4, 5)))
    titles = normalize_rows(rng.normal(size=(len(first), 5)))
    pooled = pool_chunks(sentences, np.array(first, dtype=np.int64), np.array(last, dtype=np.int64), titles)
    expected = [sentences[f : l + 1].sum(0) / np.sqrt(l - f + 1) + t for f, l, t in zip(first, last, titles)]
    assert pooled.shape == (len(first), 5) and pooled.dtype == np.float32
    assert np.allclose(pooled, normalize_rows(np.array(expected).reshape(-1, 5)), atol=1e-6)
