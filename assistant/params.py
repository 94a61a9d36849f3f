"""The engine's fitted parameters: the weights of a candidate sentence's
features, the score below which askdoc abstains and how close to the best a
further sentence must score to join an answer, read from
``assistant/params.json``.

``tests/benchmarks/fit.py`` (``make fit``) writes that file from question
sets with known answers, on a training split; guide/quality.md says which numbers
are measured on which split. ``ASKDOC_PARAMS`` names another such file (a
refit on your own questions, or a higher ``min_score`` to abstain more).
The file is versioned: a file of another version is refused with a clear
message rather than half-read.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from index.errors import ModelError

VERSION = 1
# The chunk weights retrieve.Weights reads. Files fitted before 2026-12 may
# also name "fusion", "lexical" and "document": 0 in every shipped file, no
# longer read (a non-zero one is reported, not silently dropped).
CHUNK_WEIGHTS = ("anchor", "bm25", "standing_chunks", "document_bm25")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Params:
    sentence_weights: tuple[tuple[str, float], ...]
    min_score: float  # below this the best sentence does not answer
    margin: float  # a further sentence joins the answer when it scores this close to the best
    version: int = VERSION
    fitted: dict = field(default_factory=dict, compare=False)  # how and on what they were fitted
    chunk_weights: tuple[tuple[str, float], ...] = ()  # which document answers (retrieve.Weights: CHUNK_WEIGHTS)

    def chunk_weight(self, name: str) -> float:
        return dict(self.chunk_weights).get(name, 0.0)

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "sentence_weights": dict(self.sentence_weights),
                           "chunk_weights": dict(self.chunk_weights), "min_score": self.min_score,
                           "margin": self.margin, "fitted": self.fitted}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Params":
        """The inverse of ``to_json``.

        >>> p = Params((("dense", 1.0), ("context", 0.5)), 0.7, 0.3, fitted={"on": "x"}, chunk_weights=(("anchor", 0.2),))
        >>> Params.from_json(p.to_json()) == p
        True
        """
        data = json.loads(text)
        if data.get("version") != VERSION:
            raise ModelError(f"askdoc parameters of version {data.get('version')!r}; this askdoc reads {VERSION}")
        chunk_weights = {k: float(v) for k, v in data.get("chunk_weights", {}).items()}
        for name in sorted(set(chunk_weights) - set(CHUNK_WEIGHTS)):
            if chunk_weights.pop(name):
                log.warning("askdoc parameters: the chunk weight %r is no longer used and is ignored", name)
        return cls(tuple((k, float(v)) for k, v in data["sentence_weights"].items()), float(data["min_score"]),
                   float(data["margin"]), VERSION, data.get("fitted", {}), tuple(chunk_weights.items()))


def packaged() -> Path:
    return Path(str(resources.files("assistant").joinpath("params.json")))


@lru_cache(maxsize=1)
def load() -> Params:
    """The parameters in ``ASKDOC_PARAMS``, else those shipped with askdoc."""
    path = Path(os.environ.get("ASKDOC_PARAMS") or packaged())
    try:
        return Params.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot read askdoc parameters from {path} ({exc})") from exc
