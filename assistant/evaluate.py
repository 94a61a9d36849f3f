"""Measure answer quality on a question set.

A question set is JSON Lines, one question a line::

    {"question": "When was that?", "history": ["What did Singh tell Dong Jun?"],
     "facts": ["November 20, 2024"], "answerable": true, "source": "optional doc id"}

``facts`` lists acceptable key facts: a question counts as answered when any
of them appears (case-insensitively) in the answer. ``answerable: false``
marks a question the documents cannot answer; the right result is to abstain.

The benchmarks and ``make test`` score askdoc with this harness; the data
set converters (SQuAD-format sets into a docs folder) live in ``tests/support``.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .answer import Answer
from .engine import Turn, history_of


@dataclass(frozen=True)
class Case:
    question: str
    facts: tuple[str, ...] = ()
    answerable: bool = True
    history: tuple[str, ...] = ()
    source: str | None = None


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
        return {
            "questions": len(self.outcomes),
            "answerable": len(answerable),
            "fact_in_answer": self._rate(o.fact_in_answer for o in answerable),
            "fact_in_first_citation": self._rate(o.fact_in_first_citation for o in answerable),
            "fact_in_any_citation": self._rate(o.fact_in_any_citation for o in answerable),
            "right_source_first": self._rate(o.source_first for o in sourced) if sourced else None,
            "unanswerable_abstained": self._rate(o.answer.abstained for o in unanswerable),
            "answerable_abstained": sum(o.answer.abstained for o in answerable),
            "citations_exact": self._rate(o.citations_exact for o in self.outcomes),
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
                cases.append(Case(
                    question=data["question"], facts=tuple(data.get("facts", ())),
                    answerable=bool(data.get("answerable", True)), history=tuple(data.get("history", ())),
                    source=data.get("source"),
                ))
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{path}:{number}: not a question case ({exc})") from exc
    return cases


def _contains(haystack: str, needles: Iterable[str]) -> bool:
    low = haystack.lower()
    return any(n.lower() in low for n in needles)


def citations_exact(answer: Answer, text_of: Callable[[str], str]) -> bool:
    """Every citation quotes its document exactly, every highlight lies in its
    excerpt, and every quoted sentence stands in the answer with its markers
    and is one of its citations' highlights, to the letter."""
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
        for n in quote.citations:
            c = by_n.get(n)
            if c is None or not any(text_of(c.source)[hs:he] == quote.text for hs, he in c.highlights):
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
        outcomes.append(Outcome(
            case=case, answer=answer,
            fact_in_answer=not answer.abstained and _contains(answer.text, case.facts),
            fact_in_first_citation=first is not None and _contains(first.text, case.facts),
            fact_in_any_citation=any(_contains(c.text, case.facts) for c in answer.citations),
            source_first=None if case.source is None else (first is not None and first.source == case.source),
            citations_exact=citations_exact(answer, text_of),
            seconds=seconds,
        ))
        if progress:
            progress(1)
    return Report(tuple(outcomes))
