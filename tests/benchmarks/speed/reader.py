"""What the reader costs a question: warm ``Assistant.ask`` p50 / p95 with
the reader reading retrieval's best N sentences in windows of T tokens
(each ``NxT`` of ``--reads``; the shipped one always) and without it
(``--no-reader``), beside a bare query embedding of the same questions and
the budget (issue 38: p50 at most 60 ms with the reader), all in this one run.

    .venv/bin/python -m tests.benchmarks.speed.reader [--questions 200] [--reads 4x96 4x128 8x128]

On XQuAD (48 articles). Prints one table and writes
tests/benchmarks/results/reader-speed.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from tests.support import RESULTS, XQUAD, percentile, write_result, xquad_questions

BUDGET_MS = 60.0  # warm ask with the reader, p50 on 2 cores (issue 38)


def timed(ask, questions: list[str]) -> list[float]:
    for q in questions[:10]:  # warm-up
        ask(q)
    seconds = []
    for q in questions:
        began = time.perf_counter()
        ask(q)
        seconds.append(time.perf_counter() - began)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--reads", nargs="+", default=["4x96", "4x128", "8x128"],
                        help="candidates x tokens to time besides the shipped settings")
    args = parser.parse_args()

    from assistant.core import Assistant
    from assistant.params import Params
    from index.build import build_index
    from index.embedding.models import load_embedder

    embedder = load_embedder()
    params = Params.load()
    if params.reader is None:
        raise SystemExit("params.json answers without a reader: nothing to measure")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = xquad_questions(XQUAD, work / "docs")
        build_index(work / "docs", work / "index", embedder)
        questions = [c.question for c in cases[:: max(1, len(cases) // args.questions)]][: args.questions]
        plain = Assistant.load(work / "index", embedder=embedder, params=params.without_reader())
        rows = {"bare query embedding": timed(lambda q: embedder.encode([q]), questions),
                "ask --no-reader": timed(plain.ask, questions)}
        shipped = (params.reader.candidates, params.reader.tokens)
        reads = [shipped] + [r for r in (tuple(int(x) for x in r.split("x")) for r in args.reads) if r != shipped]
        for n, t in reads:
            reading = dataclasses.replace(params, reader=dataclasses.replace(params.reader, candidates=n, tokens=t))
            assistant = Assistant.load(work / "index", embedder=embedder, params=reading)
            rows[f"ask, reader on {n} candidates × {t} tokens" + (" (shipped)" if (n, t) == shipped else "")] = \
                timed(assistant.ask, questions)
    bare = statistics.median(rows["bare query embedding"])
    out = {name: {"p50_ms": 1000 * statistics.median(s), "p95_ms": 1000 * percentile(s, 0.95),
                  "p50_ratio_to_bare_embedding": statistics.median(s) / bare} for name, s in rows.items()}
    print(f"{len(questions)} XQuAD questions, warm")
    print("| measure | p50 | p95 | p50 / bare query embedding (same run) | p50 limit |\n|---|---|---|---|---|")
    for name, r in out.items():
        limit = f"{BUDGET_MS:.0f} ms" if name.startswith("ask, reader") else ""
        print(f"| {name} | {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms | {r['p50_ratio_to_bare_embedding']:.1f}× | {limit} |")
    write_result(RESULTS / "reader-speed.json", out)


if __name__ == "__main__":
    main()
