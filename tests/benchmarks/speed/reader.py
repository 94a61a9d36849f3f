"""What the reader costs a question: warm ``Assistant.ask`` p50 / p95 with
the reader reading retrieval's best N sentences (N = each of
``--candidates``) and without it (``--no-reader``), beside a bare query
embedding of the same questions, all in this one run.

    .venv/bin/python -m tests.benchmarks.speed.reader [--questions 200] [--candidates 4 8 16]

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
    parser.add_argument("--candidates", type=int, nargs="+", default=[4, 8, 16])
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
        for n in args.candidates:
            reading = dataclasses.replace(params, reader=dataclasses.replace(params.reader, candidates=n))
            assistant = Assistant.load(work / "index", embedder=embedder, params=reading)
            rows[f"ask, reader on {n} candidates" + (" (shipped)" if n == params.reader.candidates else "")] = \
                timed(assistant.ask, questions)
    bare = statistics.median(rows["bare query embedding"])
    out = {name: {"p50_ms": 1000 * statistics.median(s), "p95_ms": 1000 * percentile(s, 0.95),
                  "p50_ratio_to_bare_embedding": statistics.median(s) / bare} for name, s in rows.items()}
    print(f"{len(questions)} XQuAD questions, warm")
    print("| measure | p50 | p95 | p50 / bare query embedding (same run) |\n|---|---|---|---|")
    for name, r in out.items():
        print(f"| {name} | {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms | {r['p50_ratio_to_bare_embedding']:.1f}× |")
    write_result(RESULTS / "reader-speed.json", out)


if __name__ == "__main__":
    main()
