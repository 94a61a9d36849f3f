from __future__ import annotations

import numpy as np
import pytest

from index.filearray import FileArray
from index.lexical import LexicalIndex, tokenize

TEXTS = [
    "Singh met Dong Jun in Vientiane.",
    "The ministers discussed the border.",
    "Singh spoke about peace and the border with China.",
    "",
    "Vientiane hosted the meeting of defence ministers.",
]


@pytest.fixture
def saved(tmp_path):
    built = LexicalIndex.build([tokenize(t) for t in TEXTS])
    built.save(tmp_path / "bm25")
    return built, LexicalIndex.load(tmp_path / "bm25", len(TEXTS))


@pytest.mark.parametrize("query", ["Singh border", "ministers Vientiane meeting", "nothing matches here", "",
                                   "border border"])
def test_scores_after_load_equal_bm25s_own(saved, query):
    built, loaded = saved
    tokens = tokenize(query)
    ours = loaded.scores(tokens)
    known = [t for t in tokens if t in built._bm25.vocab_dict]
    expected = built._bm25.get_scores(known) if known else np.zeros(len(TEXTS))
    assert ours.shape == (len(TEXTS),) and np.allclose(ours, expected, atol=1e-6)
    assert np.allclose(built.scores(tokens), expected, atol=1e-6)


def test_loaded_postings_are_read_from_disk_not_mapped(saved):
    built, loaded = saved
    assert isinstance(loaded._bm25.scores["indices"], FileArray)
    for term in ("singh", "border", "vientian", "unknown"):
        assert loaded.postings(term).tolist() == built.postings(term).tolist()
    assert loaded.document_frequency("singh") == 2 and loaded.vocabulary == built.vocabulary
