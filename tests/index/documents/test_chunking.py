from __future__ import annotations

import pytest

from index.documents.chunking import ChunkSettings, chunk_spans
from index.documents.segment import split_sentences

TEXT = "\n".join(
    [f"Paragraph {p} sentence {i} says something fairly specific about topic {p}." for p in range(6) for i in range(4)]
    + ["A Heading Line", "The text under the heading explains it."]
)


@pytest.mark.parametrize("size, overlap", [(120, 0), (200, 60), (400, 150), (800, 150), (5000, 0)])
def test_chunks_are_whole_sentences_within_size(size, overlap):
    spans = split_sentences(TEXT)
    chunks = chunk_spans(spans, ChunkSettings(size, overlap))
    covered = set()
    for first, last in chunks:
        assert first <= last
        length = spans[last].end - spans[first].start
        assert length <= size or first == last or spans[first].heading
        covered.update(range(first, last + 1))
    assert covered == set(range(len(spans)))  # nothing lost
    assert all(b[0] > a[0] and b[1] > a[1] for a, b in zip(chunks, chunks[1:]))  # always progresses


@pytest.mark.parametrize("size", [60, 100, 150])
def test_a_heading_never_ends_a_chunk(size):
    spans = split_sentences(TEXT)
    for first, last in chunk_spans(spans, ChunkSettings(size, 0)):
        assert not spans[last].heading or last == len(spans) - 1


def test_overlap_repeats_the_tail_of_the_previous_chunk():
    spans = split_sentences(TEXT)
    chunks = chunk_spans(spans, ChunkSettings(300, 100))
    assert any(b[0] <= a[1] for a, b in zip(chunks, chunks[1:]))
    for a, b in zip(chunks, chunks[1:]):
        if b[0] <= a[1]:
            assert spans[a[1]].end - spans[b[0]].start <= 100


@pytest.mark.parametrize("size, overlap", [(10, 0), (100, 100), (100, -1)])
def test_bad_config_is_rejected(size, overlap):
    with pytest.raises(ValueError):
        ChunkSettings(size, overlap)
