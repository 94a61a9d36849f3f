"""The reader: a cross-encoder trained from the bundled MiniLM weights
(``training/reader``) that reads a question together with one candidate
sentence and the sentences around it, and gives how strongly the sentence
answers and which of its words do. At question time it runs as an ONNX
graph (``onnxruntime``; no torch).

A pair is laid out as ``[CLS] question [SEP] sentence [SEP] before … after
[SEP]``: the sentence comes first so that it is never cut, and its
neighbours fill what is left of ``MAX_TOKENS``. ``encode`` is the one
place that layout is written; training and answering both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from index.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

MAX_TOKENS = 128
MAX_QUESTION_TOKENS = 32
MAX_SENTENCE_TOKENS = 72
MAX_SPAN_TOKENS = 24  # a short answer is a few words: a longer span is not one


@dataclass(frozen=True)
class Encoded:
    """One pair's token ids and segment ids; the sentence's tokens stand at
    ``first``..``last`` (inclusive) and cover ``offsets`` of its text."""

    ids: tuple[int, ...]
    type_ids: tuple[int, ...]
    first: int
    last: int
    offsets: tuple[tuple[int, int], ...]


def encode(tokenizer, question: str, sentence: str, before: str = "", after: str = "",
           max_tokens: int = MAX_TOKENS) -> Encoded:
    """The pair as the reader reads it (see the module's docstring).

    ``tokenizer`` is a ``tokenizers.Tokenizer`` (the bundled model's
    ``tokenizer.json``); its own special tokens are added here.
    """
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    q = tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]
    s = tokenizer.encode(sentence, add_special_tokens=False)
    sentence_ids, offsets = s.ids[:MAX_SENTENCE_TOKENS], s.offsets[:MAX_SENTENCE_TOKENS]
    room = max(0, max_tokens - len(q) - len(sentence_ids) - 4)
    b = tokenizer.encode(before, add_special_tokens=False).ids if before else []
    a = tokenizer.encode(after, add_special_tokens=False).ids if after else []
    take_before = min(len(b), room // 2 if a else room)
    take_after = min(len(a), room - take_before)
    context = b[len(b) - take_before:] + a[:take_after]
    head = [cls, *q, sep]
    ids = head + sentence_ids + [sep] + context + [sep]
    type_ids = [0] * len(head) + [1] * (len(ids) - len(head))
    first = len(head)
    return Encoded(tuple(ids), tuple(type_ids), first, first + len(sentence_ids) - 1,
                   tuple((int(x), int(y)) for x, y in offsets))


def batch(encoded: Sequence[Encoded]) -> dict[str, "np.ndarray"]:
    """Pairs padded to the longest of them (not to ``MAX_TOKENS``: short
    pairs cost what they are)."""
    import numpy as np

    width = max(len(e.ids) for e in encoded)
    ids = np.zeros((len(encoded), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, e in enumerate(encoded):
        ids[row, : len(e.ids)] = e.ids
        types[row, : len(e.ids)] = e.type_ids
        mask[row, : len(e.ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def best_span(start_logits, end_logits, e: Encoded) -> tuple[int, int, float]:
    """The sentence's best ``(start, end)`` character span by the sum of
    its start and end logits, at most ``MAX_SPAN_TOKENS`` long.

    >>> e = Encoded((101, 7, 102, 1, 2, 3, 102), (0,) * 7, 3, 5, ((0, 3), (4, 7), (8, 11)))
    >>> best_span([0, 0, 0, 0, 5, 0, 0], [0, 0, 0, 0, 0, 4, 0], e)
    (4, 11, 9.0)
    """
    best = (0, 0, float("-inf"))
    for i in range(e.first, e.last + 1):
        for j in range(i, min(e.last, i + MAX_SPAN_TOKENS - 1) + 1):
            score = float(start_logits[i]) + float(end_logits[j])
            if score > best[2]:
                best = (e.offsets[i - e.first][0], e.offsets[j - e.first][1], score)
    return best


@dataclass(frozen=True)
class Reading:
    """What the reader says of one candidate: ``score`` (a logit: above 0,
    more likely to answer than not) and the answer's words inside the
    sentence, ``span`` as offsets into it."""

    score: float
    span: tuple[int, int]
    span_score: float


class Reader:
    """The shipped reader graph, loaded once; ``read`` scores candidates."""

    def __init__(self, model: Path, tokenizer: Path, threads: int = 0) -> None:
        import onnxruntime as ort

        from index.embedding.tokens import plain_tokenizer

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Its threads sleep between runs instead of spinning: the query embedder's
        # session runs just before on the same cores (a read took 75 ms, not 56).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # its warnings are for its developers
        self.path = Path(model)
        self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        # The query embedder's own object when it reads the same file: 9 MB held once.
        self.tokenizer = plain_tokenizer(str(tokenizer))

    def read(self, question: str, candidates: Sequence[tuple[str, str, str]],
             max_tokens: int = MAX_TOKENS) -> list[Reading]:
        """Each ``(sentence, before, after)``'s reading of ``question``, in
        at most ``max_tokens`` tokens a pair (fewer cost less: a short
        window leaves less of the neighbours, never less of the sentence)."""
        readings = []
        for c in candidates:
            # One pair a run: the int8 graph quantizes its activations by their range in the whole run,
            # so a pair read beside others scored differently (1.34 alone, 1.08 or 1.18 beside three
            # others), and a sentence's reading hung on what else was retrieved. Costs 18% more time.
            e = encode(self.tokenizer, question, *c, max_tokens=max_tokens)
            score, starts, ends = self.session.run(["answer", "start", "end"], batch([e]))
            start, end, span_score = best_span(starts[0], ends[0], e)
            readings.append(Reading(float(score[0]), (start, end), span_score))
        return readings


def load_reader(name: str, threads: int = 0) -> Reader:
    """The reader shipped as ``assistant/models/<name>``, with the bundled
    model's tokenizer (the reader was trained from its weights)."""
    from assistant.params import models_folder
    from index.embedding.models import bundled_model_path

    path = models_folder() / name
    if not path.is_file():
        raise ModelError(f"the reader {path} is missing: reinstall askdoc, or answer without it (--no-reader)")
    try:
        return Reader(path, Path(bundled_model_path()) / "tokenizer.json", threads)
    except Exception as exc:  # onnxruntime raises its own types for a damaged file
        raise ModelError(f"cannot run the reader {path}: {str(exc).splitlines()[0]}") from exc
