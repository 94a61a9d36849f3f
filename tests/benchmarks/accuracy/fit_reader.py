"""Fit how the reader joins answers (``params.ReaderSettings``) on training
parts only; ``quality.py`` then reports the held-out parts with and
without the reader.

    .venv/bin/python -m tests.benchmarks.accuracy.fit_reader [--model reader-v3-int8.onnx] [--write]

Training parts (fitted on): XQuAD's fit half laid out as a plain page, as
news and hard-wrapped; SQuAD 2.0 dev's fit half; the own broad fit half.
Held-out parts (only reported): the other halves (tests/support/data.py:
article_part). Chosen in this order:

- ``weight``: the reader probability's weight beside retrieval's score,
  from a grid, for the most key facts in the first citation and in the
  answer (their mean) over the fit parts;
- ``min_probability``: from ``declining.py``'s thresholds, the most
  unanswerable questions of SQuAD 2.0's fit half declined while at most
  ``--max-declined`` (5%, the issue's rule) of its answerable ones are,
  counting those the rules already decline, and while no fit part's
  answerable questions are declined more than ``--more-declined`` (1%,
  as ``min_score``'s fit) beyond those declined at 0. A question counts
  as declined by it only where the engine's reader judged it (the same
  rule as ``declining.py``: broad questions and lists never are);
- ``short_answer``: the lowest probability at which at least
  ``--short-precision`` (60%) of the fit halves' short answers equal a gold
  answer (SQuAD's normalisation), on the parts the reader was not trained
  on (SQuAD 2.0's fit half is one of its training sets: its spans there
  read better than anywhere else, 78% exact against 52% on XQuAD);
- ``list_candidates`` and ``list_probability`` (how a question asking
  for people as a list is answered, ``answering/items.py``): from a grid,
  for the most (share of a list's points in the first 450 characters of
  its answer + share of the passages quoted there that hold one) / 2 over
  the own question set and the fit halves of the own broad and phrasing
  sets (the second half counts a person listed who is not one of the
  points); fewer candidates (less time) and then a higher
  probability win a tie. ``--lists`` fits only these two, keeping the
  others params.json has.

The reader's ``unweighted`` features (chosen by ``rules.py``) are kept
from params.json, and the fit is made with them unweighted.

``--write`` puts them into assistant/params.json (the reader's model
file must be in assistant/models/) and how they were chosen into
assistant/fit-report.json; without it nothing is written. Broad questions
other than lists of people are answered without the reader
(``Assistant._answer``).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from assistant.answering.reader import Reader, load_reader
from assistant.core import Assistant
from assistant.evaluate import run
from assistant.params import Params, ReaderSettings, packaged
from index.build import build_index
from index.embedding.models import load_embedder
from tests.benchmarks.accuracy.declining import THRESHOLDS, Row, chosen, declined_at, judgments
from tests.benchmarks.accuracy.quality import (LAYOUTS, OWN, ROOT, broad_set, passages_with_points, phrasing_set,
                                               points_within)
from tests.support.bench import FIT_REPORT, record_fit

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
TRAINED_ON = ("squad2-fit",)  # fit parts the reader itself was trained on (training/reader/README.md)
LIST_CANDIDATES = (6, 8, 12)
LIST_PROBABILITIES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


class RecordingReader(Reader):
    """The real reader, each reading kept: a question's candidates are read
    once however many weights are tried."""

    def __init__(self, reader: Reader) -> None:  # shares the loaded session, not a copy
        self.__dict__.update(reader.__dict__)
        self.cache: dict = {}

    def read(self, question, candidates, max_tokens=128):
        key = (question, tuple(candidates), max_tokens)
        if key not in self.cache:
            self.cache[key] = super().read(question, candidates, max_tokens)
        return self.cache[key]


def sets_of(part: str, work: Path) -> dict:
    """``{name: (docs, cases)}`` of ``part`` ("fit" or "held-out")."""
    sets = {}
    for layout, (source, questions) in LAYOUTS.items():
        docs = work / f"{layout}-{part}"
        sets[f"{layout}-{part}"] = (docs, questions(source, docs, part))
    docs = work / f"broad-{part}"
    sets[f"broad-{part}"] = (docs, broad_set(part, docs))
    return sets


def measure(assistant: Assistant, cases) -> dict:
    """The set's summary, and per question the best probability of the
    engine's judgment (None where the reader did not judge it) and whether
    its short answer equals a gold answer."""
    bests: dict[str, float | None] = {}

    with judgments() as judged:
        def ask(question, history):
            judged.clear()
            answer = assistant.ask(question, history)
            bests[question] = judged[-1] if judged else None
            return answer

        report = run(ask, cases, lambda s: assistant.index.document(s).text)
    rows = [{"answerable": o.case.answerable, "best": bests.get(o.case.question), "abstained": o.answer.abstained,
             "short": o.answer.short_answer.text if o.answer.short_answer else None,
             "exact": o.short_exact}
            for o in report.outcomes]
    summary = report.summary | {"points_within_chars": points_within(report.outcomes),
                                "passages_with_points": passages_with_points(report.outcomes)}
    return {"summary": summary, "rows": rows}


def fit_lists(settings: ReaderSettings, reader: Reader, embedder, base: Params, work: Path) -> tuple[ReaderSettings, dict]:
    """``settings`` with ``list_candidates`` and ``list_probability`` chosen
    on the own set and the own broad and phrasing fit halves (see the
    module's docstring), and how they were chosen."""
    from assistant.evaluate import load_cases

    sets = {"own": (ROOT / "docs", load_cases(OWN)),
            "broad-fit": (work / "lists-broad", broad_set("fit", work / "lists-broad")),
            "phrasing-fit": (work / "lists-phrasing", phrasing_set("fit", work / "lists-phrasing"))}
    loaded = {}
    for name, (docs, _) in sets.items():
        build_index(docs, work / f"lists-index-{name}", embedder)
        loaded[name] = Assistant.load(work / f"lists-index-{name}", embedder=embedder, params=base)
    grid: dict[tuple[int, float], float] = {}
    for candidates in LIST_CANDIDATES:
        for floor in LIST_PROBABILITIES:
            tried = dataclasses.replace(settings, list_candidates=candidates, list_probability=floor)
            shares = []
            for name, (_, cases) in sets.items():
                assistant = loaded[name]
                assistant.params, assistant.reader = dataclasses.replace(base, reader=tried), reader
                summary = measure(assistant, cases)["summary"]
                shares.append((summary["points_within_chars"] + summary["passages_with_points"]) / 2)
            grid[(candidates, floor)] = float(np.mean(shares))
            print(f"lists: {candidates} candidates, probability {floor}: (points within 450 characters + passages "
                  f"holding a point) / 2 {grid[(candidates, floor)]:.4f}", flush=True)
    candidates, floor = max(grid, key=lambda k: (round(grid[k], 4), -k[0], k[1]))
    return dataclasses.replace(settings, list_candidates=candidates, list_probability=floor), {
        "data": "own question set, own broad fit half, own phrasing fit half",
        "rule": "most (share of points within an answer's first 450 characters + share of the passages quoted "
                "there that hold a point) / 2, mean over the sets; fewer candidates, then a higher probability, on a tie",
        "objective": {f"{c}x{p}": round(v, 4) for (c, p), v in grid.items()},
        "list_candidates": candidates, "list_probability": floor}


def rows_of(rows: list[dict]) -> list[Row]:
    """A fit set's rows as ``declining.py`` counts them."""
    return [Row(r["answerable"], r["abstained"], r["best"]) for r in rows]


def min_probability(results: dict[str, dict], most: float, more: float) -> float:
    """The threshold of ``declining.THRESHOLDS`` declining the most of
    SQuAD 2.0 fit's unanswerable questions with at most ``most`` of its
    answerable ones, among those declining no more than ``more`` of any fit
    set's answerable questions beyond those declined at 0.

    >>> sets = {"squad2-fit": {"rows": [{"answerable": False, "abstained": False, "best": 0.15},
    ...                                 {"answerable": True, "abstained": False, "best": 0.9}]},
    ...         "xquad-fit": {"rows": [{"answerable": True, "abstained": False, "best": 0.25}]}}
    >>> min_probability(sets, 0.05, 0.01), min_probability(sets, 0.05, 1.0)
    (0.2, 0.2)
    >>> sets["xquad-fit"]["rows"][0]["best"] = 0.12
    >>> min_probability(sets, 0.05, 0.01)
    0.0
    """
    rows = {name: rows_of(r["rows"]) for name, r in results.items()}
    at_zero = {name: declined_at(r, 0.0)[1] for name, r in rows.items()}

    def within(t: float) -> bool:
        return all(declined_at(r, t)[1] - at_zero[name] <= more for name, r in rows.items())

    return chosen(rows["squad2-fit"], most, tuple(t for t in THRESHOLDS if within(t)))


def objective_of(summaries: dict[str, dict]) -> float:
    """The fit's objective: the mean over the sets of (key fact in the first citation + in the answer) / 2.

    >>> objective_of({"a": {"fact_in_first_citation": 0.8, "fact_in_answer": 1.0},
    ...               "b": {"fact_in_first_citation": 0.6, "fact_in_answer": 0.6}})
    0.75
    """
    return float(np.mean([(s["fact_in_first_citation"] + s["fact_in_answer"]) / 2 for s in summaries.values()]))


def provenance(args, objective: dict, without: float, fitted: ReaderSettings, squad2_rows: list[dict],
               shorts: list) -> dict:
    """How the fit chose what it wrote, for assistant/fit-report.json."""
    unanswerable, answerable = declined_at(rows_of(squad2_rows), fitted.min_probability)
    return {
        "data": "training parts only: XQuAD fit half as plain pages, news and wrapped; SQuAD 2.0 dev fit half; own broad fit half",
        "rule": f"weight: most (key fact in first citation + in answer) / 2, averaged over the sets; min_probability: of "
                f"{list(THRESHOLDS)}, most SQuAD 2.0 fit unanswerable declined with at most {args.max_declined:.0%} of its "
                f"answerable and at most {args.more_declined:.0%} more of any fit set's answerable than at 0 (declined by it "
                f"only where the reader judged); short_answer: "
                f"lowest probability with at least {args.short_precision:.0%} of fit short answers exact, on the fit parts "
                f"the reader was not trained on (not {', '.join(TRAINED_ON)})" + (
                    f"; weight kept at {args.weight} (--weight), chosen from the grid by an earlier fit"
                    if args.weight is not None else ""),
        "candidates": fitted.candidates,
        "tokens": fitted.tokens,
        "objective_by_weight": {str(w): round(float(v), 4) for w, v in objective.items()},
        "objective_without_reader": round(float(without), 4),
        "squad2_fit_declined": {"unanswerable": round(unanswerable, 4), "answerable": round(answerable, 4)},
        "short_answers_shown_on_fit": f"{sum(p >= fitted.short_answer for p, _ in shorts)} of {len(shorts)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="the reader's file in assistant/models/ (default: the one params.json names)")
    parser.add_argument("--max-declined", type=float, default=0.05,
                        help="most of SQuAD 2.0 fit's answerable questions min_probability may decline (default 0.05)")
    parser.add_argument("--more-declined", type=float, default=0.01,
                        help="most of any fit set's answerable questions it may decline beyond those declined at 0 "
                             "(default 0.01)")
    parser.add_argument("--short-precision", type=float, default=0.6)
    parser.add_argument("--candidates", type=int, default=3,
                        help="how many of retrieval's best sentences it reads (default 3, the shipped count)")
    parser.add_argument("--tokens", type=int, default=96,
                        help="the window each candidate is read in (at most 128; default 96, the shipped window)")
    parser.add_argument("--weight", type=float,
                        help="keep this weight instead of choosing one from the grid (quicker: the thresholds alone)")
    parser.add_argument("--sample", type=int, default=1, help="every Nth question of each set (a quicker look)")
    parser.add_argument("--lists", action="store_true",
                        help="fit only how lists of people are answered, keeping params.json's other reader settings")
    parser.add_argument("--write", action="store_true", help="write the fitted settings into assistant/params.json")
    args = parser.parse_args()

    embedder = load_embedder()
    shipped = Params.load(packaged())
    base = shipped.without_reader()
    if args.model is None:
        if shipped.reader is None:
            raise SystemExit("params.json names no reader: name the one to fit with --model")
        args.model = shipped.reader.model
    reader = RecordingReader(load_reader(args.model))
    keep = shipped.reader.unweighted if shipped.reader else ()  # chosen by rules.py: kept, and fitted with
    if args.lists:
        if shipped.reader is None:
            raise SystemExit("params.json has no reader settings to keep: run the whole fit first")
        with tempfile.TemporaryDirectory() as tmp:
            fitted, how = fit_lists(dataclasses.replace(shipped.reader, model=args.model), reader, embedder, base,
                                    Path(tmp))
        print(fitted)
        if args.write:
            packaged().write_text(dataclasses.replace(base, reader=fitted).to_json(), encoding="utf-8")
            record_fit("reader_lists", how)
            print(f"wrote {packaged()} and the reader_lists section of {FIT_REPORT}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        fit = {name: (docs, cases[:: args.sample]) for name, (docs, cases) in sets_of("fit", work).items()}
        built = {}
        for name, (docs, _) in fit.items():
            build_index(docs, work / f"index-{name}", embedder)
            built[name] = work / f"index-{name}"

        def score(settings: ReaderSettings | None) -> dict:
            params = dataclasses.replace(base, reader=settings)
            out = {}
            for name, (_, cases) in fit.items():
                assistant = Assistant.load(built[name], embedder=embedder, params=params)
                if settings is not None:
                    assistant.reader = reader
                out[name] = measure(assistant, cases)
            return out

        results = {"without": score(None)}
        grid = (args.weight,) if args.weight is not None else WEIGHTS
        for w in grid:
            # Nothing declined, every short answer shown: the thresholds are chosen from these runs.
            results[w] = score(ReaderSettings(args.model, w, 0.0, 0.0, args.candidates, args.tokens, unweighted=keep))
            print(f"weight {w}: " + ", ".join(
                f"{n} first {r['summary']['fact_in_first_citation']:.3f} answer {r['summary']['fact_in_answer']:.3f}"
                for n, r in results[w].items()), flush=True)
        objective = {w: objective_of({n: r["summary"] for n, r in results[w].items()}) for w in grid}
        weight = max(grid, key=lambda w: objective[w])
        minimum = min_probability(results[weight], args.max_declined, args.more_declined)
        without = objective_of({n: r["summary"] for n, r in results["without"].items()})
        print(f"weight {weight} (objective {objective[weight]:.4f}; without the reader {without:.4f})")
        squad2 = rows_of(results[weight]["squad2-fit"]["rows"])
        print(f"min_probability {minimum}: squad2-fit unanswerable / answerable declined "
              f"{declined_at(squad2, minimum)} (at 0: {declined_at(squad2, 0.0)})")
        # Short answers: every fit part's answerable questions with one, by the answer's own best probability.
        shorts = sorted(((r["best"], r["exact"]) for name, res in results[weight].items() if name not in TRAINED_ON
                         for r in res["rows"]
                         if r["answerable"] and r["short"] is not None and r["best"] is not None), reverse=True)
        short, hits = 1.01, 0
        for n, (p, exact) in enumerate(shorts, 1):
            hits += exact
            if hits / n >= args.short_precision:
                short = p
        print(f"short_answer {short}: {sum(p >= short for p, _ in shorts)} of {len(shorts)} fit questions get one")
        fitted = ReaderSettings(args.model, weight, minimum, short, args.candidates, args.tokens, unweighted=keep)
        fitted, how = fit_lists(fitted, reader, embedder, base, work)
        print(fitted)
        if args.write:
            packaged().write_text(dataclasses.replace(base, reader=fitted).to_json(), encoding="utf-8")
            record_fit("reader", provenance(args, objective, without, fitted, results[weight]["squad2-fit"]["rows"], shorts))
            record_fit("reader_lists", how)
            print(f"wrote {packaged()} and the reader's section of {FIT_REPORT}")


if __name__ == "__main__":
    main()
