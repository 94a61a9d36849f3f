"""The shipped reader's record: its checksum and what it reads on a small
fixture, written beside the model so that a test can tell the file is the
one the card describes and that it still reads as it did when shipped.

    .venv/bin/python -m training.reader.card assistant/models/reader-v2-int8.onnx

writes ``assistant/models/reader-v2-int8.json``. The card itself (data,
licences, recipe, held-out numbers) is ``assistant/models/README.md``;
tests/assistant/answering/test_shipped_reader.py checks both.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# Written here for the fixture (no document's text): a question, a sentence
# and its neighbours; some answer, some are near misses.
FIXTURE = (
    ("Who opened the new bridge?", "The mayor, Ana Ruiz, opened the new bridge on Monday.",
     "The town had waited ten years.", "Crowds lined the river."),
    ("When did the bridge open?", "The mayor, Ana Ruiz, opened the new bridge on Monday.",
     "The town had waited ten years.", "Crowds lined the river."),
    ("Who opened the new tunnel?", "The mayor, Ana Ruiz, opened the new bridge on Monday.",
     "The town had waited ten years.", "Crowds lined the river."),
    ("How long is the bridge?", "Crowds lined the river.", "The mayor opened the new bridge on Monday.", ""),
    ("What did the council vote for?", "The council voted for a ban on cars in the old town.",
     "", "The ban starts in May."),
    ("When does the ban start?", "The ban starts in May.", "The council voted for a ban on cars in the old town.", ""),
)


def readings(model: Path) -> list[dict]:
    """The reader's score and span on each fixture pair."""
    from assistant.answering.reader import Reader
    from index.embedding.models import bundled_model_path

    reader = Reader(model, Path(bundled_model_path()) / "tokenizer.json", threads=1)
    out = []
    for question, sentence, before, after in FIXTURE:
        r = reader.read(question, [(sentence, before, after)])[0]
        out.append({"question": question, "sentence": sentence, "before": before, "after": after,
                    "score": round(r.score, 4), "span": list(r.span), "words": sentence[r.span[0]:r.span[1]]})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="the ONNX graph to ship (in assistant/models/)")
    args = parser.parse_args(argv)
    from training.reader.export import sha256

    record = {"file": args.model.name, "bytes": args.model.stat().st_size, "sha256": sha256(args.model),
              "fixture": readings(args.model)}
    path = args.model.with_suffix(".json")
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for row in record["fixture"]:
        print(f"{row['score']:+.2f} {row['question']!r} -> {row['words']!r}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
