"""Fit askdoc's sentence weights and its abstention threshold on training
splits; report them on held-out splits that the fit never reads.

    make fit          # or: .venv/bin/python -m tests.benchmarks.accuracy.fit [--write] [--questions MINE.jsonl --docs DIR]

Training ("fit") split: the own set over docs/ (without its follow-ups),
and the "fit" half of the articles (tests/support/data.py: article_part)
of XQuAD in paragraph layout, XQuAD in news layout (title line, one
sentence per paragraph) and SQuAD 2.0 dev (answerable and unanswerable
questions). Held-out split: the other half of the articles of the same
three sets, indexed apart; they are read only after the parameters are
chosen, to report them.

1. Sentence weights: a logistic regression over the features each
   candidate sentence is scored on (``params.FEATURES``), the label being
   whether the sentence holds a key fact, every question weighing the same.
   The weights are divided by the weight of the dense similarity, which
   keeps scores on the scale of a cosine (ranking is unchanged by it).
2. Abstention: with those weights, the curve of unanswerable questions
   abstained against answerable questions wrongly abstained, as the
   minimum score rises; the operating point is the highest minimum score at
   which it abstains on no more than 1% of the answerable questions of each
   training set (none of the own set's) beyond those the other rules already
   abstain on.

``--write`` stores the result in assistant/params.json (versioned); without
it the script only reports. ``--questions FILE --docs DIR`` adds your own
question set (askdoc eval's format) to the training split.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant import params
from assistant.params import FEATURES, AnswerSettings
from assistant.answering.compose import should_abstain
from assistant.core import Assistant
from assistant.evaluate import Case, load_cases
from assistant.retrieval.query import named_terms
from index.build import build_index
from index.embedding.models import load_embedder
from tests.support import RESULTS, ROOT, SQUAD2, XQUAD, news_questions, write_result, xquad_questions
from tests.support.bench import FIT_REPORT, record_fit

MAX_ANSWERABLE_ABSTAINED = 0.01


@dataclasses.dataclass
class Question:
    """What fitting needs of one question: every candidate's features and
    label, and whether a rule other than the minimum score abstains."""

    answerable: bool
    features: np.ndarray  # candidates x FEATURES
    labels: np.ndarray  # candidate holds a key fact
    lengths: np.ndarray  # candidate's characters
    ruled_out: bool  # abstains whatever the minimum score (a name no document uses, ...)


def gather(name: str, docs: Path, cases: list[Case], work: Path, embedder) -> list[Question]:
    """Index ``docs`` and collect every question's candidates (follow-ups, which
    need the answers before them, are left out)."""
    build_index(docs, work / name, embedder)
    assistant = Assistant.load(work / name, embedder=embedder)
    cases = [c for c in cases if not c.history]
    queries = [assistant._prepare(c.question, None) for c in cases]
    vectors = embedder.encode([q.search_text for q in queries])
    no_minimum = dataclasses.replace(assistant.settings, min_score=-math.inf)
    gathered = []
    for case, query, vector in zip(cases, queries, vectors):
        _, ranked, unknown = assistant.retriever.search(query, vector)
        facts = [f.lower() for f in case.facts]
        labels = [any(f in assistant.index.sentence_text(h.sentence).lower() for f in facts) for h in ranked]
        gathered.append(Question(
            answerable=case.answerable,
            features=np.array([h.features for h in ranked], dtype=np.float64).reshape(len(ranked), len(FEATURES)),
            labels=np.array(labels, dtype=bool),
            lengths=np.array([h.end - h.start for h in ranked], dtype=np.int64),
            ruled_out=should_abstain(ranked, unknown, named_terms(query.search_text), no_minimum),
        ))
    print(f"  {name}: {len(gathered)} questions, {sum(len(q.labels) for q in gathered)} candidate sentences")
    return gathered


def fit_weights(sets: dict[str, list[Question]], regularization: float = 0.01) -> np.ndarray:
    """Listwise learning to rank: the weights that maximize, over the
    answerable questions, the probability a softmax over each question's
    candidates gives to the sentences holding a key fact (a conditional
    logit, convex in the weights; L2-regularized; L-BFGS), every question
    weighing the same. (Weighing every training set the same instead, so
    the own set's 35 questions count as much as SQuAD's 1,400, ranked the
    held-out sets about a point worse.)"""
    from scipy.optimize import minimize

    usable = [q for qs in sets.values() for q in qs if q.answerable and q.labels.any()]
    share = [1.0 / len(usable)] * len(usable)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = regularization * w @ w, 2 * regularization * w
        for q, weight in zip(usable, share):
            s = q.features @ w
            top = s.max()
            p = np.exp(s - top)
            all_sum, pos_sum = p.sum(), p[q.labels].sum()
            total += (math.log(all_sum) - math.log(pos_sum)) * weight
            grad += (p @ q.features / all_sum - p[q.labels] @ q.features[q.labels] / pos_sum) * weight
        return total, grad

    start = np.array([dict(params.Params.load(params.packaged()).weights.sentence).get(f, 0.0) for f in FEATURES])
    found = minimize(loss, start, jac=True, method="L-BFGS-B")
    dense = found.x[FEATURES.index("dense")]
    if dense <= 0:
        raise SystemExit(f"the fitted weight of the dense similarity is {dense:.3f}: refusing weights that rank "
                         "sentences against their meaning")
    return found.x / dense


def simulate(questions: list[Question], weights: np.ndarray, margin: float,
             config: AnswerSettings | None = None) -> tuple[float, float]:
    """(share of answerable questions whose answer holds a key fact, mean
    characters quoted) when an answer is the best sentence and those within
    ``margin`` of it, as ``choose.choose_sentences`` takes them (without its
    scene-setting and pronoun rules)."""
    config = config or AnswerSettings(min_score=-math.inf, margin=margin)
    hits, chars = [], []
    for q in questions:
        if not q.answerable or q.ruled_out or not len(q.labels):
            continue
        scores = q.features @ weights
        order = np.argsort(-scores, kind="stable")
        chosen, used = [order[0]], int(q.lengths[order[0]])
        for i in order[1:]:
            if len(chosen) >= config.max_sentences or scores[i] < scores[order[0]] - margin:
                break
            if used + q.lengths[i] <= config.max_chars:
                chosen.append(i)
                used += int(q.lengths[i])
        hits.append(bool(q.labels[chosen].any()))
        chars.append(used)
    return float(np.mean(hits)), float(np.mean(chars))


def fit_margin(questions: list[Question], weights: np.ndarray, hand: np.ndarray, hand_margin: float) -> float:
    """The margin that puts a key fact in the most answers without making
    them longer, on average, than the hand-set weights and margin did."""
    _, budget = simulate(questions, hand, hand_margin)
    best_margin, best_hits = 0.0, -1.0
    for margin in np.arange(0.0, 1.5, 0.01):
        hits, chars = simulate(questions, weights, float(margin))
        if chars <= budget and hits > best_hits:
            best_margin, best_hits = round(float(margin), 2), hits
    return best_margin


def best_scores(questions: list[Question], weights: np.ndarray) -> np.ndarray:
    return np.array([(q.features @ weights).max() if len(q.labels) else -math.inf for q in questions])


def top1(questions: list[Question], weights: np.ndarray) -> float:
    """Share of answerable questions whose best-scoring sentence holds a key fact."""
    answerable = [q for q in questions if q.answerable and len(q.labels)]
    return float(np.mean([q.labels[int(np.argmax(q.features @ weights))] for q in answerable]))


def abstained(questions: list[Question], weights: np.ndarray, minimum: float) -> tuple[float | None, float | None]:
    """(share of unanswerable questions abstained, share of answerable ones abstained)."""
    scores = best_scores(questions, weights)
    out = np.array([q.ruled_out for q in questions]) | (scores < minimum)
    answerable = np.array([q.answerable for q in questions])
    rate = lambda mask: float(out[mask].mean()) if mask.any() else None  # noqa: E731
    return rate(~answerable), rate(answerable)


def choose_minimum(sets: dict[str, list[Question]], weights: np.ndarray) -> float:
    """The highest minimum score at which it makes no more than 1% of each
    training set's answerable questions abstain, and none of the own set's,
    beyond those the other rules already abstain on (a name no document
    uses: a smaller corpus has more of those, which says nothing of the score)."""
    def extra(questions: list[Question], minimum: float) -> float:
        answerable = [q for q in questions if q.answerable and not q.ruled_out]
        if not answerable:
            return 0.0
        return float(np.mean(best_scores(answerable, weights) < minimum))

    candidates = np.unique(np.concatenate([best_scores(qs, weights) for qs in sets.values()]))
    candidates = candidates[np.isfinite(candidates)]
    chosen = float(candidates.min()) - 1e-6
    for minimum in candidates:
        if any(extra(qs, minimum) > (0.0 if name == "own" else MAX_ANSWERABLE_ABSTAINED) for name, qs in sets.items()):
            break
        chosen = float(minimum)
    return math.floor(chosen * 1e4) / 1e4  # rounded down: the question scoring exactly that still answers


def curve(questions: list[Question], weights: np.ndarray, points: int = 9) -> list[dict]:
    scores = best_scores(questions, weights)
    finite = scores[np.isfinite(scores)]
    rows = []
    for minimum in np.quantile(finite, np.linspace(0.0, 0.8, points)):
        unanswerable, answerable = abstained(questions, weights, float(minimum))
        rows.append({"min_score": round(float(minimum), 3), "unanswerable_abstained": unanswerable,
                     "answerable_abstained": answerable})
    return rows


def split(part: str, work: Path, embedder) -> dict[str, list[Question]]:
    """XQuAD (paragraphs), XQuAD (news layout) and SQuAD 2.0 dev, the articles of ``part``."""
    return {
        f"xquad-{part}": gather(f"xquad-{part}", work / f"xquad-{part}",
                                xquad_questions(XQUAD, work / f"xquad-{part}", part), work, embedder),
        f"news-{part}": gather(f"news-{part}", work / f"news-{part}",
                               news_questions(XQUAD, work / f"news-{part}", part), work, embedder),
        f"squad2-{part}": gather(f"squad2-{part}", work / f"squad2-{part}",
                                 xquad_questions(SQUAD2, work / f"squad2-{part}", part, True), work, embedder),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", choices=["fitted", "threshold"], default=None,
                        help="store in assistant/params.json the fitted weights, margin and minimum score ('fitted'), "
                             "or only the minimum score chosen for the weights it holds now ('threshold')")
    parser.add_argument("--out", type=Path, default=None,
                        help="with --write: where to write (default: assistant/params.json; use it with ASKDOC_PARAMS)")
    parser.add_argument("--questions", type=Path, help="your own question set (askdoc eval's format), fitted on too")
    parser.add_argument("--docs", type=Path, help="the documents your questions are about")
    args = parser.parse_args()
    embedder = load_embedder()
    packaged = params.Params.load(params.packaged())
    hand = np.array([dict(packaged.weights.sentence).get(f, 0.0) for f in FEATURES])
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("training split")
        fit = {"own": gather("own", ROOT / "docs", load_cases(ROOT / "tests" / "data" / "admm_questions.jsonl"),
                             work, embedder)}
        fit.update(split("fit", work, embedder))
        if args.questions:
            fit["yours"] = gather("yours", args.docs, load_cases(args.questions), work, embedder)
        weights = fit_weights(fit)
        minimum = choose_minimum(fit, weights)
        hand_margin = packaged.answer.margin
        margin = fit_margin([q for qs in fit.values() for q in qs], weights, hand, hand_margin)
        hand_minimum = choose_minimum(fit, hand)
        print("held-out split (read only now, to report)")
        held = split("held-out", work, embedder)
    report = {"features": list(FEATURES), "hand_weights": hand.round(4).tolist(),
              "fitted_weights": weights.round(4).tolist(), "min_score": round(minimum, 4), "margin": margin,
              "seconds": round(time.perf_counter() - began, 1), "sets": {}}
    print(f"\nweights ({', '.join(FEATURES)}):\n  hand   {hand.round(3).tolist()}\n  fitted {weights.round(3).tolist()}")
    print(f"minimum score by the same rule: {minimum:.3f} for the fitted weights, {hand_minimum:.3f} for the "
          f"packaged ones (packaged: {packaged.answer.min_score}); margin: {margin} (packaged: {hand_margin})\n")
    print("| set | split | best sentence holds a key fact: hand / fitted | answer (simulated) holds one: hand / "
          "fitted | unanswerable abstained: packaged / fitted | answerable abstained: packaged / fitted |"
          "\n|---|---|---|---|---|---|")
    for part, sets in (("training", fit), ("held-out", held)):
        for name, qs in sets.items():
            unanswerable, answerable = abstained(qs, weights, minimum)
            packaged_unanswerable, packaged_answerable = abstained(qs, hand, hand_minimum)
            row = {"split": part, "questions": len(qs), "top1_hand": top1(qs, hand), "top1_fitted": top1(qs, weights),
                   "answer_hand": simulate(qs, hand, hand_margin), "answer_fitted": simulate(qs, weights, margin),
                   "unanswerable_abstained": unanswerable, "answerable_abstained": answerable,
                   "packaged_unanswerable_abstained": packaged_unanswerable,
                   "packaged_answerable_abstained": packaged_answerable,
                   "curve": curve(qs, weights) if unanswerable is not None else None,
                   "packaged_curve": curve(qs, hand) if unanswerable is not None else None}
            report["sets"][name] = row
            pct = lambda v: "n/a" if v is None else f"{100 * v:.1f}%"  # noqa: E731
            print(f"| {name} | {part} | {pct(row['top1_hand'])} / {pct(row['top1_fitted'])} | "
                  f"{pct(row['answer_hand'][0])} ({row['answer_hand'][1]:.0f} ch) / {pct(row['answer_fitted'][0])} "
                  f"({row['answer_fitted'][1]:.0f} ch) | {pct(packaged_unanswerable)} / {pct(unanswerable)} | "
                  f"{pct(packaged_answerable)} / {pct(answerable)} |")
    for name in ("squad2-fit", "squad2-held-out"):
        print(f"\nabstention curve, {name}, packaged weights (min score: unanswerable / answerable abstained)")
        for point in report["sets"][name]["packaged_curve"]:
            print(f"  {point['min_score']:7.3f}: {100 * point['unanswerable_abstained']:5.1f}% / "
                  f"{100 * point['answerable_abstained']:5.1f}%")
    write_result(RESULTS / "fit.json", report)
    if args.write:
        rule = ("min_score: the highest at which the score makes no more than 1% of each training set's answerable "
                "questions abstain (none of the own set's) beyond those the other rules abstain on")
        about = {"by": "tests/benchmarks/accuracy/fit.py --write " + args.write, "date": time.strftime("%Y-%m-%d"),
                 "training": {n: len(q) for n, q in fit.items()}}
        if args.write == "fitted":
            sentence = tuple(zip(FEATURES, (round(float(w), 4) for w in weights)))
            fitted = dataclasses.replace(packaged, weights=dataclasses.replace(packaged.weights, sentence=sentence))
            fitted = fitted.with_answer(min_score=round(minimum, 4), margin=margin)
            about["rule"] = ("sentence weights: listwise logistic model over FEATURES, divided by the dense weight; "
                             "margin: most key facts in answers no longer than before; " + rule)
        else:
            fitted = packaged.with_answer(min_score=round(hand_minimum, 4))
            about["rule"] = ("sentence weights and margin kept as they were (set by hand; the fitted ones answered "
                             "held-out questions less well, guide/quality.md); " + rule)
        out = args.out or params.packaged()
        out.write_text(fitted.to_json(), encoding="utf-8")
        if out == params.packaged():
            record_fit("sentence_weights", about)
        print(f"wrote {out}" + (f" and {FIT_REPORT}" if out == params.packaged() else ""))


if __name__ == "__main__":
    main()
