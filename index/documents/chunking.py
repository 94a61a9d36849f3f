"""Group sentences into overlapping, sentence-aligned chunks.

A chunk is a run of whole sentences ``[first, last]`` of one document; it
never cuts a sentence, never ends on a heading (the heading moves to the
chunk holding the text below it), and repeats the last sentences of the
previous chunk up to ``overlap`` characters so an answer that straddles a
boundary is still whole in one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.documents.segment import Span


@dataclass(frozen=True)
class ChunkSettings:
    """Target chunk size and overlap, in characters."""

    size: int = 800
    overlap: int = 150

    def __post_init__(self) -> None:
        if self.size < 50:
            raise ValueError("chunk size must be at least 50 characters")
        if not 0 <= self.overlap < self.size:
            raise ValueError("chunk overlap must be between 0 and the chunk size")


def _length(spans: list[Span], first: int, last: int) -> int:
    return spans[last].end - spans[first].start


def _fill(spans: list[Span], first: int, size: int) -> int:
    """Last sentence of a chunk starting at ``first``."""
    count = len(spans)
    last = first
    while last + 1 < count and _length(spans, first, last + 1) <= size:
        last += 1
    # A heading belongs with what follows it: drop it from the end, or, when
    # the chunk is nothing but headings, take the next sentence whatever its size.
    while last > first and spans[last].heading and last + 1 < count:
        last -= 1
    while spans[last].heading and last + 1 < count:
        last += 1
    return last


def chunk_spans(spans: list[Span], config: ChunkSettings = ChunkSettings()) -> list[tuple[int, int]]:
    """(first, last) sentence numbers of each chunk, inclusive.

    >>> from index.documents.segment import Span
    >>> s = [Span(0, 100, 0), Span(101, 210, 0), Span(211, 230, 1, heading=True), Span(231, 330, 2)]
    >>> chunk_spans(s, ChunkSettings(size=1000, overlap=0))
    [(0, 3)]
    >>> chunk_spans(s, ChunkSettings(size=250, overlap=0))
    [(0, 1), (2, 3)]
    >>> chunk_spans(s, ChunkSettings(size=250, overlap=120))
    [(0, 1), (1, 3)]
    """
    chunks: list[tuple[int, int]] = []
    count = len(spans)
    first = 0
    while first < count:
        last = _fill(spans, first, config.size)
        chunks.append((first, last))
        if last + 1 >= count:
            break
        first = last + 1
        overlap_first = first
        while overlap_first - 1 > chunks[-1][0] and _length(spans, overlap_first - 1, last) <= config.overlap:
            overlap_first -= 1
        # Take the overlap only when the next chunk still brings new text.
        if overlap_first < first and _fill(spans, overlap_first, config.size) > last:
            first = overlap_first
    return chunks
