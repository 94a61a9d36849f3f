"""Answer quality with the real bundled model and real FAISS.

Targets (issue 2) on the project's own question set over docs/; a floor on
a fixed XQuAD sample. ``make bench`` prints the full numbers.
"""

from __future__ import annotations

import json

import pytest

from assistant.evaluate import Case, load_cases, run
from tests.support import DATA

OWN = load_cases(DATA / "admm_questions.jsonl")


@pytest.fixture(scope="module")
def own_report(default_assistant):
    return run(default_assistant.ask, OWN, lambda s: default_assistant.index.document(s).text)


def test_question_set_is_substantial():
    assert len(OWN) >= 25
    assert sum(not c.answerable for c in OWN) >= 5
    assert any(c.question == "What did Singh tell Dong Jun?" for c in OWN)
    assert any(c.history for c in OWN)


def test_own_question_set_meets_targets(own_report):
    s = own_report.summary
    failures = [(o.case.question, o.answer.text[:120]) for o in own_report.failures()]
    assert s["fact_in_answer"] >= 0.95, failures
    assert s["fact_in_first_citation"] >= 0.90, failures
    assert s["unanswerable_abstained"] == 1.0, failures
    assert s["answerable_abstained"] == 0, failures
    assert s["citations_exact"] == 1.0


def test_restating_sentence_is_not_the_answer(default_assistant):
    answer = default_assistant.ask("What did Singh tell Dong Jun?")
    first = answer.text.split(" [1]")[0]
    assert "held discussions" not in first
    assert any(w in first for w in ("emphasized", "stated", "called for", "urged"))


@pytest.mark.parametrize("question, expected", [
    ("Chansamone Chanyalath", "Chansamone Chanyalath"),  # exact rare name: lexical signal
    ("who is chansamone chanyalat", "Chansamone Chanyalath"),  # typo and lower case
    ("Who is Malaysia's defence minister?", "Khaled Bin Nordin"),  # derived form of a name
])
def test_names_are_found_exactly(default_assistant, default_index, real_embedder, question, expected):
    from assistant.core import Assistant
    from assistant.params import Params

    # Retrieval's signals (lexical, typo, derived form) put the name first; the reader
    # may then reorder (version 2 reads Malaysia's lede first) but the answer keeps it.
    plain = Assistant.load(default_index, embedder=real_embedder, params=Params.load().without_reader())
    assert expected in plain.ask(question).citations[0].text
    assert expected in default_assistant.ask(question).text


@pytest.mark.slow
def test_xquad_sample_floor(xquad):
    assistant, cases = xquad
    sample = cases[::5]  # fixed: every fifth question, 238 of 1,190
    report = run(assistant.ask, sample, lambda s: assistant.index.document(s).text)
    s = report.summary
    assert s["right_source_first"] >= 0.95
    assert s["fact_in_first_citation"] >= 0.85
    assert s["fact_in_answer"] >= 0.82
    assert s["mean_answer_chars"] <= 400
    assert s["citations_exact"] == 1.0
    # The shipped reader's short answers: on this sample 21% given, 45% of those exact (a broken span or
    # threshold shows as far fewer of either).
    assert s["short_answer_given"] >= 0.1
    assert s["short_answer_exact"] >= 0.35 * s["short_answer_given"]


LINES = {
    # As OCR reads a posted notice: the line with the fact has no full stop.
    "canteen-notice.txt": "Canteen notice.\nThe staff canteen closes at 15:30 on Fridays\n\nduring the renovation of the kitchen.\n",
    # Slide bullets and form fields: facts in lines that are not sentences.
    "kickoff-slides.txt": "Project Kickoff\n\n- Budget approved at 2.4 million euros\n- Pilot sites in Ghent and Leuven\n"
                          "- Steering group meets every second Tuesday\n",
    "grant-form.txt": "Grant Application Form\n\nApplicant: Maria Jensen\nDeadline: 15 March\n"
                      "Amount requested: 40,000 euros\n",
}


@pytest.fixture(scope="module")
def lines_assistant(tmp_path_factory, real_embedder):
    from assistant.core import Assistant
    from index.build import build_index
    from tests.support import write_files

    base = tmp_path_factory.mktemp("lines")
    build_index(write_files(base / "docs", LINES), base / "index", real_embedder)
    return Assistant.load(base / "index", embedder=real_embedder)


@pytest.mark.parametrize("question, fact", [
    ("When does the staff canteen close on Fridays?", "15:30"),
    ("How big is the approved budget?", "2.4 million euros"),
    ("Where are the pilot sites?", "Ghent and Leuven"),
    ("When is the grant deadline?", "15 March"),
    ("How much money does the grant application request?", "40,000 euros"),
])
def test_facts_in_lines_that_are_not_sentences_are_quoted(lines_assistant, question, fact):
    answer = lines_assistant.ask(question)
    assert not answer.abstained and fact in answer.text, answer.text


@pytest.fixture(scope="module")
def long_papers(tmp_path_factory, real_embedder):
    """XQuAD articles laid out as long papers repeat themselves: a running
    header on every page, the first paragraph as an abstract and again in a
    conclusion, hard-wrapped so the copies break lines differently; with
    every question of those articles."""
    import json
    import textwrap

    from assistant.core import Assistant
    from index.build import build_index
    from tests.support import XQUAD

    if not XQUAD.exists():
        pytest.skip(f"XQuAD not found at {XQUAD}")
    base = tmp_path_factory.mktemp("papers")
    (base / "docs").mkdir()
    questions = []
    for article in json.loads(XQUAD.read_text(encoding="utf-8"))["data"][:6]:
        title = article["title"].replace("_", " ")
        paragraphs = [p["context"] for p in article["paragraphs"]]
        body = ["Abstract", paragraphs[0], *paragraphs, "Conclusion", paragraphs[0], paragraphs[1]]
        lines = []
        for i, paragraph in enumerate(body):
            if i % 3 == 0:
                lines.append(f"Journal of Collected Articles, Vol. 3 - {title} - page {i // 3 + 1}")
            lines.append(textwrap.fill(paragraph, 70 + i % 2 * 9))
        (base / "docs" / f"{article['title']}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
        questions += [qa["question"] for p in article["paragraphs"] for qa in p["qas"]]
    build_index(base / "docs", base / "index", real_embedder)
    return Assistant.load(base / "index", embedder=real_embedder), questions


def test_long_papers_with_repeated_passages_never_quote_or_cite_a_passage_twice(long_papers):
    from assistant.answering.choose import repeats
    from index.documents.boilerplate import comparable

    assistant, questions = long_papers
    assert len(questions) >= 100
    answered = 0
    for question in questions:
        answer = assistant.ask(question)
        answered += not answer.abstained
        keys = [comparable(q.text) for q in answer.quotes]
        assert not any(repeats(key, set(keys[:i])) for i, key in enumerate(keys)), (question, answer.text)
        excerpts = [comparable(c.text) for c in answer.citations]
        assert len(set(excerpts)) == len(excerpts), (question, [c.text for c in answer.citations])
    assert answered >= 0.9 * len(questions)


BROAD = [json.loads(line) for line in (DATA / "broad_questions.jsonl").read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def broad_assistant(tmp_path_factory, real_embedder):
    """The default article and two documents with sections and lists."""
    import shutil

    from assistant.core import Assistant
    from index.build import build_index
    from tests.support import ROOT

    base = tmp_path_factory.mktemp("broad")
    (base / "docs").mkdir()
    for path in [*(ROOT / "docs").glob("*.txt"), *(DATA / "broad").glob("*.txt")]:
        shutil.copy(path, base / "docs" / path.name)
    build_index(base / "docs", base / "index", real_embedder)
    return Assistant.load(base / "index", embedder=real_embedder)


@pytest.mark.parametrize("part", ["fit", "held-out"])
def test_broad_and_list_questions_are_answered_completely(broad_assistant, part):
    """Own broad, list, highlights and who-met questions (issue 24), half of
    them held out while the rules were written: their points in the answer."""
    cases = [Case(question=r["question"], facts=tuple(r["facts"]), points=tuple(r["points"]))
             for r in BROAD if r["part"] == part]
    assert len(cases) >= 8
    report = run(broad_assistant.ask, cases, lambda s: broad_assistant.index.document(s).text)
    s = report.summary
    assert s["points_in_answer"] >= 0.85, [(o.case.question, o.points_found, o.answer.text) for o in report.outcomes]
    assert max(sum(len(q.text) for q in o.answer.quotes) for o in report.outcomes) <= 700
    assert s["citations_exact"] == 1.0


def test_a_heading_the_question_names_answers_with_its_section_in_order(broad_assistant):
    answer = broad_assistant.ask("What were the key highlights from the meeting with Dong Jun?")
    text = answer.text
    order = [text.find(s) for s in ("Focus on Cooperation", "Lessons from Past Clashes", "Roadmap For Trust Building")]
    assert -1 not in order and order == sorted(order), text


@pytest.mark.parametrize("question, other_meetings", [
    ("What did Singh discuss with the Malaysian defence minister?", ("Dong Jun", "Chansamone", "Lao ")),
    ("What did Singh and the Lao minister discuss?", ("Dong Jun", "Khaled", "Malaysia")),
    ("What did the council discuss with the cyclists' union?", ("harbour board", "school governors", "sports hall")),
])
def test_a_broad_answer_about_one_meeting_leaves_the_others_out(broad_assistant, question, other_meetings):
    answer = broad_assistant.ask(question)
    assert not answer.abstained
    assert not any(name in answer.text for name in other_meetings), answer.text


def test_a_list_of_people_at_the_documents_event_gathers_its_meetings(broad_assistant):
    """The ADMM-Plus is where all of the article happens, not one of its
    scenes: whom Singh met there are the ministers of several paragraphs,
    which stand well below the lede that sums them up."""
    text = broad_assistant.ask("Whom did Singh meet at the ADMM-Plus?").text
    assert sum(name in text for name in ("Dong Jun", "Khaled", "Chansamone")) >= 2, text


def test_broad_answers_quote_each_document_in_its_order(broad_assistant):
    for row in BROAD:
        answer = broad_assistant.ask(row["question"])
        by_source: dict[str, list[int]] = {}
        for quote in answer.quotes:
            citation = next(c for c in answer.citations if c.n == quote.citations[0])
            start = broad_assistant.index.document(citation.source).text.find(quote.text)
            by_source.setdefault(citation.source, []).append(start)
        assert all(starts == sorted(starts) for starts in by_source.values()), answer.text


SCENE = {
    # A news report whose lede restates a quiz question's scene, and a sentence further down that answers it.
    "birth-rate.txt": "Birth rate falls for the first time in decades\n\n"
                      "The country's birth rate declined for the first time in decades in 2022, the statistics bureau "
                      "reported on Tuesday. The bureau said the rate fell to 6.77 births per 1,000 people, the lowest on "
                      "record.\n\nExperts expect the decline to shape the economy for years. Several schools in rural "
                      "provinces have already closed for lack of pupils.\n\nThe country has been the world's most "
                      "populous nation since at least 1950, according to historical records. Its population last fell "
                      "in 1961, the final year of a famine.\n",
    "harbour.txt": "Harbour reopens after storm\n\nThe harbour reopened on Monday after a storm damaged two of its cranes. "
                   "Ships waiting offshore began to unload cargo by noon.\n",
}


def test_a_question_that_sets_its_scene_is_answered_by_what_it_asks(tmp_path, real_embedder):
    """News quizzes set the scene, then ask: the lede repeats the scene, so by
    the whole question's similarity it outranks the sentence that answers."""
    import dataclasses

    from assistant.core import Assistant
    from index.build import build_index
    from tests.support import write_files

    build_index(write_files(tmp_path / "docs", SCENE), tmp_path / "index", real_embedder)
    assistant = Assistant.load(tmp_path / "index", embedder=real_embedder)
    question = ("The country's birth rate declined for the first time in decades in 2022. "
                "It has been the world's most populous nation since at least:")
    answer = assistant.ask(question)
    assert answer.text.startswith("The country has been the world's most populous nation since at least 1950")
    # Asked among others, its asking sentence is embedded in the same pass, with the same answer.
    batch = assistant.ask_many([("When did the harbour reopen?", None), (question, None)])
    assert [a.text for a in batch] == [assistant.ask("When did the harbour reopen?").text, answer.text]
    # Retrieval by the whole question alone puts the lede first (the reader, which reads the asking sentence, set aside).
    assistant.reader = None
    assistant.retriever.weights = dataclasses.replace(assistant.retriever.weights, asking=0.0)
    assert assistant.ask(question).text.startswith("The country's birth rate declined")


@pytest.fixture(scope="module")
def phrasing_assistant(tmp_path_factory, real_embedder):
    """The default article, the two broad documents and the survey report of
    the own phrasing set, answered with the shipped reader."""
    from assistant.core import Assistant
    from index.build import build_index
    from tests.benchmarks.accuracy.quality import phrasing_set

    base = tmp_path_factory.mktemp("phrasing")
    cases = {part: phrasing_set(part, base / "docs") for part in ("fit", "held-out")}
    build_index(base / "docs", base / "index", real_embedder)
    return Assistant.load(base / "index", embedder=real_embedder), cases


@pytest.mark.parametrize("part", ["fit", "held-out"])
def test_the_own_phrasing_set_declines_no_answerable_question_and_finds_its_points(phrasing_assistant, part):
    """Who / whom / which / lists / "besides" / "apart from" and near misses
    over four documents (issue 38), half held out: the points of each
    answerable question within an answer's first 450 characters."""
    from tests.benchmarks.accuracy.quality import points_within

    assistant, cases = phrasing_assistant
    assert assistant.reader is not None and len(cases[part]) >= 16
    report = run(assistant.ask, cases[part], lambda s: assistant.index.document(s).text)
    assert report.summary["answerable_abstained"] == 0, [o.case.question for o in report.outcomes
                                                         if o.case.answerable and o.answer.abstained]
    assert report.summary["citations_exact"] == 1.0
    assert points_within(report.outcomes) >= 0.8, [(o.case.question, o.answer.text[:120]) for o in report.failures()]


def test_a_list_of_people_besides_one_names_the_others_with_the_reader(phrasing_assistant):
    assistant, _ = phrasing_assistant
    text = assistant.ask("Who did Singh meet besides Dong Jun?").text
    assert "Khaled Bin Nordin" in text and "Chansamone Chanyalath" in text and "Dong Jun" not in text, text
    everyone = assistant.ask("Who did Rajnath Singh meet at the ADMM-Plus?").text
    assert sum(name in everyone for name in ("Dong Jun", "Khaled Bin Nordin", "Chansamone Chanyalath")) >= 2, everyone
