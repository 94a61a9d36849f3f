from __future__ import annotations

import numpy as np
import pytest

from index.storage import filearray
from index.storage.filearray import FileArray
from index.storage.lexical import LexicalIndex, tokenize

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


def _bm25s_reference(token_lists):
    import bm25s

    reference = bm25s.BM25()
    reference.index([tokens or [""] for tokens in token_lists], show_progress=False)
    return reference


@pytest.mark.parametrize("query", ["Singh border", "ministers Vientiane meeting", "nothing matches here", "",
                                   "border border"])
def test_scores_equal_bm25s_own_before_and_after_load(saved, query):
    built, loaded = saved
    tokens = tokenize(query)
    # bm25s needs a dummy token in empty rows, which lengthens them by one:
    # compare on the non-empty rows' own corpus.
    rows = [tokenize(t) for t in TEXTS if t]
    reference = _bm25s_reference(rows)
    known = [t for t in tokens if t in reference.vocab_dict]
    expected = reference.get_scores(known) if known else np.zeros(len(rows))
    ours = LexicalIndex.build(rows)
    assert np.allclose(ours.scores(tokens), expected, atol=1e-6)
    assert loaded.scores(tokens).shape == (len(TEXTS),)
    assert np.array_equal(loaded.scores(tokens), built.scores(tokens))
    assert loaded.scores(tokens)[3] == 0  # the empty row


def test_random_corpus_matches_bm25s_and_postings_ascend():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    rows = [list(rng.choice(words, size=rng.integers(1, 12))) for _ in range(200)]
    ours, reference = LexicalIndex.build(rows), _bm25s_reference(rows)
    for term in words:
        postings = ours.postings(term)
        assert np.all(np.diff(postings) > 0)
        assert postings.tolist() == [i for i, r in enumerate(rows) if term in r]
        assert np.allclose(ours.scores([term]), reference.get_scores([term]), atol=1e-6)
    assert ours.vocabulary == frozenset(t for r in rows for t in r)


def test_from_ids_leaves_out_terms_no_row_holds():
    index = LexicalIndex.from_ids([(np.array([0, 2]), np.array([0, 0])), (np.array([2]), np.array([1]))], 3,
                                  {"a": 0, "unused": 1, "c": 2})
    assert index.vocabulary == {"a", "c"}
    assert index.postings("c").tolist() == [0, 1] and index.postings("unused").tolist() == []
    assert index.scores(["c"])[2] == 0


def test_loaded_postings_are_held_when_small_and_read_from_disk_when_large(saved, monkeypatch, tmp_path):
    built, _ = saved
    assert isinstance(LexicalIndex.load(tmp_path / "bm25", 0)._indices, np.ndarray)  # a small index is held
    monkeypatch.setattr(filearray, "HOLD_BELOW", 0)
    loaded = LexicalIndex.load(tmp_path / "bm25", len(TEXTS))
    assert isinstance(loaded._indices, FileArray) and isinstance(loaded._data, FileArray)
    for term in ("singh", "border", "vientian", "unknown"):
        assert loaded.postings(term).tolist() == built.postings(term).tolist()
    assert loaded.document_frequency("singh") == 2 and loaded.vocabulary == built.vocabulary


def test_blocks_give_the_same_index_as_one_block():
    rng = np.random.default_rng(1)
    rows = [list(rng.choice([f"t{i}" for i in range(20)], size=rng.integers(0, 8))) for _ in range(50)]
    whole = LexicalIndex.build(rows)
    vocabulary = dict(whole._vocabulary)
    ids = [np.array([vocabulary[t] for t in r], dtype=np.int64) for r in rows]
    blocks = [(np.concatenate(ids[lo : lo + 7] + [np.zeros(0, dtype=np.int64)]),
               np.repeat(np.arange(lo, min(lo + 7, 50)), [len(i) for i in ids[lo : lo + 7]])) for lo in range(0, 50, 7)]
    split = LexicalIndex.from_ids(reversed(blocks), 50, vocabulary)  # blocks in any order
    for part in ("_data", "_indices", "_indptr"):
        assert np.array_equal(getattr(split, part), getattr(whole, part))


@pytest.mark.parametrize("limit", [0, 1, 2, 5])
def test_postings_limit_reads_only_the_first_rows(saved, limit):
    built, loaded = saved
    for term in ("singh", "border", "unknown"):
        assert loaded.postings(term, limit=limit).tolist() == built.postings(term).tolist()[:limit]
        assert loaded.document_frequency(term) == len(built.postings(term))


def test_saved_files_are_bm25s_own_format(saved, tmp_path):
    """What askdoc writes, bm25s loads and scores the same: the format stays bm25s's."""
    import bm25s

    built, _ = saved
    reference = bm25s.BM25.load(str(tmp_path / "bm25"))
    for query in (["singh"], ["dong", "jun"], ["china", "singh", "absent"]):
        ids = [reference.vocab_dict[t] for t in query if t in reference.vocab_dict]
        assert np.allclose(reference.get_scores(ids), built.scores(query), atol=1e-6)
