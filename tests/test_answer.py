"""Answer composition on a tiny index built with the fake embedder: the
logic of citations, excerpts and abstention, independent of model quality."""

from __future__ import annotations

import pytest

from assistant.answer import NOT_FOUND, AnswerConfig, compose, excerpt_bounds
from assistant.engine import Assistant
from assistant.evaluate import citations_exact
from index import store
from index.build import build_index
from index.errors import QuestionError

DOC = (
    "The river Alder floods every spring. Farmers built levees in 1952. The levees failed in 1978.\n"
    "Engineers later proposed a canal. The canal opened in 1990 and ended the floods.\n"
)


@pytest.fixture
def small(write_docs, fake_embedder, tmp_path):
    docs = write_docs({"river.txt": DOC, "other.txt": "Bread needs flour, water and yeast. Bake it hot."})
    build_index(docs, tmp_path / "index", fake_embedder)
    return Assistant.load(tmp_path / "index", embedder=fake_embedder)


def test_answers_quote_the_document_exactly(small):
    answer = small.ask("When did the levees fail?")
    assert not answer.abstained and answer.citations
    assert citations_exact(answer, lambda s: small.index.document(s).text)
    first = answer.citations[0]
    assert first.source == "river.txt"
    assert DOC[first.highlight_start : first.highlight_end] == "The levees failed in 1978."
    assert answer.text.startswith("The levees failed in 1978. [1]")


def test_excerpt_stays_in_paragraph_and_budget(small):
    index = small.index
    target = next(i for i in range(index.sentence_count) if index.sentence_text(i).startswith("Farmers"))
    for budget in (10, 80, 200, 10_000):
        first, last = excerpt_bounds(index, target, {}, budget)
        assert first <= target <= last
        assert len({int(index.tables.sent_para[s]) for s in range(first, last + 1)}) == 1
        assert first == last or index.tables.sent_end[last] - index.tables.sent_start[first] <= budget


@pytest.mark.parametrize("question", ["How do you repair a bicycle chain?", "Who is Zorblax Quentavius?"])
def test_unrelated_questions_abstain(small, question):
    answer = small.ask(question)
    assert answer.abstained and answer.text == NOT_FOUND and answer.citations == ()
    assert answer.to_dict() == {"question": question, "answer": NOT_FOUND, "abstained": True, "citations": []}


def test_no_candidates_means_abstain(small):
    assert compose("q", small.index, [], [], frozenset()).abstained


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_unusable_questions_raise(small, question):
    with pytest.raises(QuestionError):
        small.ask(question)


def test_answer_length_is_bounded(small):
    small.config = AnswerConfig(max_chars=60)
    answer = small.ask("What happened to the river Alder floods and levees and the canal?")
    quoted = [small.index.document(c.source).text[c.highlight_start : c.highlight_end] for c in answer.citations]
    assert len(quoted) == 1 or sum(map(len, quoted)) <= 60


def test_to_dict_matches_the_json_contract(small):
    data = small.ask("When did the canal open?").to_dict()
    assert set(data) == {"question", "answer", "abstained", "citations"}
    for c in data["citations"]:
        assert {"n", "source", "start", "end", "text", "score"} <= set(c)
        assert store.load(small.index.path.parent).document(c["source"]).text[c["start"] : c["end"]] == c["text"]
