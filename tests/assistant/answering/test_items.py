"""List answers judged by the reader (assistant/answering/items.py), with a
fake reader whose readings the test sets: who is an item, what a "besides"
clause sets aside, and the answer quoted from the items. The real reader's
list answers are measured by the own phrasing set
(tests/benchmarks/accuracy/quality.py --sets phrasing-fit phrasing-held-out)."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.answering.items import items, set_aside
from assistant.answering.reader import Reader, Reading
from assistant.core import Assistant
from assistant.params import Params, ReaderSettings
from index.build import build_index

DOC = ("The summit opened in Vientiane on Monday. Singh met Defence Minister Dong Jun on Wednesday.\n"
       "The border was discussed at length. Singh also met General Khaled Nordin of Malaysia.\n"
       "Both ministers spoke of trust. Singh thanked the hosts from Laos.\n")

SETTINGS = ReaderSettings("fake.onnx", weight=1.0, min_probability=0.0, short_answer=0.6, candidates=4, tokens=96,
                          list_candidates=6, list_probability=0.5)


class NamesReader(Reader):
    """Reads a sentence as answering when it holds one of ``names``; its span is that name."""

    def __init__(self, *names: str, score: float = 3.0) -> None:
        self.names, self.score, self.calls = names, score, []

    def read(self, question, candidates, max_tokens=128):
        self.calls.append((question, len(candidates)))
        out = []
        for sentence, _, _ in candidates:
            name = next((n for n in self.names if n in sentence), None)
            at = sentence.find(name) if name else -1
            out.append(Reading(self.score if name else -3.0, (at, at + len(name)) if name else (0, 0), 1.0))
        return out


@pytest.fixture
def assistant(write_docs, fake_embedder, tmp_path):
    docs = write_docs({"summit.txt": DOC, "bread.txt": "Bread needs flour, water and yeast. Bake it hot."})
    build_index(docs, tmp_path / "index", fake_embedder)
    params = dataclasses.replace(Params.load(), reader=SETTINGS)
    return Assistant.load(tmp_path / "index", embedder=fake_embedder, params=params,
                          reader=NamesReader("Dong Jun", "Khaled Nordin"))


def test_a_list_of_people_quotes_each_sentence_that_names_one_in_the_documents_order(assistant):
    answer = assistant.ask("Who did Singh meet at the summit?")
    assert not answer.abstained and answer.short_answer is None
    assert [q.text for q in answer.quotes] == ["Singh met Defence Minister Dong Jun on Wednesday.",
                                               "Singh also met General Khaled Nordin of Malaysia."]
    assert assistant.reader.calls == [("Who did Singh meet at the summit?", SETTINGS.list_candidates)]


def test_besides_sets_its_person_aside_and_the_reader_reads_the_question_without_it(assistant):
    answer = assistant.ask("Who did Singh meet besides Dong Jun?")
    assert [q.text for q in answer.quotes] == ["Singh also met General Khaled Nordin of Malaysia."]
    assert assistant.reader.calls[0][0] == "Who did Singh meet?"
    described = assistant.ask("Apart from the defence minister, whom did Singh meet?")  # set aside by description
    assert [q.text for q in described.quotes] == ["Singh also met General Khaled Nordin of Malaysia."]


def test_a_name_the_question_uses_or_an_unsure_reading_is_no_item(assistant):
    ranked = assistant.retriever.search(*_query(assistant, "Who met Dong Jun?"))[1]
    listing = set_aside("Who met Dong Jun?")
    found = items(assistant.reader, listing, "Who met Dong Jun?", assistant.index, ranked, SETTINGS)
    assert [assistant.index.sentence_text(h.sentence) for h in found] == [
        "Singh also met General Khaled Nordin of Malaysia."]  # Dong Jun is asked about, not an answer
    unsure = NamesReader("Dong Jun", "Khaled Nordin", score=-0.5)  # probability 0.38, under 0.5
    assert items(unsure, set_aside("Who did Singh meet?"), "Who did Singh meet?", assistant.index, ranked,
                 SETTINGS) == []


def test_without_an_item_the_answer_is_chosen_as_before(assistant):
    assistant.reader = NamesReader("Laos")  # one word, a place: not a person's name
    answer = assistant.ask("Who did Singh meet at the summit?")
    assert not answer.abstained and answer.quotes  # retrieval's choice, not an empty list


def _query(assistant, question):
    from assistant.retrieval.query import prepare

    query = prepare(question, [])
    return query, assistant.embedder.encode([query.search_text])[0]
