"""``askdoc index --workers``: several processes embed, and the index is the
one a single process builds (real model, real processes)."""

from __future__ import annotations

import numpy as np

from assistant.core import Assistant
from index.build import build_index
from index.embedding.models import load_embedder
from index.embedding.workers import ProcessPoolEmbedder
from index.storage.builds import load
from tests.support import DEFAULT_DOCS


def test_two_workers_build_the_same_index_as_one_process(tmp_path, real_embedder):
    build_index(DEFAULT_DOCS, tmp_path / "one", real_embedder)
    pool = ProcessPoolEmbedder(load_embedder(), None, 2)
    try:
        report = build_index(DEFAULT_DOCS, tmp_path / "two", pool)
    finally:
        pool.close()
    one, two = load(tmp_path / "one"), load(tmp_path / "two")
    assert report.embedded == 1 and two.chunk_count == one.chunk_count and two.sentence_count == one.sentence_count
    a, b = np.asarray(one.sentence_vectors), np.asarray(two.sentence_vectors)
    assert (np.sum(a * b, axis=1) >= 0.9999).all()
    assert two.manifest.encoder == one.manifest.encoder
    question = "What did Singh tell Dong Jun?"
    assert Assistant.load(tmp_path / "two", embedder=real_embedder).ask(question).text == \
        Assistant.load(tmp_path / "one", embedder=real_embedder).ask(question).text
