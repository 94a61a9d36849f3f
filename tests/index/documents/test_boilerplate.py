"""Boilerplate: lines many documents repeat are marked at build time and
never quoted; a page's menus and footers never reach an answer."""

from __future__ import annotations

import numpy as np
import pytest

from index.documents.boilerplate import comparable, repeated_paragraphs

SIGN_UP = "Get our weekly newsletter. Sign up here to get the results every Tuesday from the health team."


def stories(count: int) -> dict[str, str]:
    towns = ["Ghent", "Leuven", "Bruges", "Namur", "Liege", "Mons", "Ypres", "Aalst", "Genk", "Hasselt"]
    return {f"story-{i}.txt": f"News from {towns[i % 10]}\n\nThe council of {towns[i % 10]} approved a budget of "
                              f"{10 + i} million euros on Monday.\n\n{SIGN_UP}\n\nFrom wire reports\n"
            for i in range(count)}


def tables_of(texts: list[str]):
    from index.documents.segment import split_sentences

    spans = [(d, s) for d, text in enumerate(texts) for s in split_sentences(text)]
    column = lambda f: np.array([f(d, s) for d, s in spans])  # noqa: E731
    return (column(lambda d, s: d), column(lambda d, s: s.para), column(lambda d, s: s.start),
            column(lambda d, s: s.end)), [texts[d][s.start:s.end] for d, s in spans]


@pytest.mark.parametrize("documents, marked", [(4, False), (5, True), (40, True)])
def test_a_paragraph_is_boilerplate_when_many_documents_repeat_it(documents, marked):
    texts = list(stories(documents).values())
    columns, sentences = tables_of(texts)
    flags = repeated_paragraphs(*columns, texts)
    by_text = {}
    for sentence, flag in zip(sentences, flags):
        by_text.setdefault(sentence, set()).add(bool(flag))
    assert by_text["From wire reports"] == {marked}
    assert all(by_text[s] == {marked} for s in SIGN_UP.replace(". ", ".\n").splitlines())
    # Each story's own text is never boilerplate, nor are the lines few documents share.
    assert not any(flags[i] for i, s in enumerate(sentences) if "council" in s or s.startswith("News from"))


def test_a_share_of_a_large_corpus_is_needed():
    texts = list(stories(5).values()) + [f"Report {i}.\n\nNothing else here, number {i}.\n" for i in range(600)]
    columns, _ = tables_of(texts)
    assert not repeated_paragraphs(*columns, texts).any()  # 5 of 605 documents: under 1%


def test_comparable_ignores_layout():
    assert comparable("Sign  up\nhere!") == comparable("sign up here") == "signuphere"


def test_answers_never_quote_boilerplate(tmp_path, real_embedder):
    from assistant.core import Assistant
    from index.build import build_index
    from tests.support import write_files

    build_index(write_files(tmp_path / "docs", stories(8)), tmp_path / "index", real_embedder)
    assistant = Assistant.load(tmp_path / "index", embedder=real_embedder)
    assert assistant.index.tables.sent_boilerplate.sum() == 8 * 3  # two sign-up sentences and the byline, each story
    for question in ("How do I sign up for the weekly newsletter?", "What budget did the council of Namur approve?",
                     "Where do the reports come from?"):
        answer = assistant.ask(question)
        assert "newsletter" not in answer.text and "wire reports" not in answer.text, answer.text
        assert all("Sign up" not in c.text for c in answer.citations)
    assert "13 million euros" in assistant.ask("What budget did the council of Namur approve?").text
