"""The same answers from Milvus and Qdrant as from FAISS (issue 17).

    .venv/bin/python -m tests.benchmarks.speed.engines [--engines milvus qdrant]

For the own question set (docs/) and every XQuAD question: the index is
built once with FAISS and the real model, then copied and switched to each
engine (every vector reused, so only the search differs), and every
question is asked of both. Reports the share whose answer opens with the
same citation (target >= 99%), whether every engine citation is the exact
text of its document at its offsets (target 100%), and ask p50 / p95 on
each. Prints one table and writes tests/benchmarks/results/engines.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tests.support import DATA, DEFAULT_DOCS, RESULTS, XQUAD, percentile, write_result, xquad_questions


def asked(assistant, case):
    from assistant.core import Turn, history_of

    turns = []
    for earlier in case.history:
        turns.append(Turn(earlier, assistant.ask(earlier, history_of(turns))))
    began = time.perf_counter()
    answer = assistant.ask(case.question, history_of(turns))
    return answer, time.perf_counter() - began


def compare(name: str, docs: Path, cases, engines: list[str], work: Path, embedder) -> list[dict]:
    from assistant.core import Assistant
    from index.build import build_index

    root = work / f"{name}-faiss"
    build_index(docs, root, embedder)
    on_faiss = Assistant.load(root, embedder=embedder)
    baseline = [asked(on_faiss, case) for case in cases]
    rows = [{"set": name, "engine": "faiss", "questions": len(cases), "same_first_citation": None,  # the reference
             "citations_exact": exact_share(on_faiss, [a for a, _ in baseline]), **timings([t for _, t in baseline])}]
    for engine in engines:
        copy = work / f"{name}-{engine}"
        shutil.copytree(root, copy, symlinks=True)
        began = time.perf_counter()
        report = build_index(docs, copy, embedder, store=engine)
        assert report.embedded == 0
        upload = time.perf_counter() - began
        on_engine = Assistant.load(copy, embedder=embedder)
        answers, times = zip(*(asked(on_engine, case) for case in cases))
        first = lambda a: [(c.source, c.start, c.end) for c in a.citations[:1]]  # noqa: E731
        same = sum(first(answer) == first(reference) for answer, (reference, _) in zip(answers, baseline))
        rows.append({"set": name, "engine": engine, "questions": len(cases), "switch_seconds": upload,
                     "same_first_citation": same / len(cases), "citations_exact": exact_share(on_engine, answers),
                     **timings(list(times))})
    return rows


def exact_share(assistant, answers) -> float:
    """Share of citations whose text is their document's text at their offsets."""
    citations = [c for answer in answers for c in answer.citations]
    exact = sum(assistant.index.document(c.source).text[c.start : c.end] == c.text for c in citations)
    return exact / len(citations) if citations else 1.0


def timings(seconds: list[float]) -> dict:
    return {"ask_p50_ms": 1000 * statistics.median(seconds), "ask_p95_ms": 1000 * percentile(seconds, 0.95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", default=["milvus", "qdrant"], choices=["milvus", "qdrant"])
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    from assistant.evaluate import load_cases
    from index.embedding.models import load_embedder

    embedder = load_embedder()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows += compare("own", DEFAULT_DOCS, load_cases(DATA / "admm_questions.jsonl"), args.engines, work, embedder)
        cases = xquad_questions(XQUAD, work / "xquad-docs")
        rows += compare("xquad", work / "xquad-docs", cases, args.engines, work, embedder)
    print("| set | engine | questions | same first citation as FAISS | citations exact | ask p50 / p95 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        same = "(reference)" if r["engine"] == "faiss" else f"{100 * r['same_first_citation']:.1f}%"
        print(f"| {r['set']} | {r['engine']} | {r['questions']:,} | {same} | "
              f"{100 * r['citations_exact']:.0f}% | {r['ask_p50_ms']:.1f} / {r['ask_p95_ms']:.1f} ms |")
    write_result(RESULTS / "engines.json", {"rows": rows})


if __name__ == "__main__":
    main()
