"""askdoc at 10k, 100k and 1M chunks: build time, answer latency, memory,
disk, and the approximate index's recall (issue 5, scale).

    .venv/bin/python -m tests.benchmarks.speed.scale [--sizes 10000 100000 1000000] [--stores faiss milvus qdrant]

Text: real sentences (the XQuAD articles) shuffled into synthetic documents
of about 100 chunks each, so segmentation, chunking, BM25 and the stores do
their real work at every size. Vectors: embedding the four million sentences of
a million chunks with MiniLM would take this 2-core machine half a day, so
the build's embedder is a stand-in that gives each text a mixture of real
MiniLM vectors of XQuAD sentences (the shape real embeddings have, not the
text's own meaning; chunk vectors are pooled from them as in any build); the real model's time for the same texts is reported beside it,
extrapolated from its measured rate. Questions are real XQuAD questions
embedded by the real model, answered by the real engine.

With ``--stores``, each size is built and served on each engine (FAISS
files, or Milvus Lite / Qdrant local collections: ``askdoc index --store``);
an engine's recall@10 is its own top 10 against exact search over the same
vectors. Each build and each serving run is a fresh subprocess, so peak
memory is its own (an embedded Milvus runs in a process of its own: its
memory is added from /proc). Prints one table and writes tests/benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np


from tests.support import ROOT, RESULTS, XQUAD, peak_rss_mb, percentile, write_result

CHARS_PER_CHUNK = 650  # 800-character chunks overlapping by 150
POOL = RESULTS / "scale-pool.npz"


def sentence_pool(work: Path) -> tuple[list[str], list[str]]:
    """(XQuAD sentences, XQuAD questions)."""
    from tests.support import xquad_questions
    from index.documents.loaders import load_folder
    from index.documents.segment import split_sentences

    cases = xquad_questions(XQUAD, work / "xquad")
    documents, _ = load_folder(work / "xquad")
    sentences = [doc.text[s.start : s.end] for doc in documents for s in split_sentences(doc.text) if not s.heading]
    return sentences, [c.question for c in cases]


def write_corpus(sentences: list[str], chunks: int, docs: Path, seed: int = 0) -> int:
    """Synthetic documents of shuffled real sentences, about ``chunks`` chunks in all; returns bytes written."""
    rng = random.Random(seed)
    docs.mkdir(parents=True)
    target = chunks * CHARS_PER_CHUNK
    per_doc = 100 * CHARS_PER_CHUNK
    written = n = 0
    while written < target:
        paragraphs, size = [], 0
        while size < min(per_doc, target - written):
            paragraph = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 8)))
            paragraphs.append(paragraph)
            size += len(paragraph) + 2
        text = f"Synthetic article {n}\n\n" + "\n\n".join(paragraphs) + "\n"
        (docs / f"article-{n:06d}.txt").write_text(text, encoding="utf-8")
        written += len(text.encode("utf-8"))
        n += 1
    return written


class MixtureEmbedder:
    """Stand-in embedder for scale runs: each text gets a fixed mixture of
    two real MiniLM sentence vectors plus a little noise, by a hash of the
    text. Fast, deterministic, and shaped like real embeddings."""

    def __init__(self, pool: np.ndarray, model_id: str) -> None:
        self.pool = pool
        self.model_id = model_id
        self.dimension = pool.shape[1]

    encoder = ""  # a stand-in: no encoder of its own

    def prepare(self) -> None:
        pass

    def use_threads(self, threads: int) -> None:
        pass

    def encode(self, texts, progress=None) -> np.ndarray:
        hashes = np.array([zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in texts], dtype=np.int64)
        n = len(self.pool)
        rng = np.random.default_rng(int(hashes.sum() % 2**32) if len(hashes) else 0)
        out = self.pool[hashes % n] + 0.5 * self.pool[(hashes // n) % n]
        out += rng.normal(scale=0.15 / np.sqrt(self.dimension), size=out.shape)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        if progress:
            progress(len(texts))
        return out.astype(np.float32)


def child_build(docs: Path, index: Path, store: str) -> None:
    from index.build import build_index
    from index.embedding.models import DEFAULT_MODEL

    pool = np.load(POOL)["sentences"]
    began = time.perf_counter()
    report = build_index(docs, index, MixtureEmbedder(pool, DEFAULT_MODEL), store=store)
    print(json.dumps({"seconds": time.perf_counter() - began, "chunks": report.chunks, "sentences": report.sentences,
                      "documents": report.documents, "build_peak_rss_mb": peak_rss_mb() + engine_process_mb()}))


def engine_process_mb() -> float:
    """Resident memory of an embedded engine's own process (Milvus Lite's), 0 without one."""
    import psutil

    return sum(child.memory_info().rss for child in psutil.Process().children(recursive=True)) / 1e6


def child_serve(index: Path, questions_file: Path) -> None:
    import psutil

    from assistant.core import Assistant
    from index.storage import builds
    from index.engines import vectors
    from index.embedding.models import load_embedder

    me = psutil.Process()
    embedder = load_embedder()
    embedder.encode(["warm up the model"])
    rss_model = me.memory_info().rss
    began = time.perf_counter()
    assistant = Assistant.load(index, embedder=embedder)
    load_seconds = time.perf_counter() - began
    rss_loaded = me.memory_info().rss
    questions = json.loads(questions_file.read_text())
    began = time.perf_counter()
    assistant.ask(questions[0])  # an engine is connected to (and checked) by the first question
    first_answer_seconds = time.perf_counter() - began
    for q in questions[1:10]:
        assistant.ask(q)
    ask_times, search_times = [], []
    query_vectors = embedder.encode(questions)
    for q, v in zip(questions, query_vectors):
        began = time.perf_counter()
        assistant.ask(q)
        ask_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        assistant.index.engine.nearest_chunks(v, 10)
        search_times.append(time.perf_counter() - began)
    rss_serving = me.memory_info().rss + 1e6 * engine_process_mb()  # before the exact search below reads every vector
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    anon_mb, file_mb = (int(status[k].split()[0]) / 1e3 for k in ("RssAnon", "RssFile"))
    ix = assistant.index
    chunk_vectors, _ = builds.saved_vectors(ix.path)
    truth = vectors.exact_neighbours(chunk_vectors, query_vectors, 10)
    if ix.engine.kind == "faiss":
        _, found = ix.engine.faiss_index.search(query_vectors, 10)
        rescored = vectors.search_rescored(ix.engine.faiss_index, chunk_vectors, query_vectors, 10)
    else:  # an engine's own top 10 is what askdoc gets from it
        found = rescored = np.array([ix.engine.nearest_chunks(v, 10) for v in query_vectors])
    print(json.dumps({
        "store": ix.engine.kind,
        "load_seconds": load_seconds, "first_answer_seconds": first_answer_seconds, "rss_model_mb": rss_model / 1e6, "rss_loaded_mb": rss_loaded / 1e6,
        "rss_end_mb": rss_serving / 1e6, "rss_end_anon_mb": anon_mb, "rss_end_mapped_files_mb": file_mb, "ask_p50_ms": 1000 * statistics.median(ask_times),
        "ask_p95_ms": 1000 * percentile(ask_times, 0.95), "search_p50_ms": 1000 * statistics.median(search_times),
        "faiss_index": ix.manifest.faiss_index or ix.engine.kind, "nprobe": ix.manifest.faiss_nprobe,
        "build_recall_at_10": ix.manifest.faiss_recall_at_10,
        "question_recall_at_10": vectors.recall_at_k(truth, found, 10),
        "question_recall_at_10_rescored": vectors.recall_at_k(truth, rescored, 10),
    }))


def run_child(*args: str) -> dict:
    """Run this script as a child (its own process, its own peak memory); its JSON result."""
    result = subprocess.run([sys.executable, "-m", "tests.benchmarks.speed.scale", *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--stores", nargs="+", default=["faiss"], choices=["faiss", "milvus", "qdrant"])
    parser.add_argument("--child-build", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-serve", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_build:
        return child_build(Path(args.child_build[0]), Path(args.child_build[1]), args.child_build[2])
    if args.child_serve:
        return child_serve(*args.child_serve)

    os.environ["HF_HUB_OFFLINE"] = "1"
    from index.embedding.models import load_embedder

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sentences, questions = sentence_pool(work)
        embedder = load_embedder()
        POOL.parent.mkdir(parents=True, exist_ok=True)
        np.savez(POOL, sentences=embedder.encode(sentences))
        sample = random.Random(1).sample(questions, min(args.questions, len(questions)))
        (work / "questions.json").write_text(json.dumps(sample))
        # The real model's rate on what an index embeds: sentences (titles are few).
        texts = random.Random(2).sample(sentences, min(1500, len(sentences)))
        began = time.perf_counter()
        embedder.encode(texts)
        model_rate = len(texts) / (time.perf_counter() - began)

        import shutil

        for size in args.sizes:
            docs = work / f"docs-{size}"
            began = time.perf_counter()
            text_bytes = write_corpus(sentences, size, docs)
            print(f"{size}: wrote {text_bytes / 1e6:.0f} MB in {time.perf_counter() - began:.0f}s", file=sys.stderr)
            for engine in args.stores:
                index = work / f"index-{size}-{engine}"
                build = run_child("--child-build", str(docs), str(index), engine)
                print(f"{size} on {engine}: built in {build['seconds']:.0f}s", file=sys.stderr)
                serve = run_child("--child-serve", str(index), str(work / "questions.json"))
                texts_embedded = build["sentences"] + build["documents"]  # every sentence and title
                rows.append({
                    "target_chunks": size, "text_mb": text_bytes / 1e6, **build,
                    "real_model_embed_seconds_extrapolated": texts_embedded / model_rate,
                    "disk_mb": disk_mb(index), **serve,
                })
                shutil.rmtree(index)
            shutil.rmtree(docs)
    print("| chunks | sentences | text | build (w/o model) | + real model, extrapolated | build peak RSS | disk | "
          "load + first answer | ask p50 / p95 | search p50 | index (nprobe) | recall@10: probes at build / questions, raw / as askdoc searches | "
          "serving RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['chunks']:,} | {r['sentences']:,} | {r['text_mb']:.0f} MB | {r['seconds']:.0f} s | "
              f"{r['real_model_embed_seconds_extrapolated'] / 60:.0f} min | {r['build_peak_rss_mb']:,.0f} MB | "
              f"{r['disk_mb']:,.0f} MB | {r['load_seconds']:.1f} + {r['first_answer_seconds']:.1f} s | {r['ask_p50_ms']:.0f} / {r['ask_p95_ms']:.0f} ms | "
              f"{r['search_p50_ms']:.2f} ms | {r['faiss_index']} ({r['nprobe']}) | "
              f"{r['build_recall_at_10']:.3f} / {r['question_recall_at_10']:.3f} / "
              f"{r['question_recall_at_10_rescored']:.3f} | {r['rss_end_mb']:,.0f} MB |")
    name = "scale.json" if args.stores == ["faiss"] else f"scale-{'-'.join(args.stores)}.json"
    write_result(RESULTS / name, {"model_texts_per_second": model_rate, "rows": rows})


if __name__ == "__main__":
    main()
