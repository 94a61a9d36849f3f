"""The check every generated sentence must pass before a reader sees it
(assistant/generation/checks.py): unsupported numbers, names, negations
and citations are dropped; supported sentences pass; markers are read
wherever a model puts them."""

from __future__ import annotations

import pytest

from assistant.answering.answer import Citation
from assistant.generation.checks import check, split_generated

DOC = ("The river Alder floods every spring. Farmers built levees in 1952. The levees failed in 1978.\n\n"
       "Engineers later proposed a canal. The canal opened in 1990 and ended the floods.\n")
EXCERPTS = {
    1: Citation(1, "river.txt", 0, 93, DOC[:93], 1.0, 37, 62),
    2: Citation(2, "river.txt", 95, 176, DOC[95:176], 1.0, 129, 176),
}


@pytest.mark.parametrize("sentence, markers, reason", [
    ("The levees failed in 1979.", (1,), "the number 1979"),
    ("Farmers built levees in 1952 with 300 workers.", (1,), "the number 300"),
    ("Governor Smith built levees in 1952.", (1,), "the name Smith"),
    ("The canal opened in 1990.", (3,), "cites [3], which was not given"),
    ("The canal opened in 1990.", (), "cites no excerpt"),
    ("The levees never failed.", (1,), "negation"),
    ("The canal did not end the floods.", (2,), "negation"),
    ("Tourists love the beautiful river cruises and wine tasting.", (1,), "of its words"),
    ("The canal opened in 1990.", (1,), "the number 1990"),  # true, but not in the excerpt it cites
])
def test_every_unsupported_sentence_is_dropped(sentence, markers, reason):
    assert reason in check(sentence, markers, EXCERPTS, "What happened to the river?")


@pytest.mark.parametrize("sentence, markers", [
    ("The levees failed in 1978.", (1,)),
    ("Engineers proposed a canal, which opened in 1990.", (2,)),
    ("Farmers built levees in 1952, and the canal ended the floods in 1990.", (1, 2)),
])
def test_supported_sentences_pass(sentence, markers):
    assert check(sentence, markers, EXCERPTS, "What happened to the river?") == ""


def test_markers_are_read_wherever_a_model_puts_them():
    reply = "The levees failed in 1978 [1]. The canal opened in 1990. [2] It ended the floods.[2][1] No source here"
    assert split_generated(reply) == [("The levees failed in 1978.", (1,)), ("The canal opened in 1990.", (2,)),
                                      ("It ended the floods.", (2, 1)), ("No source here", ())]
