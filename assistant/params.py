"""The engine's settings, fitted and hand-set, and the file that holds the
fitted ones: ``Weights`` (how retrieval ranks chunks and sentences) and
``AnswerSettings`` (when to abstain, how many sentences an answer quotes),
read from ``assistant/params.json`` once, when an ``Assistant`` loads::

    params = Params.load()           # ASKDOC_PARAMS, else the packaged file
    params.weights.anchor, params.answer.min_score

``tests/benchmarks/accuracy/fit.py`` and ``fit_ranking.py`` (``make fit``) write the
file from question sets with known answers, on training splits, and their
provenance beside it (``fit-report.json``, read by no code);
guide/quality.md says which numbers are measured on which split.
``ASKDOC_PARAMS`` names another such file (a refit on your own questions, or
a higher ``min_score`` to abstain more). The file is versioned: one of an
unknown version is refused with a clear message rather than half-read.
Nothing here reads a file at import time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from index.engines import vectors
from index.errors import ModelError

VERSION = 2
# The kinds of answer a question can ask for and a sentence can be checked for (query.matches_type).
ANSWER_TYPES = ("when", "number", "speech", "why", "who", "where")
# What a candidate sentence is scored on, in this order (SentenceHit.features):
# its cosine similarity to the question; the score of the best chunk holding
# it; the share of the question's terms it holds, read with the sentences
# just before it; whether it holds the answer type asked for, one feature
# per type; and whether it holds the question's terms but not that answer
# type (it only restates the question).
FEATURES = ("dense", "context", "coverage", *(f"answer_type_{t}" for t in ANSWER_TYPES), "restates")
CHUNK_WEIGHTS = ("anchor", "bm25")


@dataclass(frozen=True)
class Weights:
    """How retrieval's signals combine. ``sentence`` weighs ``FEATURES``;
    ``anchor`` is how much a sentence's document's best chunk counts, that
    chunk standing by its dense similarity plus ``bm25`` times its BM25 score
    as a share of the most any chunk could score: these three are fitted
    (params.json). The rest are set by hand (guide/quality.md)."""

    sentence: tuple[tuple[str, float], ...]
    anchor: float
    bm25: float  # weighs the anchor only
    chunk_coverage: float = 0.5
    window: int = 2
    dense_candidates: int = vectors.CANDIDATES  # what the approximate index's nprobe is calibrated for
    lexical_candidates: int = 40
    chunks_for_sentences: int = 6
    # How many chunks that stand best (dense + BM25 share) have their
    # sentences read besides the best few by score: a page whose headline
    # and lede BM25 ranks first can answer even when its pooled vector is
    # weak. Chosen with the anchor on news (tests/benchmarks/accuracy/fit_ranking.py).
    standing_chunks: int = 2
    # A question that sets its scene before it asks ("China's birth rate fell
    # in 2022. It has been the most populous nation since at least:"): a
    # sentence's similarity is this much to the asking sentence and the rest
    # to the whole question, so the sentence that answers outranks the lede
    # that restates the scene. Set on the training quarters of RealTime QA
    # (guide/quality.md); one-sentence questions are not affected.
    asking: float = 0.5


@dataclass(frozen=True)
class AnswerSettings:
    """What an answer quotes. ``min_score`` (below it the best sentence does
    not answer) and ``margin`` (a further sentence joins when it scores this
    close to the best; a broad answer's points likewise) are fitted
    (params.json); the rest are set by hand."""

    min_score: float
    margin: float
    max_sentences: int = 3
    max_chars: int = 400  # the answer, without markers
    scene_coverage: float = 0.7
    excerpt_chars: int = 560
    min_dense: float = 0.25
    min_coverage_with_unknown: float = 0.2
    # Broad questions ("What did Singh discuss?"): more, and distinct, points.
    broad_max_sentences: int = 5
    broad_max_chars: int = 700
    diversity: float = 0.3  # how much a sentence's likeness to those chosen counts against it (MMR)
    continuation: float = 0.3  # the bonus of a sentence that follows a chosen one (it carries the point on)
    continuation_reach: int = 2  # how many sentences after a chosen one count as its continuation
    grounding_excerpts: int = 0  # excerpts kept on the answer for a generator (0: none, no LLM configured)
    scene_reach: float = 2.0  # how much wider a broad answer's margins are once kept to the question's scene


@dataclass(frozen=True)
class ReaderSettings:
    """How the reader (``answering/reader.py``) joins an answer. ``model``
    names its ONNX graph in ``assistant/models/``. Its probability that a
    sentence answers (the sigmoid of its score) is added to the sentence's
    retrieval score times ``weight``; the answer is that the documents don't
    say when no candidate's probability reaches ``min_probability``; the
    reader's span stands above the quotes as a short answer when the first
    sentence's probability reaches ``short_answer``. These three are fitted
    on training parts (``tests/benchmarks/accuracy/fit_reader.py``);
    ``candidates``, how many of retrieval's best sentences it reads, and
    ``tokens``, the window each is read in (its question, the sentence and
    as much of its neighbours as fits), are chosen for the time budget
    (``tests/benchmarks/speed/reader.py``): the reader's cost grows with
    their product. A question asking for people ("Who did Singh meet?",
    "... besides Dong Jun?") has its first ``list_candidates`` read, and
    each whose probability reaches ``list_probability`` and whose words
    that answer name someone new is an item of its list
    (``answering/items.py``). ``unweighted`` names the sentence features
    (``FEATURES``) that weigh nothing where the reader judges one answer:
    rules it made redundant, measured on training parts
    (``tests/benchmarks/accuracy/rules.py``); for broad questions, lists
    and without the reader they weigh what ``sentence_weights`` says."""

    model: str
    weight: float
    min_probability: float
    short_answer: float
    candidates: int = 16
    tokens: int = 128
    list_candidates: int = 8
    list_probability: float = 0.45
    unweighted: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"model": self.model, "weight": self.weight, "min_probability": self.min_probability,
                "short_answer": self.short_answer, "candidates": self.candidates, "tokens": self.tokens,
                "list_candidates": self.list_candidates, "list_probability": self.list_probability,
                "unweighted": list(self.unweighted)}


@dataclass(frozen=True)
class Params:
    """The fitted settings, as params.json holds them; ``load`` is the one
    place that file is read, ``to_json`` the one place it is written.
    ``reader`` is None where answers are made without the reader (a file
    with no ``"reader"``, or ``--no-reader``)."""

    weights: Weights
    answer: AnswerSettings
    reader: ReaderSettings | None = None

    def to_json(self) -> str:
        w, a = self.weights, self.answer
        data = {"version": VERSION, "sentence_weights": dict(w.sentence), "chunk_weights": {"anchor": w.anchor, "bm25": w.bm25},
                "min_score": a.min_score, "margin": a.margin}
        if self.reader is not None:
            data["reader"] = self.reader.to_dict()
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Params":
        """The inverse of ``to_json``; a version 1 file (before 2026-12)
        reads too, its renamed features under their new names.

        >>> p = Params(Weights((("dense", 1.0), ("context", 0.5)), 0.2, 8.0), AnswerSettings(0.7, 0.3))
        >>> Params.from_json(p.to_json()) == p
        True
        >>> r = replace(p, reader=ReaderSettings("reader-int8.onnx", 0.5, 0.1, 0.6))
        >>> Params.from_json(r.to_json()) == r
        True
        >>> old = '{"version": 1, "sentence_weights": {"typed_when": 0.25}, "min_score": 0.7, "margin": 0.3}'
        >>> Params.from_json(old).weights.sentence, Params.from_json(old).weights.anchor
        ((('answer_type_when', 0.25),), 0.0)
        """
        data = json.loads(text)
        version = data.get("version")
        if version not in (1, VERSION):
            raise ModelError(f"askdoc parameters of version {version!r}; this askdoc reads {VERSION} (and 1)")
        sentence = {_renamed(k): float(v) for k, v in data["sentence_weights"].items()}
        unknown = sorted(set(sentence) - set(FEATURES))
        if unknown:
            raise ModelError(f"askdoc parameters name features this askdoc does not score: {', '.join(unknown)}")
        chunk = {k: float(v) for k, v in data.get("chunk_weights", {}).items()}
        weights = Weights(tuple(sentence.items()), chunk.get("anchor", 0.0), chunk.get("bm25", 0.0))
        reader = data.get("reader")
        if reader is not None:
            reader = ReaderSettings(str(reader["model"]), float(reader["weight"]), float(reader["min_probability"]),
                                    float(reader["short_answer"]), int(reader.get("candidates", 16)),
                                    int(reader.get("tokens", 128)), int(reader.get("list_candidates", 8)),
                                    float(reader.get("list_probability", 0.45)),
                                    tuple(str(f) for f in reader.get("unweighted", ())))
            if reader.candidates < 1 or reader.list_candidates < 1 or not 16 <= reader.tokens <= 128:
                # 128 is the window the reader was trained in (answering/reader.py: MAX_TOKENS).
                raise ModelError(f"askdoc parameters: the reader reads at least 1 candidate (and 1 for a list) in 16 "
                                 f"to 128 tokens, not {reader.candidates} ({reader.list_candidates}) in {reader.tokens}")
            unknown = sorted(set(reader.unweighted) - set(FEATURES))
            if unknown:
                raise ModelError(f"askdoc parameters: the reader's unweighted features are not scored: {', '.join(unknown)}")
        return cls(weights, AnswerSettings(float(data["min_score"]), float(data["margin"])), reader)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Params":
        """The parameters in ``path``, else in ``ASKDOC_PARAMS``, else those shipped with askdoc."""
        path = Path(path or os.environ.get("ASKDOC_PARAMS") or packaged())
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"cannot read askdoc parameters from {path} ({exc})") from exc

    def with_answer(self, **changes) -> "Params":
        return replace(self, answer=replace(self.answer, **changes))

    def without_reader(self) -> "Params":
        """Today's path before the reader: retrieval's rules alone (``--no-reader``)."""
        return replace(self, reader=None)

    def ranking_weights(self) -> Weights:
        """The weights sentences are ranked by where the reader judges one
        answer: ``weights``, the features it made redundant
        (``reader.unweighted``) weighing nothing.

        >>> p = Params(Weights((("dense", 1.0), ("answer_type_who", 0.05)), 1.0, 8.0), AnswerSettings(0.7, 0.3))
        >>> p.ranking_weights().sentence
        (('dense', 1.0), ('answer_type_who', 0.05))
        >>> replace(p, reader=ReaderSettings("r.onnx", 0.5, 0.0, 0.6, unweighted=("answer_type_who",))).ranking_weights().sentence
        (('dense', 1.0), ('answer_type_who', 0.0))
        """
        if self.reader is None or not self.reader.unweighted:
            return self.weights
        sentence = tuple((name, 0.0 if name in self.reader.unweighted else value) for name, value in self.weights.sentence)
        return replace(self.weights, sentence=sentence)


def _renamed(feature: str) -> str:
    """A version 1 feature name as version 2 writes it.

    >>> _renamed("typed_when"), _renamed("dense")
    ('answer_type_when', 'dense')
    """
    return "answer_type_" + feature.removeprefix("typed_") if feature.startswith("typed_") else feature


def packaged() -> Path:
    return Path(str(resources.files("assistant").joinpath("params.json")))


def models_folder() -> Path:
    """Where the shipped models are: ``assistant/models/`` (with their cards)."""
    return Path(str(resources.files("assistant").joinpath("models")))
