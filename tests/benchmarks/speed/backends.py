"""Embedding throughput of the default backend (the model as an fp32 ONNX
graph), sentence-transformers on torch (``--model torch``) and the opt-in
int8 ONNX backend, on exactly the texts an index of XQuAD embeds (its
sentences and titles), in the same run.

    .venv/bin/python -m tests.benchmarks.speed.backends [--repeats 2]

Quality of each backend comes from quality.py (``--model onnx-int8``).
Prints one table and writes tests/benchmarks/results/backends.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="alternate the backends this many times; best time counts")
    args = parser.parse_args()

    from index.build import build_index
    from index.embedding.models import load_embedder
    from tests.benchmarks.speed.perf import embedded_texts
    from tests.support import RESULTS, XQUAD, HashEmbedder, write_result, xquad_questions

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        xquad_questions(XQUAD, work / "docs")
        build_index(work / "docs", work / "index", HashEmbedder())  # only the texts matter here
        texts = embedded_texts(work / "index")
    backends = {"onnx fp32 (default)": load_embedder(), "torch": load_embedder("torch"),
                "onnx-int8": load_embedder("onnx-int8")}
    best = {}
    for embedder in backends.values():
        embedder.encode(texts[:64])  # load, and export once for ONNX
    for _ in range(args.repeats):
        for name, embedder in backends.items():
            began = time.perf_counter()
            embedder.encode(texts)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - began)
    base = best["torch"]
    print(f"| backend | {len(texts)} XQuAD texts | texts/s | speed-up over torch |\n|---|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.1f} s | {len(texts) / seconds:.0f} | {base / seconds:.2f}× |")
    write_result(RESULTS / "backends.json", {"texts": len(texts), "seconds": best})


if __name__ == "__main__":
    main()
