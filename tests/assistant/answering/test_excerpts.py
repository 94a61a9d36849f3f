"""Excerpts around answering sentences, on a tiny index built with the fake
embedder: budgets, paragraphs, referents and titles."""

from __future__ import annotations

import pytest

from assistant.answering.excerpts import context_before, excerpt_bounds, opens_with_pronoun, refers_back
from index.build import build_index
from index.storage.builds import load

NEWS = (
    "Harbor Lights renewed\n\n"
    "“Harbor Lights” is officially coming back.\n\n"
    "The network announced Sunday that the wildly popular drama is green lit for a second season.\n\n"
    "Filming starts in March. It will take place in Halifax.\n\n"
    "Singh met the minister in Vientiane.\n\n"
    "Critics praised the first season.\n"
)


@pytest.fixture
def index(write_docs, fake_embedder, tmp_path):
    build_index(write_docs({"news.txt": NEWS}), tmp_path / "index", fake_embedder)
    return load(tmp_path / "index")


def row(index, start: str) -> int:
    return next(i for i in range(index.sentence_count) if index.sentence_text(i).startswith(start))


def test_an_excerpt_grows_across_short_paragraphs_within_its_budget(index):
    target = row(index, "Singh met")
    for budget in (10, 60, 120, 400, 10_000):
        first, last = excerpt_bounds(index, target, {}, budget)
        assert first <= target <= last
        t = index.tables
        assert first == last or t.sent_end[last] - t.sent_start[first] <= budget
    first, last = excerpt_bounds(index, target, {}, 10_000)
    assert (first, last) == (0, index.sentence_count - 1)


def test_its_own_paragraph_comes_first(index):
    target = row(index, "It will take place")
    t = index.tables
    first, last = excerpt_bounds(index, target, {}, 60)
    assert {int(t.sent_para[s]) for s in range(first, last + 1)} == {int(t.sent_para[target])}


def test_the_better_scoring_side_is_taken_first(index):
    target = row(index, "Singh met")
    before, after = row(index, "It will take place"), row(index, "Critics")
    t = index.tables
    room = int(max(t.sent_end[after] - t.sent_start[target], t.sent_end[target] - t.sent_start[before])) + 1
    assert room < t.sent_end[after] - t.sent_start[before]  # one side only fits
    assert excerpt_bounds(index, target, {after: 1.0, before: 0.5}, room) == (target, after)
    assert excerpt_bounds(index, target, {after: 0.5, before: 1.0}, room) == (before, target)


def test_a_sentence_that_refers_back_brings_the_sentence_before(index):
    target = row(index, "The network")
    assert context_before(index, target) == row(index, "“Harbor Lights” is")
    first, _ = excerpt_bounds(index, target, {}, 1)  # even past the budget
    assert first == row(index, "“Harbor Lights” is")


def test_a_lede_brings_the_title(index):
    lede = row(index, "“Harbor Lights” is")
    assert context_before(index, lede) == 0 and index.tables.sent_heading[0]
    assert context_before(index, row(index, "Singh met")) is None
    assert context_before(index, row(index, "Critics")) is None


@pytest.mark.parametrize("sentence, pronoun, back", [
    ("He said so.", True, True), ("Its roof fell.", True, True), ("“They won,” she said.", True, True),
    ("The show returns.", False, True), ("The ADMM-Plus met.", False, False), ("Italy won.", False, False),
    ("Singh spoke.", False, False), ("Therefore it rained.", False, False),
])
def test_openings_that_refer_back(sentence, pronoun, back):
    assert opens_with_pronoun(sentence) is pronoun
    assert refers_back(sentence) is back
