"""Answer quality of askdoc on its own question set, on its own broad and
list questions and its own phrasing questions (who / whom / which / lists /
"besides" / near misses the documents don't answer; each half held out), on XQuAD, on XQuAD
laid out as news (title line, one sentence per paragraph) and on XQuAD
hard-wrapped at 72 columns as PDF and e-mail text comes ("wrapped") and on
SQuAD 2.0 dev (answerable and unanswerable questions, one document per
article); the last three split by article into a part that may be looked at
while tuning ("fit") and one that is only reported ("held-out";
tests/support/data.py: article_part).

    make bench            # or: .venv/bin/python -m tests.benchmarks.accuracy.quality [--sets own xquad ...] [--model onnx-int8]

Each set is answered twice, over one index: with the reader and without it
(``--no-reader``, today's path before it), printed as two tables. Next to
askdoc's own ranking, each set reports how often plain dense chunk
search with the same model and FAISS index (the stock pipeline's ranking)
puts the right document first. Prints one table and writes
tests/benchmarks/results/quality.json. Uses the real bundled model and
FAISS; indexes are built in a temporary folder.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path


from assistant.core import Assistant
from assistant.evaluate import ROWS, load_cases, run, table
from assistant.params import Params
from index.build import build_index
from index.embedding.models import load_embedder
from tests.support import RESULTS, ROOT, SQUAD2, XQUAD, news_questions, write_result, xquad_questions
from tests.support.data import wrapped_questions

OWN = ROOT / "tests" / "data" / "admm_questions.jsonl"
# name -> (how XQuAD is laid out, which of its articles); the own set is askdoc's article
# Each layout: the SQuAD-format file it reads and how it lays the articles out as documents.
LAYOUTS = {"xquad": (XQUAD, xquad_questions), "news": (XQUAD, news_questions), "wrapped": (XQUAD, wrapped_questions),
           "squad2": (SQUAD2, lambda path, docs, part: xquad_questions(path, docs, part, unanswerable=True))}
BROAD = ROOT / "tests" / "data" / "broad_questions.jsonl"  # own broad and list questions, each marked fit or held-out
BROAD_DOCS = ROOT / "tests" / "data" / "broad"
# Own phrasing set (issue 38): who / whom / which / lists / "besides" / "apart from", and near misses
# naming the documents' own people and places (answerable: false), each marked fit or held-out.
PHRASING = ROOT / "tests" / "data" / "phrasing_questions.jsonl"
PHRASING_DOCS = ROOT / "tests" / "data" / "phrasing"
ANSWER_CHARS = 450  # the phrasing set's points count only within an answer's first 450 characters
SETS = {"own": None, "broad-fit": None, "broad-held-out": None, "xquad-fit": ("xquad", "fit"),
        "xquad-held-out": ("xquad", "held-out"), "news-fit": ("news", "fit"),
        "news-held-out": ("news", "held-out"), "wrapped-fit": ("wrapped", "fit"), "wrapped-held-out": ("wrapped", "held-out"),
        "squad2-fit": ("squad2", "fit"), "squad2-held-out": ("squad2", "held-out"),
        "phrasing-fit": None, "phrasing-held-out": None}


def written_set(questions: Path, folders: list[Path], part: str, docs: Path):
    """The questions of ``part`` written here (a JSON line each: part, question,
    facts, points, answerable), over the default article and the documents
    of ``folders``, copied into ``docs``."""
    import json
    import shutil

    from assistant.evaluate import Case

    docs.mkdir(parents=True, exist_ok=True)
    for path in [*(ROOT / "docs").glob("*.txt"), *(p for folder in folders for p in folder.glob("*.txt"))]:
        shutil.copy(path, docs / path.name)
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Case(question=r["question"], facts=tuple(r.get("facts", ())), points=tuple(r.get("points", ())),
                 answerable=r.get("answerable", True))
            for r in rows if r["part"] == part]


def broad_set(part: str, docs: Path):
    """The own broad and list questions of ``part``, over the default article
    and the documents of tests/data/broad."""
    return written_set(BROAD, [BROAD_DOCS], part, docs)


def phrasing_set(part: str, docs: Path):
    """The own phrasing questions of ``part``, over the default article and
    the documents of tests/data/broad and tests/data/phrasing."""
    return written_set(PHRASING, [BROAD_DOCS, PHRASING_DOCS], part, docs)


def points_within(outcomes, chars: int = ANSWER_CHARS) -> float | None:
    """The mean share of a question's points in the first ``chars`` characters
    of its answer (0 for an answer that declined), over the questions with points."""
    from assistant.evaluate import _contains

    pointed = [o for o in outcomes if o.case.answerable and o.case.points]
    if not pointed:
        return None
    return sum(0.0 if o.answer.abstained else
               sum(_contains(o.answer.text[:chars], (p,)) for p in o.case.points) / len(o.case.points)
               for o in pointed) / len(pointed)


def quoted_within(answer, chars: int = ANSWER_CHARS) -> list[str]:
    """The sentences ``answer`` quotes (``Answer.sentences``) that start
    within the first ``chars`` characters of its text.

    >>> from assistant.answering.answer import Answer, Quote
    >>> quotes = (Quote("Dong Jun met him.", (1,)), Quote("Wang Yi met Jaishankar.", (2,)), Quote("Nordin met him.", (2,)))
    >>> quoted_within(Answer("Who?", " ".join(f"{q.text} {q.markers}" for q in quotes), False, quotes=quotes), chars=30)
    ['Dong Jun met him.', 'Wang Yi met Jaishankar.']
    """
    within, at = [], 0
    for quote in answer.sentences():
        at = answer.text.find(quote.text, at)
        if not 0 <= at < chars:
            break
        within.append(quote.text)
        at += len(quote.text)
    return within


def passages_with_points(outcomes, chars: int = ANSWER_CHARS) -> float | None:
    """The mean share, over the questions with points, of the sentences
    quoted in an answer's first ``chars`` characters that hold at least one
    point: what ``points_within`` does not see, a person listed who is not
    one of them (1 for an answer that declined; ``points_within`` counts that)."""
    from assistant.evaluate import _contains

    pointed = [o for o in outcomes if o.case.answerable and o.case.points]
    if not pointed:
        return None
    shares = []
    for o in pointed:
        quoted = [] if o.answer.abstained else quoted_within(o.answer, chars)
        shares.append(sum(_contains(q, o.case.points) for q in quoted) / len(quoted) if quoted else 1.0)
    return sum(shares) / len(shares)


def machine() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def dense_document_first(assistant: Assistant, cases) -> float | None:
    """How often the top chunk of plain dense search is in the right document."""
    import numpy as np

    sourced = [c for c in cases if c.answerable and c.source]
    if not sourced:
        return None
    index = assistant.index
    vectors = assistant.embedder.encode([c.question for c in sourced])
    _, top = index.engine.faiss_index.search(np.asarray(vectors, dtype=np.float32), 1)
    docs = index.tables.chunk_doc[top[:, 0]]
    return sum(index.doc_ids[d] == c.source for d, c in zip(docs, sourced)) / len(sourced)


def evaluate(name: str, docs: Path, cases, work: Path, embedder, variants: dict[str, Params]) -> dict[str, dict]:
    """The set's summary under each of ``variants`` (with the reader, without), over one index."""
    began = time.perf_counter()
    build_index(docs, work / name, embedder)
    built = time.perf_counter() - began
    out = {}
    for variant, params in variants.items():
        assistant = Assistant.load(work / name, embedder=embedder, params=params)
        report = run(assistant.ask, cases, lambda s, index=assistant.index: index.document(s).text)
        summary = report.summary
        summary["dense_source_first"] = dense_document_first(assistant, cases)
        summary["points_within_chars"] = points_within(report.outcomes)
        summary["index_seconds"] = built
        summary["failures"] = [
            {"question": o.case.question, "expected": list(o.case.facts), "answer": o.answer.text} for o in report.failures()
        ]
        out[variant] = summary
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=1, help="use every Nth XQuAD question (default: all)")
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS), help="question sets to run")
    parser.add_argument("--model", default=None, help="model choice as for askdoc --model (e.g. onnx-int8)")
    parser.add_argument("--no-reader", action="store_true", help="only today's path without the reader, not both")
    parser.add_argument("--out", type=Path, default=None, help="default: results/quality[-MODEL].json")
    args = parser.parse_args()
    args.out = args.out or RESULTS / (f"quality-{args.model}.json" if args.model else "quality.json")

    embedder = load_embedder(args.model)
    params = Params.load()
    variants = {"reader": params} if params.reader is not None and not args.no_reader else {}
    variants["no-reader"] = params.without_reader()
    results: dict = {"machine": machine(), "model": embedder.model_id}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in args.sets:
            if name == "own":
                docs, cases = ROOT / "docs", load_cases(OWN)
            elif name.startswith("broad-"):
                docs = work / f"{name}-docs"
                cases = broad_set(name.removeprefix("broad-"), docs)
            elif name.startswith("phrasing-"):
                docs = work / f"{name}-docs"
                cases = phrasing_set(name.removeprefix("phrasing-"), docs)
            else:
                layout, part = SETS[name]
                source, questions = LAYOUTS[layout]
                if not source.exists():
                    continue
                docs = work / f"{name}-docs"
                cases = questions(source, docs, part)[:: args.sample]
            for variant, summary in evaluate(name, docs, cases, work, embedder, variants).items():
                results.setdefault(variant, {})[name] = summary

    rows = list(ROWS)
    rows.insert(5, ("right document first, plain dense chunk search", "dense_source_first", "rate"))
    at = [key for _, key, _ in rows].index("points_in_answer") + 1
    rows.insert(at, (f"share of the points in an answer's first {ANSWER_CHARS} characters",
                     "points_within_chars", "rate"))
    print(f"askdoc quality — {results['machine']}")
    for variant in variants:
        sets = [k for k in SETS if k in results[variant]]
        print(f"\n{'with the reader' if variant == 'reader' else 'without the reader (--no-reader)'}:")
        print(table({k: results[variant][k] for k in sets}, rows))
    for variant in variants:
        for k, summary in results[variant].items():
            for failure in summary["failures"][:5]:
                print(f"  {variant} {k} miss: {failure['question']!r} -> {failure['answer'][:100]!r}")
    write_result(args.out, results)


if __name__ == "__main__":
    main()
