"""Answer composition on a tiny index built with the fake embedder: the
logic of citations, excerpts and abstention, independent of model quality."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.answering.answer import NOT_FOUND
from assistant.answering.compose import compose
from assistant.core import Assistant
from assistant.evaluate import citations_exact
from assistant.params import Params
from assistant.retrieval.query import prepare
from index.build import build_index
from index.errors import QuestionError
from index.storage import builds

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


@pytest.mark.parametrize("question", ["How do you repair a bicycle chain?", "Who is Zorblax Quentavius?"])
def test_unrelated_questions_abstain(small, question):
    answer = small.ask(question)
    assert answer.abstained and answer.text == NOT_FOUND and answer.citations == ()
    assert answer.to_dict() == {"question": question, "answer": NOT_FOUND, "abstained": True, "citations": [],
                                "mode": "extractive", "short_answer": None}


def test_no_candidates_means_abstain(small):
    assert compose(prepare("q"), small.index, [], [], small.settings).abstained


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_unusable_questions_raise(small, question):
    with pytest.raises(QuestionError):
        small.ask(question)


@pytest.mark.parametrize("question, broad", [
    ("Which canal did the engineers of the river Alder propose?", False),
    ("Which floods, levees and canal did the river Alder have?", True),
    ("What happened to the river Alder floods and levees and the canal?", True),
])
def test_answer_length_is_bounded(small, question, broad):
    from assistant.retrieval.query import is_broad

    assert is_broad(question) is broad
    small.settings = replace(small.settings, max_chars=60, broad_max_chars=90)
    quoted = [q.text for q in small.ask(question).sentences()]
    assert len(quoted) == 1 or sum(map(len, quoted)) <= (90 if broad else 60)


def test_broad_questions_get_distinct_points(small):
    small.settings = replace(small.settings, margin=10.0)  # every candidate may join; only the budget and MMR choose
    answer = small.ask("What happened to the river Alder floods and levees and the canal?")
    quoted = [q.text for q in answer.sentences()]
    assert 2 <= len(quoted) <= small.settings.broad_max_sentences
    assert len(set(quoted)) == len(quoted)
    assert sum(map(len, quoted)) <= small.settings.broad_max_chars


def test_to_dict_matches_the_json_contract(small):
    data = small.ask("When did the canal open?").to_dict()
    assert set(data) == {"question", "answer", "abstained", "citations", "mode", "short_answer"}
    for c in data["citations"]:
        assert {"n", "source", "start", "end", "text", "score"} <= set(c)
        assert builds.load(small.index.path.parent).document(c["source"]).text[c["start"] : c["end"]] == c["text"]


TWINS = {
    "a.txt": "Harbor Lights\n\n“Harbor Lights” is officially coming back.\n\n"
             "The network announced Sunday that the drama is green lit for a second season.\n\n"
             "Filming starts in March in Halifax.\n",
    "b.txt": "Wire report\n\nThe network announced Sunday that the drama is green lit for a second season.\n\n"
             "Critics praised the first season.\n",
}


@pytest.fixture
def twins(write_docs, fake_embedder, tmp_path):
    build_index(write_docs(TWINS), tmp_path / "index", fake_embedder)
    return Assistant.load(tmp_path / "index", embedder=fake_embedder)


def test_a_sentence_in_two_documents_is_quoted_once_and_cites_both(twins):
    answer = twins.ask("What did the network announce Sunday about the drama's second season?")
    sentence = "The network announced Sunday that the drama is green lit for a second season."
    assert answer.text.count(sentence) == 1
    (quote,) = [q for q in answer.sentences() if q.text == sentence]
    assert len(quote.citations) == 2
    assert {c.source for c in answer.citations if c.n in quote.citations} == {"a.txt", "b.txt"}
    assert citations_exact(answer, lambda s: twins.index.document(s).text)


def test_sentences_of_one_excerpt_share_one_citation(small):
    small.settings = replace(small.settings, margin=10.0)  # let every close sentence in
    answer = small.ask("What happened to the levees and the canal of the river Alder?")
    assert len(answer.sentences()) >= 2
    spans = [(c.source, c.start, c.end) for c in answer.citations]
    for i, (doc, a, b) in enumerate(spans):  # no two citations overlap
        assert all(doc != d or b <= c or e <= a for d, c, e in spans[i + 1 :])
    shared = [c for c in answer.citations if len(c.highlights) > 1]
    assert shared and all(c.highlights[0] == (c.highlight_start, c.highlight_end) for c in shared)
    assert citations_exact(answer, lambda s: small.index.document(s).text)
    assert answer.to_dict()["citations"][0]["highlights"] == [list(h) for h in answer.citations[0].highlights]


def test_packaged_parameters_round_trip_and_refuse_another_version():
    import json

    from assistant import params
    from index.errors import ModelError

    packaged = Params.load()
    assert Params.from_json(packaged.to_json()) == packaged
    assert dict(packaged.weights.sentence)["dense"] == 1.0 and packaged.answer.margin > 0
    assert set(dict(packaged.weights.sentence)) <= set(params.FEATURES)
    data = json.loads(packaged.to_json())
    data["version"] = params.VERSION + 1
    with pytest.raises(ModelError, match="version"):
        Params.from_json(json.dumps(data))
    # A window wider than the reader was trained in is refused, not read past its positions.
    data = json.loads(packaged.to_json())
    data["reader"]["tokens"] = 600
    with pytest.raises(ModelError, match="16 to 128 tokens"):
        Params.from_json(json.dumps(data))
    data["reader"].update(tokens=96, list_candidates=0)  # a list read from no candidate would never be read
    with pytest.raises(ModelError, match="1 for a list"):
        Params.from_json(json.dumps(data))


def test_a_version_1_file_reads_with_its_features_renamed_and_an_unknown_feature_is_refused():
    import json

    from index.errors import ModelError

    old = {"version": 1, "sentence_weights": {"dense": 1.0, "typed_when": 0.25},
           "chunk_weights": {"anchor": 1.0, "bm25": 8.0, "standing_chunks": 2.0, "document_bm25": 0.0},
           "min_score": 0.7, "margin": 0.3, "fitted": {"by": "hand"}}
    read = Params.from_json(json.dumps(old))
    assert read.weights.sentence == (("dense", 1.0), ("answer_type_when", 0.25))
    assert (read.weights.anchor, read.weights.bm25, read.answer.min_score) == (1.0, 8.0, 0.7)
    with pytest.raises(ModelError, match="typo_feature"):
        Params.from_json(json.dumps({**old, "sentence_weights": {"typo_feature": 1.0}}))


def test_askdoc_params_names_another_parameter_file_read_when_an_assistant_loads(small, fake_embedder, tmp_path,
                                                                                 monkeypatch):
    strict = Params.load().with_answer(min_score=100.0)
    (tmp_path / "strict.json").write_text(strict.to_json(), encoding="utf-8")
    monkeypatch.setenv("ASKDOC_PARAMS", str(tmp_path / "strict.json"))
    assert not small.ask("When did the levees fail?").abstained  # loaded before: its parameters stand
    fresh = Assistant.load(tmp_path / "index", embedder=fake_embedder)
    assert fresh.settings.min_score == 100.0
    assert fresh.ask("When did the levees fail?").abstained  # nothing scores that high
