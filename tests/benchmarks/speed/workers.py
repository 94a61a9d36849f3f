"""Index throughput against ``askdoc index --workers N`` on this machine:

    .venv/bin/python -m tests.benchmarks.speed.workers [--copies 3] [--workers 1 2 4]

Each run is a fresh ``askdoc index --rebuild`` process on XQuAD repeated
``--copies`` times (48 articles a copy), timed from launch to exit. Writes
tests/benchmarks/results/workers.json.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support import RESULTS, ROOT, XQUAD, write_result, xquad_questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    results = {"copies": args.copies, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        xquad_questions(XQUAD, work / "one")
        docs = work / "docs"
        for copy in range(args.copies):
            shutil.copytree(work / "one", docs / f"copy{copy}")
        for workers in args.workers:
            began = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "assistant", "index", "--rebuild", "--docs", str(docs),
                                   "--index", str(work / "index"), "--workers", str(workers)],
                                  capture_output=True, text=True, cwd=ROOT)
            seconds = time.perf_counter() - began
            if done.returncode:
                raise SystemExit(done.stderr)
            from index.storage.builds import load

            index = load(work / "index")
            texts = index.sentence_count + len(index.documents)
            results["runs"].append({"workers": workers, "seconds": seconds, "texts": texts,
                                    "texts_per_second": texts / seconds})
    print("| workers | wall time | texts embedded | texts/s |\n|---|---|---|---|")
    for run in results["runs"]:
        print(f"| {run['workers']} | {run['seconds']:.1f} s | {run['texts']:,} | {run['texts_per_second']:.0f} |")
    write_result(RESULTS / "workers.json", results)


if __name__ == "__main__":
    main()
