"""How far the reader's probability can take declining: SQuAD 2.0 dev's
unanswerable questions declined against its answerable ones, as the
reader's ``min_probability`` rises (issue 38's curve).

    .venv/bin/python -m tests.benchmarks.accuracy.declining [--model reader-v3-int8.onnx]

Each half (fit: a training part; held-out: never fitted on) is answered
once by the engine as params.json sets it, recording for each question
the best probability the reader gave any candidate where it judged one
answer. A question is declined at threshold T when the engine declined it
anyway (its rules) or when the reader judged it and its best is under T;
questions the reader does not judge (broad ones, lists) keep the engine's
answer, as they would. The threshold that declines the most of the fit
half's unanswerable questions with at most 5% of its answerable ones is
then read on the held-out half.

Prints one table and writes tests/benchmarks/results/declining.json.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import tempfile
from collections.abc import Iterator
from pathlib import Path

import assistant.core
from assistant.core import Assistant
from assistant.params import Params
from index.build import build_index
from index.embedding.models import load_embedder
from tests.benchmarks.accuracy.quality import LAYOUTS
from tests.support import RESULTS, write_result

THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
MOST_ANSWERABLE_DECLINED = 0.05


@dataclasses.dataclass(frozen=True)
class Row:
    answerable: bool
    declined: bool  # by the engine as shipped
    best: float | None  # the reader's best probability, None where it did not judge


@contextlib.contextmanager
def judgments() -> Iterator[list[float]]:
    """While inside, the best probability of every judgment the engine
    makes, in order (an Answer does not carry it): the fit
    (``fit_reader.py``) and this curve read the reader's doubt the same way."""
    judged: list[float] = []
    judge = assistant.core.judge

    def recording(*args, **kwargs):
        judgment = judge(*args, **kwargs)
        judged.append(judgment.best)
        return judgment

    assistant.core.judge = recording
    try:
        yield judged
    finally:
        assistant.core.judge = judge


def answered(part: str, work: Path, embedder, params: Params) -> list[Row]:
    """Every question of SQuAD 2.0's ``part`` answered once, with what the reader judged."""
    source, questions = LAYOUTS["squad2"]
    docs = work / f"squad2-{part}"
    cases = questions(source, docs, part)
    build_index(docs, work / f"index-{part}", embedder)
    engine = Assistant.load(work / f"index-{part}", embedder=embedder, params=params)
    rows = []
    with judgments() as judged:
        for case in cases:
            judged.clear()
            answer = engine.ask(case.question)
            rows.append(Row(case.answerable, answer.abstained, judged[-1] if judged else None))
    return rows


def declined_at(rows: list[Row], threshold: float) -> tuple[float, float]:
    """(unanswerable, answerable) shares declined at ``threshold``.

    >>> rows = [Row(False, False, 0.2), Row(False, True, 0.9), Row(True, False, 0.8), Row(True, False, None)]
    >>> declined_at(rows, 0.5), declined_at(rows, 0.85)
    ((1.0, 0.0), (1.0, 0.5))
    """
    def share(answerable: bool) -> float:
        group = [r for r in rows if r.answerable == answerable]
        out = [r.declined or (r.best is not None and r.best < threshold) for r in group]
        return sum(out) / max(1, len(out))

    return share(False), share(True)


def chosen(rows: list[Row], most: float = MOST_ANSWERABLE_DECLINED, allowed: tuple[float, ...] = THRESHOLDS) -> float:
    """The threshold of ``allowed`` declining the most unanswerable questions
    with at most ``most`` of the answerable ones (the lowest on a tie).

    >>> rows = [Row(False, False, 0.2), Row(False, False, 0.6), Row(True, False, 0.4), Row(True, False, 0.9)]
    >>> chosen(rows, most=0.0), chosen(rows, most=0.5)
    (0.3, 0.7)
    """
    within = [t for t in allowed if declined_at(rows, t)[1] <= most]
    return max(within or [0.0], key=lambda t: (declined_at(rows, t)[0], -t))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="a reader in assistant/models/ (default: the one params.json names)")
    args = parser.parse_args()
    params = Params.load()
    if params.reader is None:
        raise SystemExit("params.json answers without a reader: nothing to measure")
    if args.model:
        params = dataclasses.replace(params, reader=dataclasses.replace(params.reader, model=args.model))
    embedder = load_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        halves = {part: answered(part, Path(tmp), embedder, params) for part in ("fit", "held-out")}
    threshold = chosen(halves["fit"])
    curve = {part: {str(t): dict(zip(("unanswerable", "answerable"), declined_at(rows, t))) for t in THRESHOLDS}
             for part, rows in halves.items()}
    print(f"SQuAD 2.0 dev, reader {params.reader.model}: declined as min_probability rises "
          "(unanswerable / answerable; the engine's own declines included)")
    print("| min_probability | " + " | ".join(map(str, THRESHOLDS)) + " |")
    print("|---|" + "---|" * len(THRESHOLDS))
    for part in halves:
        cells = [f"{100 * curve[part][str(t)]['unanswerable']:.1f}% / {100 * curve[part][str(t)]['answerable']:.1f}%"
                 for t in THRESHOLDS]
        print(f"| {'fit (training)' if part == 'fit' else part} | " + " | ".join(cells) + " |")
    held = curve["held-out"][str(threshold)]
    print(f"chosen on the fit half (most unanswerable declined, at most {MOST_ANSWERABLE_DECLINED:.0%} of answerable): "
          f"{threshold}; held-out: {100 * held['unanswerable']:.1f}% / {100 * held['answerable']:.1f}%")
    questions = {part: {"answerable": sum(r.answerable for r in rows), "unanswerable": sum(not r.answerable for r in rows),
                        "judged": sum(r.best is not None for r in rows)} for part, rows in halves.items()}
    write_result(RESULTS / "declining.json", {"reader": params.reader.model, "questions": questions, "curve": curve,
                                              "chosen_on_fit": threshold, "held_out_at_chosen": held})


if __name__ == "__main__":
    main()
