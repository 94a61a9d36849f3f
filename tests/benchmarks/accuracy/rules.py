"""Which of retrieval's hand-written rules still earn their place once the
reader reads: each is switched off in turn, with the reader on at its
shipped settings, and every training part is answered again.

    .venv/bin/python -m tests.benchmarks.accuracy.rules [--sample 2]

The rules measured:

- each answer-type feature (``answer_type_when`` ... ``answer_type_where``:
  a sentence holds the kind of information the question's wording asks
  for; ``retrieval/query.py`` types the question) and ``restates`` (it holds
  the question's terms but not that kind), whose weights were fitted before
  the reader existed;
- ``coverage`` (the share of the question's terms a sentence holds);
- the scene rule of ``answering/choose.py`` (a best sentence that only sets
  the scene brings the next sentence of its paragraph).

A feature is switched off by naming it in the reader's ``unweighted``
(params.json), so it still weighs without the reader (``--no-reader``);
one params.json already unweights is switched back on.

Training parts only (fitted on, never held out): XQuAD's fit half laid
out as a plain page, as news and hard-wrapped, SQuAD 2.0 dev's fit half,
the own broad fit half, the own question set and the own phrasing fit
half. The objective is fit_reader's: the mean over the sets of (key fact
in the first citation + key fact in the answer) / 2; beside it, the share
of unanswerable questions (SQuAD 2.0's and the phrasing set's near
misses) declined. A rule whose removal leaves the objective where it was,
or raises it, no longer earns its place beside the reader. Writes
tests/benchmarks/results/rules.json; ``--write`` also puts the features
that no longer earn their place into params.json's ``reader.unweighted``
(``unweighted``) and how they were chosen into assistant/fit-report.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from assistant.core import Assistant
from assistant.evaluate import load_cases, run
from assistant.params import Params, packaged
from index.build import build_index
from index.embedding.models import load_embedder
from tests.benchmarks.accuracy.fit_reader import objective_of, sets_of
from tests.benchmarks.accuracy.quality import OWN, ROOT, phrasing_set
from tests.support import RESULTS, write_result
from tests.support.bench import record_fit

SCENE_OFF = 2.0  # a scene_coverage no sentence reaches (coverage is a share): the scene rule never fires


def variants(shipped: Params) -> dict[str, Params]:
    """The shipped settings, and each with one rule switched: a feature
    the reader reads beside is unweighted (``no``), one it already
    unweights weighs again (``with``), and the scene rule is off."""
    reader = shipped.reader
    assert reader is not None
    out = {"shipped": shipped}
    for feature, weight in shipped.weights.sentence:
        if feature in ("dense", "context") or weight == 0:
            continue  # retrieval's own similarity and its chunk's score are no hand-written rule
        if feature in reader.unweighted:
            kept = tuple(f for f in reader.unweighted if f != feature)
            out[f"with {feature}"] = dataclasses.replace(shipped, reader=dataclasses.replace(reader, unweighted=kept))
        else:
            more = (*reader.unweighted, feature)
            out[f"no {feature}"] = dataclasses.replace(shipped, reader=dataclasses.replace(reader, unweighted=more))
    out["no scene rule"] = shipped.with_answer(scene_coverage=SCENE_OFF)
    return out


def unweighted(shipped: Params, results: dict[str, dict]) -> tuple[str, ...]:
    """The features the reader made redundant: those whose switching off
    left the objective as high or higher, and those already unweighted whose
    switching back on did not raise it.

    >>> from assistant.params import AnswerSettings, ReaderSettings, Weights
    >>> p = Params(Weights((("dense", 1.0), ("coverage", 0.4), ("restates", -0.1), ("answer_type_who", 0.1)), 1.0, 8.0),
    ...            AnswerSettings(0.7, 0.3), ReaderSettings("r.onnx", 0.5, 0.0, 0.6, unweighted=("answer_type_who",)))
    >>> unweighted(p, {"shipped": {"objective": 0.9}, "no coverage": {"objective": 0.8},
    ...                "no restates": {"objective": 0.9}, "with answer_type_who": {"objective": 0.89}})
    ('restates', 'answer_type_who')
    """
    base = results["shipped"]["objective"]
    out = []
    for feature, _ in shipped.weights.sentence:
        if f"no {feature}" in results and results[f"no {feature}"]["objective"] >= base:
            out.append(feature)
        elif f"with {feature}" in results and results[f"with {feature}"]["objective"] <= base:
            out.append(feature)
    return tuple(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=1, help="every Nth question of each set (a quicker look)")
    parser.add_argument("--only", nargs="*", metavar="VARIANT",
                        help='measure only these variants besides "shipped" (as printed: "no restates", ...)')
    parser.add_argument("--write", action="store_true",
                        help="store the features that no longer earn their place in params.json (reader.unweighted)")
    args = parser.parse_args()
    shipped = Params.load(packaged())
    if shipped.reader is None:
        raise SystemExit("params.json names no reader: there is nothing to measure the rules beside")
    embedder = load_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sets = sets_of("fit", work)
        sets["own"] = (ROOT / "docs", load_cases(OWN))
        sets["phrasing-fit"] = (work / "phrasing-fit", phrasing_set("fit", work / "phrasing-fit"))
        built = {}
        for name, (docs, _) in sets.items():
            build_index(docs, work / f"index-{name}", embedder)
            built[name] = work / f"index-{name}"
        results: dict[str, dict] = {}
        reader = None
        chosen = {v: p for v, p in variants(shipped).items() if args.only is None or v == "shipped" or v in args.only}
        for variant, params in chosen.items():
            summaries = {}
            for name, (_, cases) in sets.items():
                assistant = Assistant.load(built[name], embedder=embedder, params=params, reader=reader)
                reader = assistant.reader  # loaded once, shared by every variant
                report = run(assistant.ask, cases[:: args.sample],
                             lambda s, index=assistant.index: index.document(s).text)
                summaries[name] = report.summary
            declined = [s["unanswerable_abstained"] for s in summaries.values() if s.get("unanswerable_abstained") is not None]
            results[variant] = {"objective": round(objective_of(summaries), 4),
                                "unanswerable_declined": round(float(np.mean(declined)), 4) if declined else None,
                                "sets": {n: {k: s[k] for k in ("fact_in_first_citation", "fact_in_answer")}
                                         for n, s in summaries.items()}}
            print(f"{variant:28s} objective {results[variant]['objective']:.4f}  "
                  f"unanswerable declined {results[variant]['unanswerable_declined']}", flush=True)
    base = results["shipped"]["objective"]
    print(f"\n| rule | objective (training parts; shipped {base:.4f}) | change |\n|---|---|---|")
    for variant, r in results.items():
        if variant != "shipped":
            print(f"| {variant} | {r['objective']:.4f} | {r['objective'] - base:+.4f} |")
    write_result(RESULTS / "rules.json", {"sample": args.sample, "model": shipped.reader.model, "results": results})
    if args.write:
        chosen = unweighted(shipped, results)
        fitted = dataclasses.replace(shipped, reader=dataclasses.replace(shipped.reader, unweighted=chosen))
        packaged().write_text(fitted.to_json(), encoding="utf-8")
        record_fit("reader_rules", provenance(args, results, chosen))
        print(f"unweighted while the reader reads: {', '.join(chosen) or 'none'}; wrote {packaged()}")


def provenance(args, results: dict[str, dict], chosen: tuple[str, ...]) -> dict:
    """How ``--write`` chose ``reader.unweighted``, for assistant/fit-report.json."""
    return {
        "data": "training parts only: XQuAD fit half as plain pages, news and wrapped; SQuAD 2.0 dev fit half; own broad "
                "fit half; own question set; own phrasing fit half" + (f"; one question in {args.sample}" if args.sample > 1 else ""),
        "rule": "a sentence feature is unweighted while the reader reads when switching it off leaves fit_reader's "
                "objective (mean over the sets of (key fact in first citation + in answer) / 2) as high or higher",
        "objective_by_variant": {v: r["objective"] for v, r in results.items()},
        "unweighted": list(chosen),
    }


if __name__ == "__main__":
    main()
