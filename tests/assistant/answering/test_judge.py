"""How the reader's judgment joins an answer (assistant/answering/judge.py),
with a fake reader whose readings are set by the test: the order it gives,
declining, the short answer's offsets, and the answer built from them. The
real reader's quality is measured in tests/assistant/answering/test_shipped_reader.py
and the benchmarks."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.answering.judge import judge, neighbours
from assistant.answering.reader import Reader, Reading
from assistant.core import Assistant
from assistant.params import Params, ReaderSettings
from index.build import build_index

DOC = ("The summit opened in Vientiane. Singh met Dong Jun on Wednesday. Singh also met Khaled Nordin.\n"
       "The talks covered the border. Trade was not discussed.\n")


class FakeReader(Reader):
    """Reads a sentence as answering when it holds ``word``; its span is that word."""

    def __init__(self, word: str, score: float = 4.0) -> None:
        self.word, self.score, self.calls = word, score, []

    def read(self, question, candidates, max_tokens=128):
        self.calls.append((question, list(candidates), max_tokens))
        out = []
        for sentence, _, _ in candidates:
            at = sentence.find(self.word)
            out.append(Reading(self.score if at >= 0 else -4.0, (at, at + len(self.word)) if at >= 0 else (0, 0), 1.0))
        return out


SETTINGS = ReaderSettings("fake.onnx", weight=1.0, min_probability=0.3, short_answer=0.6, candidates=4, tokens=96)


@pytest.fixture
def assistant(write_docs, fake_embedder, tmp_path):
    docs = write_docs({"summit.txt": DOC, "bread.txt": "Bread needs flour, water and yeast. Bake it hot."})
    build_index(docs, tmp_path / "index", fake_embedder)
    params = dataclasses.replace(Params.load(), reader=SETTINGS)
    return Assistant.load(tmp_path / "index", embedder=fake_embedder, params=params, reader=FakeReader("Dong Jun"))


def ranked_for(assistant, question):
    from assistant.retrieval.query import prepare

    query = prepare(question, [])
    vector = assistant.embedder.encode([query.search_text])[0]
    return assistant.retriever.search(query, vector)[1]


def test_the_reader_orders_the_candidates_it_reads_and_keeps_the_rest_below(assistant):
    ranked = ranked_for(assistant, "Who did Singh meet in Vientiane on Wednesday?")
    reader = FakeReader("Khaled Nordin")
    judgment = judge(reader, "Who else?", assistant.index, ranked, SETTINGS)
    assert [(len(c), t) for _, c, t in reader.calls] == [(SETTINGS.candidates, SETTINGS.tokens)]  # one read, in the window set
    assert assistant.index.sentence_text(judgment.ranked[0].sentence) == "Singh also met Khaled Nordin."
    assert judgment.ranked[SETTINGS.candidates:] == ranked[SETTINGS.candidates:]
    assert sorted(h.sentence for h in judgment.ranked) == sorted(h.sentence for h in ranked)
    assert not judgment.declines and judgment.best > 0.9


def test_the_short_answer_is_the_document_s_own_text(assistant):
    ranked = ranked_for(assistant, "Who did Singh meet?")
    judgment = judge(FakeReader("Dong Jun"), "Who did Singh meet?", assistant.index, ranked, SETTINGS)
    short = judgment.short_answer
    assert short is not None and short.text == "Dong Jun" and short.source == "summit.txt"
    assert DOC[short.start:short.end] == "Dong Jun"


def test_nothing_the_reader_believes_declines_and_an_unsure_span_is_not_shown(assistant):
    ranked = ranked_for(assistant, "When did Singh meet the US secretary?")
    assert judge(FakeReader("Hegseth"), "q", assistant.index, ranked, SETTINGS).declines
    unsure = judge(FakeReader("Dong Jun", score=0.0), "q", assistant.index, ranked, SETTINGS)  # probability 0.5
    assert not unsure.declines and unsure.short_answer is None


def test_the_reader_reads_each_candidate_with_its_neighbours(assistant):
    t = assistant.index.tables
    row = next(i for i in range(len(t.sent_doc)) if assistant.index.sentence_text(i).startswith("Singh met"))
    assert neighbours(assistant.index, row) == ("The summit opened in Vientiane.", "Singh also met Khaled Nordin.")
    first = next(i for i in range(len(t.sent_doc)) if assistant.index.sentence_text(i).startswith("Bread"))
    assert neighbours(assistant.index, first)[0] == ""  # never the last sentence of another document


def test_an_answer_carries_the_short_answer_and_declines_with_the_reader(assistant):
    assistant.reader = FakeReader("Dong Jun")
    answer = assistant.ask("When did Singh meet Dong Jun?")
    assert not answer.abstained and answer.short_answer is not None
    assert answer.to_dict()["short_answer"] == {"text": "Dong Jun", "source": "summit.txt",
                                                "start": DOC.index("Dong Jun"), "end": DOC.index("Dong Jun") + 8}
    assert "Singh met Dong Jun on Wednesday." in answer.text
    assistant.reader = FakeReader("Hegseth")
    declined = assistant.ask("When did Singh meet Dong Jun?")
    assert declined.abstained and declined.short_answer is None and declined.to_dict()["short_answer"] is None


def test_a_broad_question_is_answered_without_the_reader(assistant):
    reader = assistant.reader = FakeReader("Hegseth")  # it would decline, were it asked
    answer = assistant.ask("What did the talks cover?")  # several points, not the one sentence it finds
    assert not answer.abstained and answer.short_answer is None and reader.calls == []


def test_without_the_reader_nothing_is_read(write_docs, fake_embedder, tmp_path):
    docs = write_docs({"summit.txt": DOC})
    build_index(docs, tmp_path / "index", fake_embedder)
    plain = Assistant.load(tmp_path / "index", embedder=fake_embedder, params=Params.load().without_reader())
    assert plain.reader is None
    answer = plain.ask("Who did Singh meet on Wednesday?")
    assert not answer.abstained and answer.short_answer is None


def test_features_the_reader_made_redundant_weigh_nothing_only_where_it_judges_one_answer(assistant, fake_embedder, tmp_path):
    import json

    from index.errors import ModelError

    params = dataclasses.replace(Params.load(), reader=dataclasses.replace(SETTINGS, unweighted=("answer_type_when",)))
    reading = Assistant.load(tmp_path / "index", embedder=fake_embedder, params=params, reader=FakeReader("Dong Jun"))
    without = Assistant.load(tmp_path / "index", embedder=fake_embedder, params=params.without_reader())
    fitted = dict(params.weights.sentence)["answer_type_when"]
    assert dict(reading.reading_weights.sentence)["answer_type_when"] == 0.0 < fitted
    assert dict(without.reading_weights.sentence)["answer_type_when"] == fitted
    # Broad questions and lists, which the reader does not judge as one answer, keep every rule.
    assert dict(reading.retriever.weights.sentence)["answer_type_when"] == fitted
    plain = reading.ask("When did Singh meet Dong Jun?")
    assert not plain.abstained and "Wednesday" in plain.text
    assert Params.from_json(params.to_json()) == params
    data = json.loads(params.to_json())
    data["reader"]["unweighted"] = ["answer_type_colour"]
    with pytest.raises(ModelError, match="answer_type_colour"):
        Params.from_json(json.dumps(data))
