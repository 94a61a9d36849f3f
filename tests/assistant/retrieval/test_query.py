from __future__ import annotations

import pytest

from assistant.retrieval.query import answer_type, asking_sentence, is_follow_up, matches_type, named_terms, prepare, resolve_follow_up

HISTORY = [
    {"role": "user", "content": "What did Rajnath Singh tell Dong Jun?"},
    {"role": "assistant", "content": "He stated ... [1]"},
]


@pytest.mark.parametrize("question, kind", [
    ("When did the talks happen?", "when"),
    ("In what year did the clashes happen?", "when"),
    ("How many casualties were there?", "number"),
    ("What did the minister say about trust?", "speech"),
    ("Who attended the meeting?", "who"),
    ("Where was the summit held?", "where"),
    ("Why was the meeting notable?", "why"),
    ("What is the ADMM-Plus?", "other"),
])
def test_answer_type(question, kind):
    assert answer_type(question) == kind


@pytest.mark.parametrize("sentence, kind, expected", [
    ("It happened in 1998.", "when", True),
    ("It happened long ago.", "when", True),
    ("It happened.", "when", False),
    ("Forty people came.", "number", True),
    ("People came.", "number", False),
    ("They met in Vientiane.", "where", True),
    ("They met.", "where", False),
    ("It failed because of rain.", "why", True),
])
def test_matches_type(sentence, kind, expected):
    assert matches_type(sentence, kind, "question?") is expected


@pytest.mark.parametrize("question, rewritten", [
    ("And what did he discuss with the Malaysian minister?", "And what did Rajnath Singh discuss with the Malaysian minister?"),
    ("When was that?", "What did Rajnath Singh tell Dong Jun? When was that?"),
    ("What did his counterpart reply?", "What did Rajnath Singh's counterpart reply?"),
    ("Who is Dong Jun?", "Who is Dong Jun?"),
])
def test_follow_ups_are_made_self_contained(question, rewritten):
    assert resolve_follow_up(question, HISTORY) == rewritten


def test_without_history_nothing_changes():
    assert resolve_follow_up("When was that?", []) == "When was that?"
    assert prepare("  When   was that? ").search_text == "When was that?"


@pytest.mark.parametrize("question, expected", [
    ("What did Singh tell Dong Jun?", False),
    ("And the Malaysian minister?", True),
    ("What did they agree?", True),
])
def test_is_follow_up(question, expected):
    assert is_follow_up(question) is expected


def test_named_terms_need_capitals_or_digits():
    assert named_terms("Did Singh visit Laos in 2024?") == {"singh", "lao", "2024"}
    assert named_terms("did singh visit laos") == frozenset()


@pytest.mark.parametrize("question, asking", [
    ("The canteen is being renovated. When does it close on Fridays?", "When does it close on Fridays?"),
    ("Prices rose in 2022. It has been the costliest city since at least:", "It has been the costliest city since at least:"),
    ("The U.S. House met on Jan. 3 this week. Which Republican lost? Name him.", "Which Republican lost?"),
    ("What did Singh tell Dong Jun?", ""),  # one sentence: the whole question asks
    ("Who met? When did they meet?", ""),  # asks twice: neither sentence alone is what is asked
    ("", ""),
])
def test_the_asking_sentence_of_a_question_that_sets_its_scene(question, asking):
    assert asking_sentence(question) == asking


def test_a_rewritten_follow_up_has_no_asking_sentence_of_its_own():
    """Its search text is the earlier question plus this one: neither alone is what is asked."""
    follow_up = prepare("The canteen is shut. When was that?", HISTORY)
    assert follow_up.search_text != follow_up.text and follow_up.asking == ""
    assert prepare("The canteen is shut. When does it reopen?").asking == "When does it reopen?"
