"""The reader's judgment joined with retrieval's: it reads the question
against retrieval's best sentences (each with the sentences around it),
and its probability that a sentence answers joins the sentence's score.
What comes out orders the candidates, says whether any answers at all,
and gives the words that answer (a short answer). ``compose`` quotes from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from assistant.answering.answer import ShortAnswer
from assistant.answering.reader import Reader
from assistant.params import ReaderSettings
from assistant.retrieval.retriever import SentenceHit
from index.storage.builds import Index


def probability(score: float) -> float:
    """The reader's score (a logit) as a probability that the sentence answers.

    >>> probability(0.0), round(probability(2.0), 3), probability(-800.0)
    (0.5, 0.881, 0.0)
    """
    return 1.0 / (1.0 + math.exp(-score)) if score > -700 else 0.0


@dataclass(frozen=True)
class Judgment:
    """Retrieval's candidates reordered by the joined score (``ranked``; those
    the reader did not read keep their order below the others), the best
    probability any candidate answers (``best``), whether that is too low
    to answer (``declines``), and the short answer, when the reader is
    confident of the first sentence's words."""

    ranked: list[SentenceHit]
    best: float
    declines: bool
    short_answer: ShortAnswer | None


def neighbours(index: Index, sentence: int) -> tuple[str, str]:
    """The sentences just before and after ``sentence`` in its document
    ("" at either end): what the reader reads around a candidate."""
    t = index.tables
    doc = t.sent_doc[sentence]
    before = index.sentence_text(sentence - 1) if sentence > 0 and t.sent_doc[sentence - 1] == doc else ""
    after = index.sentence_text(sentence + 1) if sentence + 1 < len(t.sent_doc) and t.sent_doc[sentence + 1] == doc else ""
    return before, after


def judge(reader: Reader, question: str, index: Index, ranked: list[SentenceHit],
          settings: ReaderSettings) -> Judgment:
    """The reader's reading of ``question`` against the first
    ``settings.candidates`` of ``ranked``, joined with their scores."""
    read = ranked[: settings.candidates]
    if not read:
        return Judgment([], 0.0, True, None)
    texts = [index.sentence_text(h.sentence) for h in read]
    readings = reader.read(question, [(text, *neighbours(index, h.sentence)) for text, h in zip(texts, read)],
                           settings.tokens)
    chances = [probability(r.score) for r in readings]
    joined = [replace(h, score=h.score + settings.weight * p) for h, p in zip(read, chances)]
    order = sorted(range(len(read)), key=lambda i: -joined[i].score)
    best = max(chances)
    first = order[0]
    short = None
    start, end = readings[first].span
    if chances[first] >= settings.short_answer and end > start:
        hit = read[first]
        short = ShortAnswer(texts[first][start:end], hit.source, hit.start + start, hit.start + end)
    return Judgment([joined[i] for i in order] + ranked[settings.candidates:], best,
                    best < settings.min_probability, short)
