"""The reader's training data (training/reader): SQuAD's explorer pages,
SelQA and SQuAD 2.0's fit half read into passages, and the near-miss pairs
made of them. Small inline fixtures in the sets' own formats; the real
sets are never in the repository."""

from __future__ import annotations

import json
import random

from training.reader.data import parse_explorer_page, selqa, squad2_fit
from training.reader.examples import altered, examples_of, someone_else

PAGE = ('<div class="para-wrap"><div class="row"><div class="col-md-6"><pre>Singh met Dong Jun in Vientiane. '
        'They spoke about the border. Singh then met Khaled Nordin on 21 November 2024.</pre></div>'
        '<div class="col-md-6 rightCol"><div class="qa-wrap"><p> <strong class="question">Where did Singh meet Dong Jun?'
        '</strong></p><ol class="list-unstyled"><li><p><i>Answer 1: </i><span class="answer">Vientiane</span></p></li>'
        '</ol></div><div class="qa-wrap"><p> <strong class="question">When did Singh meet Khaled Nordin?</strong></p>'
        '<ol class="list-unstyled"><li><span class="answer">21 November 2024</span></li><li><span class="answer">'
        'a date not in the text</span></li></ol></div></div></div></div>'
        '<div class="para-wrap"><div class="row"><div class="col-md-6"><pre>The summit &amp; its talks closed on Friday.'
        '</pre></div><div class="qa-wrap"><strong class="question">When did the talks close?</strong><ol>'
        '<span class="answer">Friday</span></ol></div></div></div></div></div>')


def test_explorer_pages_give_paragraphs_questions_and_answer_offsets():
    first, second = parse_explorer_page(PAGE, "ADMM Plus")
    assert [q.text for q in first.questions] == ["Where did Singh meet Dong Jun?", "When did Singh meet Khaled Nordin?"]
    where, when = first.questions
    assert [first.text[a:b] for a, b in where.answers] == ["Vientiane"]
    assert [first.text[a:b] for a, b in when.answers] == ["21 November 2024"]  # an answer not in the text is dropped
    assert second.text == "The summit & its talks closed on Friday." and second.title == "ADMM Plus"


def test_selqa_and_squad2_read_their_own_formats(tmp_path):
    rows = [{"question": "Who met Dong Jun?", "article": "ADMM", "answers": [1],
             "candidates": ["The summit closed.", "Singh met Dong Jun.", "It rained."]}]
    (tmp_path / "selqa.json").write_text(json.dumps(rows))
    (passage,) = selqa([tmp_path / "selqa.json"])
    (answer,) = passage.questions[0].answers
    assert passage.text[answer[0]:answer[1]] == "Singh met Dong Jun."
    squad2 = {"data": [{"title": t, "paragraphs": [{"context": "Singh met Dong Jun.", "qas": [
        {"question": "Who met Dong Jun?", "is_impossible": False, "answers": [{"text": "Singh", "answer_start": 0}]},
        {"question": "Who met Khaled?", "is_impossible": True, "answers": []}]}]} for t in ("Fit", "Held")]}
    (tmp_path / "dev.json").write_text(json.dumps(squad2))
    (fit,) = squad2_fit(tmp_path / "dev.json", lambda title: "fit" if title == "Fit" else "held-out")
    assert fit.title == "Fit" and [q.answers for q in fit.questions] == [((0, 5),), ()]


def test_pairs_hold_the_answering_sentence_and_near_misses():
    passages = parse_explorer_page(PAGE, "ADMM Plus")
    pairs = examples_of(passages, random.Random(0), altered_share=1.0)
    positives = [p for p in pairs if p.label == 1]
    assert {p.sentence for p in positives} == {"Singh met Dong Jun in Vientiane.",
                                               "Singh then met Khaled Nordin on 21 November 2024.",
                                               "The summit & its talks closed on Friday."}
    for p in positives:
        assert p.span is not None and p.sentence[p.span[0]:p.span[1]] in ("Vientiane", "21 November 2024", "Friday")
    where = [p for p in pairs if p.question == "Where did Singh meet Dong Jun?"]
    negatives = {p.kind: p for p in where if p.label == 0}
    # A sentence of the same paragraph without the answer, with its neighbours as the reader sees them.
    assert negatives["same_paragraph"].sentence != "Singh met Dong Jun in Vientiane."
    assert "Vientiane" not in negatives["same_paragraph"].sentence
    # No negative ever holds the question's answer.
    assert all("Vientiane" not in p.sentence for p in where if p.label == 0 and p.kind != "altered")
    for p in pairs:
        if p.kind == "altered":  # the same sentence, asked about what it does not say
            assert p.label == 0 and p.question not in {q.text for x in passages for q in x.questions}


def test_an_altered_question_swaps_a_shared_name_for_another_of_the_same_shape():
    rng = random.Random(3)
    changed = altered("When did Singh meet Khaled Nordin in 2024?", "Singh met Khaled Nordin in 2024.",
                      "In 2019 Dong Jun and Singh spoke.", rng)
    assert changed in ("When did Dong Jun meet Khaled Nordin in 2024?", "When did Singh meet Khaled Nordin in 2019?")
    assert altered("What is it?", "It rained.", "Singh met Dong Jun.", rng) is None


def test_someone_else_pairs_say_the_answering_sentence_of_another_name_of_the_article():
    passages = parse_explorer_page(PAGE, "ADMM Plus")
    assert not [p for p in examples_of(passages, random.Random(0), 1.0) if p.kind == "someone_else"]
    pairs = examples_of(passages, random.Random(0), 1.0, someone_else_share=1.0)
    told = [p for p in pairs if p.kind == "someone_else"]
    assert told
    answering = {p.question: p for p in pairs if p.label == 1}
    for p in told:
        real = answering[p.question]  # the question as asked, beside its own answering sentence's neighbours
        assert p.label == 0 and p.span is None and (p.before, p.after) == (real.before, real.after)
        assert p.sentence != real.sentence and real.sentence[real.span[0]:real.span[1]] in p.sentence


def test_someone_else_swaps_every_occurrence_but_never_the_answer():
    rng = random.Random(0)
    told = someone_else("When did Singh meet Khaled Nordin?", "Singh met Khaled Nordin in 2024, and Singh left.",
                        (26, 30), "Later, Dong Jun spoke.", rng)
    assert told in ("Dong Jun met Khaled Nordin in 2024, and Dong Jun left.",
                    "Singh met Dong Jun in 2024, and Singh left.")
    # The only shared name is the answer itself: nothing to swap.
    assert someone_else("Who met Dong Jun?", "Singh met Dong Jun.", (10, 18), "Later, Khaled spoke.", rng) is None
