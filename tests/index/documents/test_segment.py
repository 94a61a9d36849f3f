from __future__ import annotations

import pytest

from index.documents.segment import split_long, split_sentences

ARTICLE = (
    "Defence Minister Rajnath Singh met Dr. Dong Jun on Nov. 20, 2024. They talked for 2.5 hours.\n"
    "Key Highlights From The Meeting\n"
    "Focus on Cooperation: Singh said \"we need cooperation.\" He left.\n"
)


def test_offsets_are_exact_and_cover_every_sentence():
    spans = split_sentences(ARTICLE)
    texts = [ARTICLE[s.start : s.end] for s in spans]
    assert texts == [
        "Defence Minister Rajnath Singh met Dr. Dong Jun on Nov. 20, 2024.",
        "They talked for 2.5 hours.",
        "Key Highlights From The Meeting",
        'Focus on Cooperation: Singh said "we need cooperation."',
        "He left.",
    ]
    assert [s.heading for s in spans] == [False, False, True, False, False]
    assert [s.para for s in spans] == [0, 0, 1, 2, 2]


@pytest.mark.parametrize("text", ["", "   \n\n  ", "No terminal punctuation", "Ünïcödé — “quoted.” Next one!"])
def test_edge_texts(text):
    for s in split_sentences(text):
        assert text[s.start : s.end] == text[s.start : s.end].strip() != ""


def test_last_line_is_not_a_heading():
    spans = split_sentences("Intro line\n")
    assert [s.heading for s in spans] == [False]


@pytest.mark.parametrize("limit", [5, 17, 100])
def test_long_runs_are_cut_at_whitespace(limit):
    text = " ".join(["word"] * 60)
    pieces = split_long(0, len(text), text, limit=limit)
    assert all(e - s <= limit for s, e in pieces)
    assert " ".join(text[s:e] for s, e in pieces) == text


def test_a_huge_sentence_is_bounded():
    text = "x " * 3000
    assert max(s.end - s.start for s in split_sentences(text)) <= 1000
