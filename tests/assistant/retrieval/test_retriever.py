"""Candidate generation and sentence scoring on a tiny index built with the
fake embedder: the fusion logic, independent of model quality."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from assistant.params import FEATURES, Params, Weights
from assistant.retrieval.query import prepare
from assistant.retrieval.retriever import Retriever
from index.build import build_index
from index.documents.chunking import ChunkSettings
from index.storage.builds import load
from index.storage.lexical import tokenize

DOCS = {
    "river.txt": "The river Alder floods every spring. Farmers built levees in 1952. The levees failed in 1978.\n\n"
                 "Engineers later proposed a canal. The canal opened in 1990 and ended the floods.\n",
    "bread.txt": "Bread needs flour, water and yeast. Bake it hot.\n",
    "ships.txt": "The harbour of Quillon handled ships. Traders sold cloth there.\n",
}


@pytest.fixture
def index(write_docs, fake_embedder, tmp_path):
    build_index(write_docs(DOCS), tmp_path / "index", fake_embedder, ChunkSettings(size=90, overlap=0))
    return load(tmp_path / "index")


def shipped(**changes) -> Weights:
    """The shipped weights (params.json), with ``changes``."""
    return dataclasses.replace(Params.load().weights, **changes)


def search(index, embedder, question: str, weights: Weights | None = None):
    return Retriever(index, embedder, weights or shipped()).search(prepare(question))


def test_bm25_adds_chunks_dense_search_missed(index, fake_embedder):
    # One dense candidate only (the bread chunk, by most shared words): the
    # chunk naming "Quillon" can only come from BM25.
    question = "Does bread with flour, water and yeast come from Quillon?"
    dense_only, _, _ = search(index, fake_embedder, question, shipped(dense_candidates=1, lexical_candidates=0))
    assert [h.source for h in dense_only] == ["bread.txt"]
    hits, _, _ = search(index, fake_embedder, question, shipped(dense_candidates=1))
    assert {"bread.txt", "ships.txt"} <= {h.source for h in hits}


def test_chunks_rank_by_dense_score_plus_weighted_coverage(index, fake_embedder):
    weights = shipped(anchor=0.0, bm25=0.0)
    hits, _, _ = search(index, fake_embedder, "When did the levees fail?", weights)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for h in hits:
        assert h.score == pytest.approx(h.dense + weights.chunk_coverage * h.coverage, abs=1e-5)
        text = index.chunk_text(h.chunk)
        assert index.document(h.source).text[h.start : h.end] == text
    assert hits[0].source == "river.txt" and "levees" in index.chunk_text(hits[0].chunk)


def test_bm25_share_is_each_chunks_bm25_against_the_most_any_chunk_could_score(index, fake_embedder):
    retriever = Retriever(index, fake_embedder, shipped())
    terms = tokenize("levees canal")
    rows = np.arange(index.chunk_count)
    share = retriever._bm25_share([(t,) for t in terms], rows)
    lexical = index.chunk_lexical
    ceiling = sum((lexical.k1 + 1) * lexical.idf(t) for t in terms)
    assert share == pytest.approx(lexical.scores(terms) / ceiling, abs=1e-6)
    assert share.max() > 0 and (share < 1).all()
    # An absolute scale: a chunk's share is the same whatever else is a candidate (or in scope).
    assert retriever._bm25_share([(t,) for t in terms], rows[::-1][:2]) == pytest.approx(share[::-1][:2], abs=1e-7)
    assert retriever._bm25_share([("nowhere",)], rows).tolist() == [0.0] * index.chunk_count


def test_a_question_term_counts_once_by_the_best_of_its_forms(index, fake_embedder):
    """Forms of one question term are alternatives: a chunk scores by the
    best form it holds, the ceiling by the rarest form; a form no document
    holds changes nothing."""
    retriever = Retriever(index, fake_embedder, shipped())
    levees, canal = tokenize("levees canal")
    rows = np.arange(index.chunk_count)
    lexical = index.chunk_lexical
    alone = retriever._bm25_share([(levees,)], rows)
    assert retriever._bm25_share([(levees, "nowhere")], rows) == pytest.approx(alone)
    both = retriever._bm25_share([(levees, canal)], rows)
    best = np.maximum(lexical.scores_at([levees], rows), lexical.scores_at([canal], rows))
    ceiling = (lexical.k1 + 1) * max(lexical.idf(levees), lexical.idf(canal))
    assert both == pytest.approx(best / ceiling, abs=1e-6)


def test_bm25_share_weighs_which_document_answers_not_which_of_its_sentences(index, fake_embedder):
    question = "Did the farmers of the river build levees and bake bread with flour?"
    hits, plain, _ = search(index, fake_embedder, question, shipped(anchor=0.0, bm25=0.0))
    retriever = Retriever(index, fake_embedder, shipped(anchor=2.0, bm25=3.0))
    seen = {}
    measured = retriever._bm25_share

    def recorded(terms, ids):
        seen["share"] = dict(zip(ids.tolist(), measured(terms, ids).tolist()))
        return measured(terms, ids)

    retriever._bm25_share = recorded  # type: ignore[method-assign]
    weighted_hits, weighted, _ = retriever.search(prepare(question))
    assert [h.score for h in weighted_hits] == [h.score for h in hits]  # the chunks' own scores stand
    # A chunk stands by how strongly each retriever ranks it: dense similarity and BM25 share.
    standing = {h.chunk: h.dense + 3.0 * seen["share"][h.chunk] for h in hits}
    best_in = {}
    for h in hits:
        best_in[h.source] = max(best_in.get(h.source, -1e9), standing[h.chunk])
    before = {h.sentence: h.score for h in plain}
    assert len(best_in) >= 2 and len(set(seen["share"].values())) > 1
    shifts = [h.score - before[h.sentence] - 2.0 * (best_in[h.source] - max(standing.values())) for h in weighted]
    assert max(shifts) - min(shifts) == pytest.approx(0.0, abs=1e-5)  # the same for every sentence
    assert weighted[0].score == pytest.approx(plain[0].score, abs=1e-6)  # the best keeps the plain best's score


def test_sentences_holding_the_answer_type_asked_for_win(index, fake_embedder):
    _, sentences, unknown = search(index, fake_embedder, "When did the levees fail?")
    best = sentences[0]
    assert index.sentence_text(best.sentence) == "The levees failed in 1978."
    assert best.holds_answer_type and unknown == []
    assert [s.score for s in sentences] == sorted((s.score for s in sentences), reverse=True)
    features = dict(zip(FEATURES, best.features))
    assert features["answer_type_when"] == 1.0 and features["answer_type_number"] == 0.0 and features["restates"] == 0.0
    # The typed weight is what separates it from the same sentence scored without it.
    weights = dict(shipped().sentence)
    _, plain, _ = search(index, fake_embedder, "When did the levees fail?",
                         shipped(sentence=tuple({**weights, "answer_type_when": 0.0}.items())))
    by_sentence = {s.sentence: s.score for s in plain}
    assert best.score - by_sentence[best.sentence] == pytest.approx(weights["answer_type_when"], abs=1e-5)


def test_a_score_is_the_weighted_sum_of_its_features(index, fake_embedder):
    weights = dict(shipped().sentence)
    _, sentences, _ = search(index, fake_embedder, "What did the engineers propose for the river?", shipped(anchor=0.0))
    for hit in sentences:
        assert len(hit.features) == len(FEATURES)
        assert hit.score == pytest.approx(sum(weights[f] * v for f, v in zip(FEATURES, hit.features)), abs=1e-5)
        assert dict(zip(FEATURES, hit.features))["dense"] == pytest.approx(hit.dense)


def test_a_sentence_outside_the_best_chunks_document_loses_by_its_documents_gap(index, fake_embedder):
    question = "Did the farmers of the river build levees and bake bread with flour?"
    hits, plain, _ = search(index, fake_embedder, question, shipped(anchor=0.0, bm25=0.0))
    _, anchored, _ = search(index, fake_embedder, question, shipped(anchor=2.0, bm25=0.0))
    best_in = {}
    for h in hits:
        best_in[h.source] = max(best_in.get(h.source, -1e9), h.dense)
    before = {h.sentence: h.score for h in plain}
    assert len(best_in) >= 2
    best = max(h.dense for h in hits)
    shifts = [h.score - before[h.sentence] - 2.0 * (best_in[h.source] - best) for h in anchored]
    assert max(shifts) - min(shifts) == pytest.approx(0.0, abs=1e-5)
    assert anchored[0].score == pytest.approx(plain[0].score, abs=1e-6)  # the abstention threshold's scale


def test_sentences_come_only_from_the_best_chunks(index, fake_embedder):
    weights = shipped(chunks_for_sentences=1, standing_chunks=0)  # the chunks that stand best: the test below
    hits, sentences, _ = search(index, fake_embedder, "When did the canal open?", weights)
    t = index.tables
    best = hits[0].chunk
    allowed = set(range(int(t.chunk_first[best]), int(t.chunk_last[best]) + weights.window + 1))
    assert sentences and {s.sentence for s in sentences} <= allowed
    assert all(s.chunk == best for s in sentences)


def test_terms_no_document_uses_are_reported(index, fake_embedder):
    _, _, unknown = search(index, fake_embedder, "When did the zorblax levees fail?")
    assert unknown == ["zorblax"]


def test_question_words_are_neither_searched_nor_unknown(index, fake_embedder):
    _, _, unknown = search(index, fake_embedder, "Whom did they tell?")
    assert unknown == []


def test_a_query_vector_can_be_given(index, fake_embedder):
    query = prepare("When did the canal open?")
    vector = fake_embedder.encode([query.search_text])[0]
    retriever = Retriever(index, fake_embedder, shipped())
    with_vector = retriever.search(query, np.asarray(vector))
    assert [h.chunk for h in with_vector[0]] == [h.chunk for h in retriever.search(query)[0]]


def test_the_chunk_that_stands_best_has_its_sentences_read(index, fake_embedder):
    """Sentences come from the best chunks by score and, with
    ``standing_chunks``, from the chunks that stand best by dense similarity
    and BM25 share, wherever their score put them (here the score is the
    fake embedder's similarity alone, and BM25 favours another chunk)."""
    question = "Did traders sell bread in Quillon?"
    narrow = shipped(anchor=1.0, bm25=50.0, chunks_for_sentences=1, chunk_coverage=0.0, standing_chunks=0)
    hits, plain, _ = search(index, fake_embedder, question, narrow)
    assert {s.chunk for s in plain} == {hits[0].chunk} and hits[0].source == "bread.txt"
    wider = dataclasses.replace(narrow, standing_chunks=1)
    wider_hits, sentences, _ = search(index, fake_embedder, question, wider)
    assert [h.chunk for h in wider_hits] == [h.chunk for h in hits]  # the chunk ranking stands
    assert {s.source for s in sentences} == {"bread.txt", "ships.txt"}
    assert sentences[0].source == "ships.txt"  # and its document, standing best, answers


@pytest.mark.parametrize("asking", [0.0, 0.5, 1.0])
def test_a_question_that_sets_its_scene_weighs_its_asking_sentence(index, fake_embedder, asking):
    """A sentence's similarity is ``asking`` to the asking sentence and the
    rest to the whole question; given or embedded here, the same."""
    query = prepare("Farmers built levees along the river Alder. When did the canal open?")
    assert query.asking == "When did the canal open?"
    retriever = Retriever(index, fake_embedder, shipped(asking=asking))
    whole, asked = (np.asarray(v) for v in fake_embedder.encode([query.search_text, query.asking]))
    _, sentences, _ = retriever.search(query)
    _, given, _ = retriever.search(query, whole, asking_vector=asked)
    assert sentences and [s.features for s in given] == [s.features for s in sentences]
    vectors = index.sentence_vectors[np.array([s.sentence for s in sentences])]
    expected = (1 - asking) * (vectors @ whole) + asking * (vectors @ asked)
    assert [s.features[0] for s in sentences] == pytest.approx(expected.tolist(), abs=1e-5)
