"""Finding the right article among many on the same stories: RealTime QA's
weekly news quizzes, answered over the web pages a search engine returned
for them, askdoc beside plain dense, plain BM25 and plain fusion on the same
chunks.

The data is not in this repository (news text without a licence to
redistribute): fetch github.com/realtimeqa/realtimeqa_public and point
``--data`` at its ``past`` folder (or at the repository). Use only
``past/2023`` and ``past/2024``: the other years are held out by the
project's owner and must not be opened.

    .venv/bin/python -m tests.benchmarks.accuracy.realtimeqa --data ../realtimeqa_public/past --weeks 20230101-20230331

The set: every result page of the chosen weeks is a document (title, then
its raw text, navigation and ads included); a question counts when its
answer (the correct choice) stands verbatim in one of its own results, and
the results that hold it are its right documents. Measured:

- right document first: askdoc's first citation, and the top chunk of plain
  dense search (the question's vector against each chunk's text embedded by
  the same model), of plain BM25 (bm25s with stemming over the chunks'
  text) and of plain reciprocal-rank fusion of the two (k = 60);
- right document among any of askdoc's citations;
- the answer in askdoc's first citation and in its answer, and in the plain
  methods' top chunk;
- for right document first, askdoc against each plain method question by
  question: how many questions askdoc gets right and the plain method misses,
  and the reverse, with the exact sign test's p on those (a quarter's 130
  questions leave a gap of a few points within chance; see ``sign_test``).

askdoc answers with the reader params.json names; ``--no-reader`` answers
as it did before the reader, for the comparison (same index, a minute).

Prints one table and writes tests/benchmarks/results/realtimeqa-WEEKS.json
(``-no-reader`` added to the name without the reader).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support import RESULTS, write_result

ALLOWED_YEARS = ("2023", "2024")


@dataclass(frozen=True)
class Case:
    question: str
    answer: str
    right: frozenset[str]  # document ids that hold the answer


def week_files(data: Path, weeks: str) -> list[tuple[str, str]]:
    """(qa text, gcs text) of each week in ``weeks`` (``YYYYMMDD-YYYYMMDD``),
    read from a folder or from a git checkout's HEAD; only 2023 and 2024."""
    first, last = weeks.split("-")
    if first[:4] not in ALLOWED_YEARS or last[:4] not in ALLOWED_YEARS:
        raise SystemExit("only past/2023 and past/2024 may be used; the other years are held out")
    past = data / "past" if (data / "past").is_dir() else data
    found = []
    for year in sorted({first[:4], last[:4]}):
        folder = past / year
        if folder.is_dir():
            names = sorted(p.name for p in folder.glob("*_qa.jsonl"))
            read = lambda name, folder=folder: (folder / name).read_text(encoding="utf-8")  # noqa: E731
        else:  # a bare git directory (what the search tool's fetch brings)
            listing = subprocess.run(["git", "-C", str(data), "ls-tree", "--name-only", f"HEAD:past/{year}"],
                                     capture_output=True, text=True, check=True).stdout.split()
            names = sorted(n for n in listing if n.endswith("_qa.jsonl"))
            read = lambda name, year=year: subprocess.run(  # noqa: E731
                ["git", "-C", str(data), "show", f"HEAD:past/{year}/{name}"], capture_output=True, text=True,
                check=True).stdout
        for name in names:
            date = name[:8]
            if first <= date <= last:
                found.append((read(name), read(name.replace("_qa.jsonl", "_gcs.jsonl"))))
    return found


def build_set(weeks: list[tuple[str, str]], docs: Path) -> list[Case]:
    """Write every result page into ``docs`` (one file per URL) and return the counted questions."""
    docs.mkdir(parents=True, exist_ok=True)
    cases = []
    for qa_text, gcs_text in weeks:
        results = {}
        for line in gcs_text.splitlines():
            if line.strip():
                row = json.loads(line)
                results[row["question_id"]] = row.get("search_result") or []
        for line in qa_text.splitlines():
            if not line.strip():
                continue
            qa = json.loads(line)
            if not qa.get("answer"):
                continue
            answer = qa["choices"][int(qa["answer"][0])]
            right = set()
            for page in results.get(qa["question_id"], []):
                text = page.get("text") or ""
                if not text.strip():
                    continue
                doc_id = hashlib.sha1(page["url"].encode()).hexdigest()[:16] + ".txt"
                (docs / doc_id).write_text(f"{page.get('title', '').strip()}\n\n{text}", encoding="utf-8")
                if answer in text:
                    right.add(doc_id)
            if right:
                cases.append(Case(qa["question_sentence"], answer, frozenset(right)))
    return cases


def save_cases(work: Path, cases: list[Case]) -> None:
    lines = [json.dumps({"question": c.question, "answer": c.answer, "right": sorted(c.right)}) for c in cases]
    (work / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_cases(work: Path) -> list[Case]:
    """The inverse of ``save_cases``."""
    rows = [json.loads(line) for line in (work / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [Case(r["question"], r["answer"], frozenset(r["right"])) for r in rows]


def prepared(data: Path, weeks: str, work: Path, embedder) -> tuple[list[Case], float]:
    """The set of ``weeks`` in ``work`` (documents, questions, index) and the
    seconds its index took to build. A work folder that already holds them
    (from an earlier run on the same weeks) is reused as it is."""
    record = work / "build.json"
    if record.exists() and json.loads(record.read_text())["weeks"] == weeks:
        return load_cases(work), json.loads(record.read_text())["seconds"]
    from index.build import build_index

    cases = build_set(week_files(data, weeks), work / "docs")
    save_cases(work, cases)
    began = time.perf_counter()
    build_index(work / "docs", work / "index", embedder)
    seconds = time.perf_counter() - began
    record.write_text(json.dumps({"weeks": weeks, "seconds": seconds}))
    return cases, seconds


def plain_rankings(assistant, cases: list[Case], depth: int = 100, cache: Path | None = None):
    """Each question's chunk ranking by plain dense search, plain BM25 and
    their reciprocal-rank fusion, over the index's own chunks."""
    import bm25s
    import Stemmer

    index = assistant.index
    texts = [index.chunk_text(j) for j in range(index.chunk_count)]
    saved = cache / "plain-chunk-vectors.npy" if cache else None
    began = time.perf_counter()
    if saved and saved.exists() and np.load(saved, mmap_mode="r").shape[0] == len(texts):
        chunk_vectors = np.load(saved)
        seconds = json.loads((cache / "plain.json").read_text())["embed_seconds"] if (cache / "plain.json").exists() else None
    else:
        chunk_vectors = assistant.embedder.encode(texts)
        seconds = time.perf_counter() - began
        if saved and cache:
            np.save(saved, chunk_vectors)
            (cache / "plain.json").write_text(json.dumps({"embed_seconds": seconds}))
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    began = time.perf_counter()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    if seconds is not None:
        seconds += time.perf_counter() - began  # a plain chunk-only build: chunk vectors and a BM25 index
    questions = [c.question for c in cases]
    query_vectors = assistant.embedder.encode(questions)
    dense = np.argsort(-(query_vectors @ chunk_vectors.T), axis=1)[:, :depth]
    found, _ = retriever.retrieve(bm25s.tokenize(questions, stopwords="en", stemmer=stemmer, show_progress=False),
                                  k=min(depth, len(texts)), show_progress=False)
    fused = []
    for d, b in zip(dense, found):
        score: dict[int, float] = {}
        for ranking in (d, b):
            for rank, j in enumerate(ranking.tolist()):
                score[j] = score.get(j, 0.0) + 1.0 / (60 + rank + 1)
        fused.append(sorted(score, key=lambda j: -score[j])[:depth])
    return {"dense": dense.tolist(), "bm25": found.tolist(), "fusion": fused}, texts, seconds


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test: the chance of a split at least this uneven
    between ``wins`` and ``losses`` (the questions only one of two methods
    gets right) if each were equally likely to go either way. Questions both
    get right or both miss say nothing about which is better.

    >>> round(sign_test(17, 8), 3), round(sign_test(6, 12), 3), sign_test(5, 5), sign_test(0, 0)
    (0.108, 0.238, 1.0, 1.0)
    >>> round(sign_test(0, 10), 4)
    0.002
    """
    n, k = wins + losses, min(wins, losses)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def shown_p(p: float) -> str:
    """A sign test's p as the table shows it.

    >>> shown_p(0.1084), shown_p(0.00003)
    ('p 0.108', 'p < 0.001')
    """
    return "p < 0.001" if p < 0.001 else f"p {p:.3f}"


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="realtimeqa_public (a checkout, its past/ folder, "
                                                                 "or the git directory fetch brought)")
    parser.add_argument("--weeks", default="20230101-20230331", help="YYYYMMDD-YYYYMMDD, within 2023 and 2024")
    parser.add_argument("--work", type=Path, default=None,
                        help="where documents and index go (default: a temp dir); a folder an earlier run on the "
                             "same weeks filled is reused, so a change in ranking is measured without a rebuild")
    parser.add_argument("--no-reader", action="store_true",
                        help="askdoc without its reader (today's path before it), for the comparison")
    args = parser.parse_args()

    from assistant.core import Assistant
    from assistant.params import Params
    from index.embedding.models import load_embedder

    work = args.work or Path(tempfile.mkdtemp(prefix="askdoc-rtqa-"))
    embedder = load_embedder()
    cases, build_seconds = prepared(args.data, args.weeks, work, embedder)
    documents = len(list((work / "docs").glob("*.txt")))
    params = Params.load().without_reader() if args.no_reader else Params.load()
    assistant = Assistant.load(work / "index", embedder=embedder, params=params)
    rankings, texts, plain_seconds = plain_rankings(assistant, cases, cache=work)
    chunk_doc = assistant.index.tables.chunk_doc
    doc_ids = assistant.index.doc_ids
    counts = {k: 0 for k in ("first", "any", "fact_first", "fact_answer")}
    plain = {name: {"first": 0, "fact": 0, "askdoc_only": 0, "plain_only": 0} for name in rankings}
    for i, case in enumerate(cases):
        answer = assistant.ask(case.question)
        sources = [c.source for c in answer.citations]
        askdoc_first = bool(sources) and sources[0] in case.right
        counts["first"] += askdoc_first
        counts["any"] += any(s in case.right for s in sources)
        counts["fact_first"] += bool(answer.citations) and case.answer in normalized(answer.citations[0].text)
        counts["fact_answer"] += case.answer in normalized(answer.text)
        for name, ranking in rankings.items():
            top = ranking[i][0]
            plain_first = doc_ids[chunk_doc[top]] in case.right
            plain[name]["first"] += plain_first
            plain[name]["askdoc_only"] += askdoc_first and not plain_first
            plain[name]["plain_only"] += plain_first and not askdoc_first
            plain[name]["fact"] += case.answer in normalized(texts[top])
    n = len(cases)
    pct = lambda x: round(100.0 * x / max(1, n), 1)  # noqa: E731
    out = {
        "weeks": args.weeks, "reader": params.reader.model if params.reader else None,
        "questions": n, "documents": documents, "chunks": assistant.index.chunk_count,
        "build_seconds": round(build_seconds, 1),
        "plain_build_seconds": round(plain_seconds, 1) if plain_seconds is not None else None,
        "askdoc": {"right_document_first": pct(counts["first"]), "right_document_any_citation": pct(counts["any"]),
                   "fact_in_first_citation": pct(counts["fact_first"]), "fact_in_answer": pct(counts["fact_answer"])},
        "plain": {name: {"right_document_first": pct(v["first"]), "fact_in_top_chunk": pct(v["fact"]),
                         "askdoc_only_right_first": v["askdoc_only"], "plain_only_right_first": v["plain_only"],
                         "sign_test_p": round(sign_test(v["askdoc_only"], v["plain_only"]), 4)}
                  for name, v in plain.items()},
    }
    plain_build = f", a plain chunk-only build in {plain_seconds:.0f} s" if plain_seconds is not None else ""
    with_reader = f"with the reader {params.reader.model}" if params.reader else "without the reader"
    print(f"RealTime QA {args.weeks}, askdoc {with_reader}: {n} questions over {documents} pages ({out['chunks']} chunks; "
          f"askdoc's index built in {build_seconds:.0f} s{plain_build})")
    print("| measure | askdoc | plain dense | plain BM25 | plain fusion |")
    print("|---|---|---|---|---|")
    p = out["plain"]
    print(f"| right document first | {out['askdoc']['right_document_first']}% | {p['dense']['right_document_first']}% | "
          f"{p['bm25']['right_document_first']}% | {p['fusion']['right_document_first']}% |")
    print(f"| answer in the first citation / top chunk | {out['askdoc']['fact_in_first_citation']}% | "
          f"{p['dense']['fact_in_top_chunk']}% | {p['bm25']['fact_in_top_chunk']}% | {p['fusion']['fact_in_top_chunk']}% |")
    print(f"| right document among any citation | {out['askdoc']['right_document_any_citation']}% | | | |")
    print(f"| answer in the answer | {out['askdoc']['fact_in_answer']}% | | | |")
    print("| right document first: only askdoc / only the plain method (sign test p) | | "
          + " | ".join(f"{p[name]['askdoc_only_right_first']} / {p[name]['plain_only_right_first']} "
                       f"({shown_p(p[name]['sign_test_p'])})" for name in ("dense", "bm25", "fusion")) + " |")
    write_result(RESULTS / f"realtimeqa-{args.weeks}{'-no-reader' if args.no_reader else ''}.json", out)


if __name__ == "__main__":
    main()
