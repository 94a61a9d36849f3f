"""What answering within an asker's permissions costs: ``Assistant.ask`` on
the XQuAD index (48 articles) unscoped, against the same questions asked as
someone who may read half of the articles (the permissions file of a server
that knows its users, applied as a scope before ranking). Target: within 10%.

    .venv/bin/python -m tests.benchmarks.speed.permissions [--questions 300] [--rounds 3]

Prints one table and writes tests/benchmarks/results/permissions.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tests.support import RESULTS, XQUAD, percentile, write_result, xquad_questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each way (the machine drifts)")
    args = parser.parse_args()

    from assistant.core import Assistant
    from assistant.people.permissions import PermissionsFile, Readers
    from assistant.people.identity import Asker
    from index.build import build_index
    from index.embedding.models import load_embedder

    with tempfile.TemporaryDirectory(prefix="askdoc-permissions-") as tmp:
        work = Path(tmp)
        cases = xquad_questions(XQUAD, work / "docs")
        embedder = load_embedder()
        build_index(work / "docs", work / "index", embedder)
        assistant = Assistant.load(work / "index", embedder=embedder)
        doc_ids = list(assistant.index.doc_ids)
        # Half of the articles are kept to the "board" group; the asker is in "staff".
        rules = ['"" = ["*"]'] + [f'"{d}" = ["board"]' for d in doc_ids[::2]]
        (work / "rules.toml").write_text("\n".join(rules) + "\n", encoding="utf-8")
        readers = Readers(PermissionsFile(work / "rules.toml"))
        asker = Asker("sam", frozenset({"staff"}))
        questions = [c.question for c in cases][: args.questions]
        for q in questions[:20]:  # the model and the caches warm
            assistant.ask(q)

        def timed(scoped: bool) -> list[float]:
            seconds = []
            for q in questions:
                began = time.perf_counter()
                scope = readers.scope_for(asker, doc_ids, None) if scoped else None
                assistant.ask(q, scope=scope)
                seconds.append(time.perf_counter() - began)
            return seconds

        plain: list[float] = []
        permitted: list[float] = []
        for _ in range(args.rounds):
            plain += timed(False)
            permitted += timed(True)
        readable = len(readers.documents(asker, doc_ids))
    out = {
        "documents": len(doc_ids), "readable": readable, "questions": len(questions), "rounds": args.rounds,
        "unscoped_ms": {"p50": 1000 * statistics.median(plain), "p95": 1000 * percentile(plain, 95)},
        "permitted_ms": {"p50": 1000 * statistics.median(permitted), "p95": 1000 * percentile(permitted, 95)},
    }
    out["ratio_p50"] = out["permitted_ms"]["p50"] / out["unscoped_ms"]["p50"]
    print(f"Permissions on the XQuAD index: {readable} of {len(doc_ids)} articles readable, "
          f"{len(questions)} questions x {args.rounds} rounds")
    print("| measure | unscoped | within the asker's permissions | ratio (target ≤ 1.10) |")
    print("|---|---|---|---|")
    print(f"| Assistant.ask p50 / p95 | {out['unscoped_ms']['p50']:.1f} / {out['unscoped_ms']['p95']:.1f} ms | "
          f"{out['permitted_ms']['p50']:.1f} / {out['permitted_ms']['p95']:.1f} ms | {out['ratio_p50']:.2f}× |")
    write_result(RESULTS / "permissions.json", out)


if __name__ == "__main__":
    main()
