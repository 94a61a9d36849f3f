"""Measure answer quality on a question set (``askdoc eval``, ``make test``
and the benchmarks all use this).

A question set is JSON Lines, one question a line::

    {"question": "When did Singh meet Dong Jun?", "answers": ["November 20, 2024"], "document": "admm.txt"}
    {"question": "What is the capital of France?", "answers": []}

``answers`` lists acceptable key facts: a question counts as answered when
any of them appears (case-insensitively) in the answer; an empty list marks
a question the documents cannot answer, where the right result is to
abstain. ``document`` (optional) is the id of the document that should be
cited first. The project's own sets also use the names ``facts``,
``answerable`` and ``source``, ``history`` (earlier questions, asked first,
for follow-ups) and ``points`` (what a complete answer to a broad question
holds: the report gives the mean share of them in the answer).

The benchmarks and ``make test`` score askdoc with this harness; the data
set converters (SQuAD-format sets into a docs folder) live in ``tests/support``.
"""

from __future__ import annotations

import collections
import json
import re
import statistics
import string
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from assistant.answering.answer import Answer, one_line
from assistant.core import Turn, history_of
from index.errors import QuestionError


@dataclass(frozen=True)
class Case:
    question: str
    facts: tuple[str, ...] = ()
    answerable: bool = True
    history: tuple[str, ...] = ()
    source: str | None = None
    points: tuple[str, ...] = ()  # what a complete answer to a broad question holds


@dataclass(frozen=True)
class Outcome:
    case: Case
    answer: Answer
    fact_in_answer: bool
    fact_in_first_citation: bool
    fact_in_any_citation: bool
    source_first: bool | None
    citations_exact: bool
    seconds: float
    points_found: float | None = None  # share of the case's points in the answer
    short_exact: bool = False  # the short answer equals a key fact (SQuAD's normalisation)
    short_f1: float = 0.0  # its best token F1 against the key facts (0 without one)


@dataclass(frozen=True)
class Report:
    outcomes: tuple[Outcome, ...] = field(repr=False)

    def _answerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.answerable]

    def _rate(self, values: Iterable[bool]) -> float:
        values = list(values)
        return sum(values) / len(values) if values else 1.0

    @property
    def summary(self) -> dict:
        answerable = self._answerable()
        unanswerable = [o for o in self.outcomes if not o.case.answerable]
        answered = [o for o in self.outcomes if not o.answer.abstained]
        sourced = [o for o in answerable if o.source_first is not None]
        broad = [o for o in answerable if o.points_found is not None]
        return {
            "questions": len(self.outcomes),
            "answerable": len(answerable),
            "fact_in_answer": self._rate(o.fact_in_answer for o in answerable),
            "fact_in_first_citation": self._rate(o.fact_in_first_citation for o in answerable),
            "fact_in_any_citation": self._rate(o.fact_in_any_citation for o in answerable),
            "right_source_first": self._rate(bool(o.source_first) for o in sourced) if sourced else None,
            "unanswerable_abstained": self._rate(o.answer.abstained for o in unanswerable) if unanswerable else None,
            "answerable_abstained": sum(o.answer.abstained for o in answerable),
            "citations_exact": self._rate(o.citations_exact for o in self.outcomes),
            "points_in_answer": (statistics.mean(o.points_found or 0.0 for o in broad) if broad else None),
            "short_answer_given": self._rate(o.answer.short_answer is not None for o in answerable),
            "short_answer_exact": self._rate(o.short_exact for o in answerable),
            "short_answer_f1": statistics.mean(o.short_f1 for o in answerable) if answerable else 0.0,
            "mean_answer_chars": statistics.mean(len(o.answer.text) for o in answered) if answered else 0.0,
            "mean_seconds": statistics.mean(o.seconds for o in self.outcomes) if self.outcomes else 0.0,
        }

    def failures(self) -> list[Outcome]:
        return [
            o for o in self.outcomes
            if (o.case.answerable and not o.fact_in_answer) or (not o.case.answerable and not o.answer.abstained)
        ]


def load_cases(path: Path) -> list[Case]:
    cases = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                facts = data.get("answers", data.get("facts", ()))
                if not isinstance(data["question"], str) or not isinstance(facts, list) or \
                        not all(isinstance(f, str) for f in facts):
                    raise ValueError("'question' must be a string and 'answers' a list of strings")
                cases.append(Case(
                    question=data["question"], facts=tuple(facts),
                    answerable=bool(data.get("answerable", bool(facts) if "answers" in data else True)),
                    history=tuple(data.get("history", ())), source=data.get("document", data.get("source")),
                    points=tuple(data.get("points", ())),
                ))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise QuestionError(f"{path}:{number}: not a question ({exc}); expected "
                                    '{"question": "...", "answers": ["key fact", ...], "document": "optional id"}'
                                    ) from exc
    if not cases:
        raise QuestionError(f"{path} holds no questions")
    return cases


# What a report shows, in order: (label, summary key, how to show it).
ROWS: tuple[tuple[str, str, str], ...] = (
    ("questions (answerable)", "questions", "count"),
    ("key fact in the answer", "fact_in_answer", "rate"),
    ("key fact in the first citation", "fact_in_first_citation", "rate"),
    ("key fact in any citation", "fact_in_any_citation", "rate"),
    ("right document first", "right_source_first", "rate"),
    ("unanswerable questions that abstained", "unanswerable_abstained", "rate"),
    ("answerable questions that abstained", "answerable_abstained", "int"),
    ("share of a broad answer's points in it", "points_in_answer", "rate"),
    ("short answer given", "short_answer_given", "rate"),
    ("short answer equals a key fact", "short_answer_exact", "rate"),
    ("short answer token F1 (0 when none)", "short_answer_f1", "rate"),
    ("citations exact", "citations_exact", "rate"),
    ("mean answer length (chars)", "mean_answer_chars", "int"),
    ("mean time per question", "mean_seconds", "ms"),
)


def cell(summary: dict, key: str, kind: str) -> str:
    """One value of a summary as the tables show it.

    >>> cell({"x": 0.877}, "x", "rate"), cell({"x": None}, "x", "rate"), cell({"x": 0.0123}, "x", "ms")
    ('87.7%', 'n/a', '12 ms')
    """
    value = summary.get(key)
    if kind == "count":
        return f"{summary['questions']} ({summary['answerable']})"
    if value is None:
        return "n/a"
    if kind == "rate":
        return f"{100 * value:.1f}%"
    if kind == "ms":
        return f"{1000 * value:.0f} ms"
    return f"{value:.0f}"


def table(columns: dict[str, dict], rows=ROWS) -> str:
    """A Markdown table: one row per measure, one column per question set."""
    lines = [f"| measure | {' | '.join(columns)} |", f"|---|{'---|' * len(columns)}"]
    for label, key, kind in rows:
        lines.append(f"| {label} | {' | '.join(cell(s, key, kind) for s in columns.values())} |")
    return "\n".join(lines)


def normalize(text: str) -> str:
    """An answer as SQuAD compares answers: lower case, no punctuation or articles.

    >>> normalize("The  Broncos!")
    'broncos'
    """
    text = "".join(c for c in text.lower() if c not in string.punctuation)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD's token F1 of two answers.

    >>> token_f1("Denver Broncos", "the Broncos")
    0.6666666666666666
    """
    p, g = normalize(prediction).split(), normalize(gold).split()
    common = sum((collections.Counter(p) & collections.Counter(g)).values())
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def _contains(haystack: str, needles: Iterable[str]) -> bool:
    """Is one of ``needles`` in ``haystack``, case and runs of whitespace aside
    (a fact may cross a line break of a hard-wrapped document)?

    >>> _contains("closes at half past\\nnine", ["Half past nine"])
    True
    """
    low = " ".join(haystack.lower().split())
    return any(" ".join(n.lower().split()) in low for n in needles)


def citations_exact(answer: Answer, text_of: Callable[[str], str]) -> bool:
    """Every citation quotes its document exactly, every highlight lies in its
    excerpt, and every quoted sentence stands in the answer with its markers
    and is one of its citations' highlights, to the letter (a hard-wrapped
    sentence's line breaks read as the spaces the answer shows). A generated
    sentence is not a quote: it must cite excerpts the answer carries
    (``checks.check`` has held it against them)."""
    by_n = {c.n: c for c in answer.citations}
    for c in answer.citations:
        text = text_of(c.source)
        if text[c.start : c.end] != c.text or (c.highlight_start, c.highlight_end) != c.highlights[0]:
            return False
        if not all(c.start <= hs < he <= c.end for hs, he in c.highlights):
            return False
    for quote in answer.sentences():
        if f"{quote.text} {quote.markers}" not in answer.text:
            return False
        if answer.mode == "generated":  # a model's sentence, not a quote: it must cite excerpts that exist
            if not all(n in by_n for n in quote.citations):
                return False
            continue
        for n in quote.citations:
            cited = by_n.get(n)
            if cited is None or not any(one_line(text_of(cited.source)[hs:he]) == quote.text for hs, he in cited.highlights):
                return False
    return True


def run(ask: Callable[[str, list[dict]], Answer], cases: list[Case], text_of: Callable[[str], str],
        progress: Callable[[int], None] | None = None) -> Report:
    """Ask every case and judge the answers."""
    outcomes = []
    for case in cases:
        turns: list[Turn] = []
        for earlier in case.history:
            turns.append(Turn(earlier, ask(earlier, history_of(turns))))
        history = history_of(turns)
        began = time.perf_counter()
        answer = ask(case.question, history)
        seconds = time.perf_counter() - began
        first = answer.citations[0] if answer.citations else None
        short = answer.short_answer.text if answer.short_answer else None
        outcomes.append(Outcome(
            case=case, answer=answer,
            fact_in_answer=not answer.abstained and _contains(answer.text, case.facts),
            fact_in_first_citation=first is not None and _contains(first.text, case.facts),
            fact_in_any_citation=any(_contains(c.text, case.facts) for c in answer.citations),
            source_first=None if case.source is None else (first is not None and first.source == case.source),
            citations_exact=citations_exact(answer, text_of),
            seconds=seconds,
            points_found=(sum(_contains(answer.text, (p,)) for p in case.points) / len(case.points)
                          if case.points else None),
            short_exact=short is not None and any(normalize(short) == normalize(f) for f in case.facts),
            short_f1=max((token_f1(short, f) for f in case.facts), default=0.0) if short is not None else 0.0,
        ))
        if progress:
            progress(1)
    return Report(tuple(outcomes))
