"""One tokenizer per file in a process, and a batch's model inputs cut and
padded by hand.

A ``tokenizers.Tokenizer`` for the bundled model's vocabulary holds about
9 MB. The query embedder and the reader read the same ``tokenizer.json``,
so a serving process holds it once (``plain_tokenizer``), with padding and
truncation off: those are the tokenizer object's state, and the two users
want different ones (the embedder: cut at the model's length, padded to the
longest of a batch; the reader: neither, it builds its own windows). The
embedder cuts and pads its batches itself (``batch_feed``), exactly as a
tokenizer with both on would (tests/index/embedding/test_tokens.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol, Sequence

import numpy as np


class Encoded(Protocol):
    """What ``batch_feed`` reads of a ``tokenizers.Encoding``."""

    ids: list[int]
    type_ids: list[int]


@lru_cache(maxsize=8)
def _loaded(path: str) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(path)
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def plain_tokenizer(path: str) -> Any:
    """The tokenizer in the ``tokenizer.json`` at ``path``, without padding or
    truncation, one object per file for the whole process. Shared: never
    turn either on (cut and pad with ``batch_feed``)."""
    from pathlib import Path

    return _loaded(str(Path(path).resolve()))


def added_at_end(tokenizer: Any) -> int:
    """How many tokens ``tokenizer`` adds after a text (BERT's ``[SEP]``: 1;
    none for a tokenizer without a template): what a cut keeps at the end."""
    mask = tokenizer.encode("a").special_tokens_mask
    return len(mask) - len("".join(map(str, mask)).rstrip("1"))


def batch_feed(encodings: Sequence[Encoded], max_tokens: int, pad_id: int = 0, ends: int = 1) -> dict[str, np.ndarray]:
    """``input_ids``, ``attention_mask`` and ``token_type_ids`` of a batch:
    each encoding cut to ``max_tokens`` (the ``ends`` tokens its tokenizer
    added at the end kept there, ``added_at_end``) and padded with ``pad_id``
    to the longest, as a tokenizer with truncation and padding on gives them.

    >>> from types import SimpleNamespace as E
    >>> feed = batch_feed([E(ids=[101, 7, 8, 9, 102], type_ids=[0] * 5), E(ids=[101, 5, 102], type_ids=[0] * 3)], 4)
    >>> feed["input_ids"].tolist(), feed["attention_mask"].tolist()
    ([[101, 7, 8, 102], [101, 5, 102, 0]], [[1, 1, 1, 1], [1, 1, 1, 0]])
    >>> batch_feed([E(ids=[7, 8, 9], type_ids=[0] * 3)], 2, ends=0)["input_ids"].tolist()
    [[7, 8]]
    """
    ids, types = [], []
    for e in encodings:
        i, t = list(e.ids), list(e.type_ids)
        if len(i) > max_tokens:
            keep = max_tokens - ends
            i, t = i[:keep] + i[len(i) - ends:], t[:keep] + t[len(t) - ends:]
        ids.append(i)
        types.append(t)
    width = max((len(i) for i in ids), default=0)
    out = {name: np.zeros((len(ids), width), dtype=np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
    out["input_ids"].fill(pad_id)
    for row, (i, t) in enumerate(zip(ids, types)):
        out["input_ids"][row, : len(i)] = i
        out["attention_mask"][row, : len(i)] = 1
        out["token_type_ids"][row, : len(t)] = t
    return out
