"""Time from submit to the full answer in the web UI, next to the engine's own
``ask`` time for the same questions.

    .venv/bin/python -m tests.benchmarks.speed.ui_latency     (part of make bench)

Starts ``askdoc serve`` on a free port with the default corpus, drives it with
headless Chromium (Debian's /usr/bin/chromium), and writes
tests/benchmarks/results/ui_latency.json.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path


from tests.support import (CHROMIUM, CHROMIUM_ARGS, DEFAULT_DOCS, RESULTS, Server, percentile, ui_round_trip,
                      write_result)

QUESTIONS = [
    "What did Singh tell Dong Jun?",
    "When did Singh meet the Chinese defence minister?",
    "Who is Malaysia's defence minister?",
    "Which Lao minister did Singh meet?",
    "What security issues does the summit aim to address?",
    "Where did Jaishankar and Wang Yi meet?",
    "What does LAC stand for?",
    "What did both ministers agree on?",
]
ROUNDS = 3


def main() -> None:
    from assistant.core import Assistant
    from index.build import build_index
    from index.embedding.models import load_embedder
    from playwright.sync_api import sync_playwright

    embedder = load_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        build_index(DEFAULT_DOCS, index, embedder)
        assistant = Assistant.load(index, embedder=embedder)
        engine = []
        for _ in range(ROUNDS):
            for q in QUESTIONS:
                began = time.perf_counter()
                assistant.ask(q)
                engine.append(time.perf_counter() - began)

        server = Server(DEFAULT_DOCS, index).wait()
        ui = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(server.url + "/")
                for _ in range(ROUNDS):
                    for q in QUESTIONS:
                        ui.append(ui_round_trip(page, q))
                browser.close()
        finally:
            server.stop()

    result = {
        "questions": len(engine),
        "engine_ask_ms": {"p50": 1000 * statistics.median(engine), "p95": 1000 * percentile(engine, 0.95)},
        "ui_submit_to_answer_ms": {"p50": 1000 * statistics.median(ui), "p95": 1000 * percentile(ui, 0.95)},
    }
    result["ui_overhead_ms_p50"] = result["ui_submit_to_answer_ms"]["p50"] - result["engine_ask_ms"]["p50"]
    print("| measure | p50 | p95 |\n|---|---|---|")
    print(f"| engine `ask` | {result['engine_ask_ms']['p50']:.0f} ms | {result['engine_ask_ms']['p95']:.0f} ms |")
    print(f"| UI: submit to full answer | {result['ui_submit_to_answer_ms']['p50']:.0f} ms | {result['ui_submit_to_answer_ms']['p95']:.0f} ms |")
    write_result(RESULTS / "ui_latency.json", result)


if __name__ == "__main__":
    main()
