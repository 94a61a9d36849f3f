"""Term resolution on a tiny index built with the fake embedder: spelling,
derived forms, compounds, name partners and acronyms are pure logic over
the corpus vocabulary."""

from __future__ import annotations

import pytest

from assistant.retrieval.terms import TermResolver, acronym_in, typo_limit
from index.build import build_index
from index.storage.builds import load
from index.storage.lexical import tokenize

DOCS = {
    "talks.txt": "Rajnath Singh met the Malaysian minister in Vientiane. Later Singh spoke about Maastricht.\n",
    "game.txt": "The Super Bowl was played in Santa Clara. The United Methodist Church held a service.\n",
}


@pytest.fixture
def terms(write_docs, fake_embedder, tmp_path) -> TermResolver:
    build_index(write_docs(DOCS), tmp_path / "index", fake_embedder)
    index = load(tmp_path / "index")
    return TermResolver(index.sentence_lexical, index.sentence_texts)


def one(word: str) -> str:
    (token,) = tokenize(word)
    return token


@pytest.mark.parametrize("typo, expected", [("maastrich", "maastricht"), ("vientaine", "vientian"),
                                            ("malaysain", "malaysian")])
def test_spelling_mistakes_find_the_corpus_term(terms, typo, expected):
    assert terms.spell(typo) == expected


@pytest.mark.parametrize("word", ["cake", "zzzzzzzz", "bread"])
def test_no_correction_when_nothing_is_close_or_the_word_is_short(terms, word):
    assert terms.spell(word) is None


def test_derived_forms_extend_a_term(terms):
    assert terms.extensions("malaysia") == ["malaysian"]
    assert terms.extensions("mal") == []  # too short to extend safely


def test_compounds_split_into_two_corpus_terms(terms):
    assert terms.split_compound("superbowl") == ("super", "bowl")
    assert terms.split_compound("minister") == ()


def test_name_parts_are_partners(terms):
    assert one("Rajnath") in terms.name_partners(one("Singh"))
    assert one("Singh") in terms.name_partners(one("Rajnath"))


def test_resolve_groups_known_and_repairable_terms_and_reports_the_rest(terms):
    groups, unknown = terms.resolve([one("Malaysia"), one("Singh"), "maastrich", "superbowl", "zorblax", one("Singh")])
    assert ("malaysian",) in groups
    assert ("maastricht",) in groups and ("super", "bowl") in groups
    assert any(g[0] == one("Singh") and one("Rajnath") in g for g in groups)
    assert unknown == ["zorblax"]
    assert len(groups) == 4  # a repeated term is resolved once


@pytest.mark.parametrize("token, question, texts, found", [
    ("umc", "Who leads the UMC?", ["The United Methodist Church held a service."], True),
    ("umcs", "Who leads the UMCs?", ["The United Methodist Church held a service."], True),
    ("umc", "Who leads the umc?", ["The United Methodist Church held a service."], False),  # not written as one
    ("umc", "Who leads the UMC?", ["The United Nations met."], False),
    ("fbi", "What does the FBI do?", ["The Federal Bureau of Investigation opened a case."], True),  # "of" is free
])
def test_acronyms_match_their_long_form(token, question, texts, found):
    assert acronym_in(token, question, texts) is found


@pytest.mark.parametrize("token, limit", [("abcd", 0), ("abcde", 1), ("abcdefg", 1), ("abcdefgh", 2)])
def test_longer_words_tolerate_more_edits(token, limit):
    assert typo_limit(token) == limit
