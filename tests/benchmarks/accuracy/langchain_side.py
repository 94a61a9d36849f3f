"""`askdoc index` next to the stock LangChain pipeline on the same documents
(issue 5): RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings
with the same bundled all-MiniLM-L6-v2 + FAISS.from_documents + save_local.

    make bench-langchain        # creates .venv-bench (LangChain beside our pins), then runs this

LangChain runs in its own virtualenv (``.venv-bench``) so that its packages
never enter the environment askdoc is tested in. Both sides are timed the
same way: wall time of a fresh process from launch to the index on disk
(imports and model load included), on XQuAD's 48 articles and on those
repeated ``--copies`` times under other names. Prints one table and writes
tests/benchmarks/results/langchain.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Not from tests.support: the child runs this file in LangChain's own
# virtualenv, which has none of askdoc's packages.
ROOT = Path(__file__).resolve().parents[3]
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"


def langchain_child(docs: Path, out: Path, model_path: str) -> None:
    """The stock pipeline, as its documentation shows it."""
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    from langchain_community.embeddings import HuggingFaceEmbeddings
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    documents = [Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.name})
                 for p in sorted(docs.iterdir())]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(documents)
    embeddings = HuggingFaceEmbeddings(model_name=model_path, model_kwargs={"device": "cpu"},
                                       encode_kwargs={"normalize_embeddings": True})
    FAISS.from_documents(chunks, embeddings).save_local(str(out))
    print(json.dumps({"chunks": len(chunks)}))


def timed(command: list[str]) -> tuple[float, str]:
    began = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return time.perf_counter() - began, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return langchain_child(Path(args.child[0]), Path(args.child[1]), args.child[2])
    if not BENCH_PYTHON.exists():
        raise SystemExit(f"{BENCH_PYTHON} is missing: run `make bench-langchain`, which creates it")

    from index.storage import builds
    from tests.support import RESULTS, XQUAD, write_result, xquad_questions
    from index.embedding.models import bundled_model_path

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        xquad_questions(XQUAD, work / "xquad")
        large = work / "large"
        large.mkdir()
        for copy in range(args.copies):
            for doc in (work / "xquad").iterdir():
                (large / f"{copy}-{doc.name}").write_text(doc.read_text(encoding="utf-8"), encoding="utf-8")
        for name, docs in (("xquad", work / "xquad"), (f"xquad x{args.copies}", large)):
            index = work / f"{name}-askdoc"
            askdoc_seconds, _ = timed([sys.executable, "-m", "assistant", "index", "--rebuild", "--docs", str(docs),
                                       "--index", str(index)])
            langchain_seconds, out = timed([str(BENCH_PYTHON), __file__, "--child", str(docs),
                                            str(work / f"{name}-langchain"), bundled_model_path()])
            manifest = builds.read_manifest(index)
            rows.append({
                "corpus": name, "documents": len(list(docs.iterdir())),
                "megabytes": sum(p.stat().st_size for p in docs.iterdir()) / 1e6,
                "askdoc_seconds": askdoc_seconds, "askdoc_chunks": manifest.chunks,
                "askdoc_texts_embedded": manifest.sentences + len(manifest.documents),  # sentences and titles
                "langchain_seconds": langchain_seconds, "langchain_chunks": json.loads(out.strip().splitlines()[-1])["chunks"],
                "ratio_langchain_over_askdoc": langchain_seconds / askdoc_seconds,
            })
    print("| corpus | askdoc index | LangChain pipeline | askdoc speed vs LangChain |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['corpus']}: {r['documents']} docs, {r['megabytes']:.2f} MB | {r['askdoc_seconds']:.1f} s "
              f"({r['askdoc_chunks']} chunks; {r['askdoc_texts_embedded']} sentences and titles embedded) | "
              f"{r['langchain_seconds']:.1f} s ({r['langchain_chunks']} chunks embedded) | "
              f"{r['ratio_langchain_over_askdoc']:.2f}× |")
    write_result(RESULTS / "langchain.json", rows)


if __name__ == "__main__":
    main()
