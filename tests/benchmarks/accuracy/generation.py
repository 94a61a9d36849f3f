"""Generated answers with the test model (SmolLM2-135M-Instruct on llama.cpp,
CPU) next to the extractive ones, on the own set and a sample of XQuAD:

    .venv/bin/python -m tests.benchmarks.accuracy.generation [--xquad 60]

Per set: how many answers came out generated (the rest fell back to quotes),
the share of generated sentences that passed the check, the key-fact rate
of the answers users got (generated or fallback) next to the extractive
answers', and the time to the first streamed sentence and to the whole
answer. The point is not the tiny model's quality: it is that whatever it
writes, nothing unchecked reaches a user (every shown sentence is checked
again here). Writes tests/benchmarks/results/generation.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from assistant.core import Assistant
from assistant.evaluate import _contains, citations_exact, load_cases
from assistant.generation.checks import check
from assistant.generation.generate import GROUNDING_EXCERPTS, Generator, LLMSettings
from index.build import build_index
from index.embedding.models import load_embedder
from tests.support import RESULTS, ROOT, XQUAD, free_port, write_result, xquad_questions
from tests.support.llm import LlamaServer


async def one(generator: Generator, extractive) -> dict:
    began, first = time.perf_counter(), None
    final = extractive
    async for event, value in generator.stream(extractive):
        if event == "sentence" and first is None:
            first = time.perf_counter() - began
        if event == "answer":
            final = value
    return {"answer": final, "first": first, "seconds": time.perf_counter() - began}


def run_set(name: str, assistant: Assistant, cases, generator: Generator) -> dict:
    rows = []
    for case in cases:
        if not case.answerable:
            continue
        extractive = assistant.ask(case.question)
        result = asyncio.run(one(generator, extractive))
        answer = result["answer"]
        excerpts = {c.n: c for c in answer.citations}
        shown_checked = all(check(q.text, q.citations, excerpts, case.question) == ""
                            for q in answer.quotes) if answer.mode == "generated" else True
        rows.append({
            "generated": answer.mode == "generated", "kept": len(answer.quotes) if answer.mode == "generated" else 0,
            "dropped": answer.dropped, "fact": _contains(answer.text, case.facts),
            "extractive_fact": _contains(extractive.text, case.facts), "first": result["first"],
            "seconds": result["seconds"], "shown_checked": shown_checked,
            "exact": citations_exact(answer, lambda s: assistant.index.document(s).text),
        })
    generated = [r for r in rows if r["generated"]]
    kept, dropped = sum(r["kept"] for r in rows), sum(r["dropped"] for r in rows)
    firsts = [r["first"] for r in rows if r["first"] is not None]
    return {
        "questions": len(rows), "generated_answers": len(generated),
        "sentences_kept_share": kept / (kept + dropped) if kept + dropped else 0.0,
        "sentences_kept": kept, "sentences_dropped": dropped,
        "fact_in_answer_shown": sum(r["fact"] for r in rows) / len(rows),
        "fact_in_answer_extractive": sum(r["extractive_fact"] for r in rows) / len(rows),
        "fact_in_generated_answers": (sum(r["fact"] for r in generated) / len(generated)) if generated else None,
        "first_sentence_p50_s": statistics.median(firsts) if firsts else None,
        "answer_p50_s": statistics.median(r["seconds"] for r in rows),
        "every_shown_sentence_checked": all(r["shown_checked"] for r in rows),
        "citations_exact": all(r["exact"] for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xquad", type=int, default=60, help="XQuAD questions to sample")
    args = parser.parse_args()
    embedder = load_embedder()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        llama = LlamaServer(free_port(), work / "llama.log").wait()
        try:
            generator = Generator(LLMSettings(llama.url, timeout=60))
            sets = [("own", ROOT / "docs", load_cases(ROOT / "tests" / "data" / "admm_questions.jsonl"))]
            if XQUAD.exists():
                cases = xquad_questions(XQUAD, work / "xquad")
                sets.append(("xquad", work / "xquad", cases[:: max(1, len(cases) // args.xquad)][: args.xquad]))
            for name, docs, cases in sets:
                build_index(docs, work / f"{name}-index", embedder)
                assistant = Assistant.load(work / f"{name}-index", embedder=embedder)
                assistant.settings = replace(assistant.settings, grounding_excerpts=GROUNDING_EXCERPTS)
                results[name] = run_set(name, assistant, cases, generator)
        finally:
            llama.stop()
    print("| measure | " + " | ".join(results) + " |\n|---|" + "---|" * len(results))
    for key in next(iter(results.values())):
        cells = []
        for r in results.values():
            v = r[key]
            cells.append("—" if v is None else f"{v:.1%}" if isinstance(v, float) and "share" in key or
                         (isinstance(v, float) and key.startswith("fact")) else f"{v:.1f} s" if isinstance(v, float)
                         else str(v))
        print(f"| {key} | " + " | ".join(cells) + " |")
    write_result(RESULTS / "generation.json", results)


if __name__ == "__main__":
    main()
