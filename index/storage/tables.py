"""A build's sentence and chunk tables: parallel arrays, never per-row
objects, saved as one ``spans.npz``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

SPANS = "spans.npz"


def paragraph_runs(sent_doc: np.ndarray, sent_para: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and last sentence row of each paragraph: a paragraph is a
    run of rows with the same document and paragraph number.

    >>> firsts, lasts = paragraph_runs(np.array([0, 0, 0, 1, 1]), np.array([0, 0, 1, 1, 1]))
    >>> firsts.tolist(), lasts.tolist()
    ([0, 2, 3], [1, 2, 4])
    """
    count = len(sent_doc)
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    breaks = np.flatnonzero((np.diff(sent_doc) != 0) | (np.diff(sent_para) != 0)) + 1
    return np.concatenate([[0], breaks]), np.concatenate([breaks - 1, [count - 1]])


@dataclass(frozen=True)
class Tables:
    """Sentence and chunk tables as parallel arrays, never per-row objects.

    Sentence *i* is ``documents[sent_doc[i]].text[sent_start[i]:sent_end[i]]``;
    chunk *j* spans sentences ``chunk_first[j]..chunk_last[j]`` (inclusive).
    ``sent_boilerplate`` marks the lines many documents repeat
    (``documents.boilerplate``), which answers never quote (all False when
    not given).
    """

    sent_doc: np.ndarray
    sent_start: np.ndarray
    sent_end: np.ndarray
    sent_para: np.ndarray
    sent_heading: np.ndarray
    chunk_first: np.ndarray
    chunk_last: np.ndarray
    sent_boilerplate: np.ndarray = None  # type: ignore[assignment]  # None: no sentence is

    def __post_init__(self) -> None:
        if self.sent_boilerplate is None:
            object.__setattr__(self, "sent_boilerplate", np.zeros(len(self.sent_start), dtype=bool))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tables):
            return NotImplemented
        return all(np.array_equal(getattr(self, f), getattr(other, f)) for f in self.__dataclass_fields__)

    # Derived once, then kept: code indexing them row by row must not pay
    # for a gather over every chunk each time.
    @cached_property
    def chunk_doc(self) -> np.ndarray:
        return self.sent_doc[self.chunk_first]

    def sentence_range(self, doc: int) -> tuple[int, int]:
        """The first sentence row of document ``doc`` and the one after its
        last: rows are grouped by document in order."""
        low, high = np.searchsorted(self.sent_doc, [doc, doc + 1])
        return int(low), int(high)

    def document_rows(self, doc: int) -> tuple[np.ndarray, np.ndarray]:
        """(sentence rows, chunk rows) of document ``doc``: each is one range."""
        return (np.arange(*self.sentence_range(doc)),
                np.arange(*np.searchsorted(self.chunk_doc, [doc, doc + 1])))

    def document(self, doc: int) -> "Tables":
        """Document ``doc``'s share, numbered as if it were the only one."""
        sent_rows, chunk_rows = self.document_rows(doc)
        offset = sent_rows[0] if len(sent_rows) else 0
        share = {f: getattr(self, f)[sent_rows] for f in SENTENCE_COLUMNS}
        return Tables(**{**share, "sent_doc": np.zeros(len(sent_rows), dtype=np.int32),
                         "chunk_first": self.chunk_first[chunk_rows] - offset,
                         "chunk_last": self.chunk_last[chunk_rows] - offset})

    @classmethod
    def concatenate(cls, shares: "list[Tables]") -> "Tables":
        """Documents' shares (each numbered on its own) as one corpus's
        tables, document *i* being ``shares[i]``: the inverse of ``document``.

        >>> one = Tables(*(np.array(v) for v in ([0, 0], [0, 5], [4, 9], [0, 0], [0, 0], [0], [1])))
        >>> both = Tables.concatenate([one, one])
        >>> both.sent_doc.tolist(), both.chunk_first.tolist(), both.chunk_last.tolist(), both.document(1) == one
        ([0, 0, 1, 1], [0, 2], [1, 3], True)
        """
        offsets = np.cumsum([0] + [len(t.sent_start) for t in shares])
        columns = {f: np.concatenate([getattr(t, f) for t in shares]) for f in SENTENCE_COLUMNS}
        return cls(
            sent_doc=np.concatenate([np.full(len(t.sent_start), i, dtype=np.int32) for i, t in enumerate(shares)]),
            chunk_first=np.concatenate([t.chunk_first + offsets[i] for i, t in enumerate(shares)]).astype(np.int32),
            chunk_last=np.concatenate([t.chunk_last + offsets[i] for i, t in enumerate(shares)]).astype(np.int32),
            **columns,
        )

    def save(self, build: Path) -> None:
        np.savez(Path(build) / SPANS, **{f: getattr(self, f) for f in self.__dataclass_fields__})

    @classmethod
    def load(cls, build: Path) -> "Tables":
        with np.load(Path(build) / SPANS) as npz:
            return cls(**{f: npz[f] for f in cls.__dataclass_fields__})


SENTENCE_COLUMNS = ("sent_start", "sent_end", "sent_para", "sent_heading", "sent_boilerplate")  # per sentence, besides sent_doc
