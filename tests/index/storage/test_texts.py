from __future__ import annotations

import pytest

from index.documents.loaders import Document
from index.storage import texts

DOCS = [
    Document("a.txt", "Plain ASCII text.", "a", "1" * 64),
    Document("b.md", "Ünïcödé — “quotes”, emoji 🙂 and 中文.", "B", "2" * 64),
    Document("empty.txt", "", "empty", "3" * 64),
    Document("c.pdf", "Page one.\fPage two.", "c", "4" * 64, page_starts=(0, 10)),
    Document("d.docx", "Leave\n\nFive days.", "d", "5" * 64, headings=((0, 1),)),
]


def test_load_is_the_inverse_of_save(tmp_path):
    texts.save(DOCS, tmp_path)
    loaded = texts.load(tmp_path)
    assert list(loaded) == DOCS
    assert loaded == DOCS and loaded.ids == [d.id for d in DOCS]
    assert loaded[3].page_at(12) == 2 and loaded[4].section_at(9) == "Leave"


def test_text_is_read_only_when_asked_and_cached_within_budget(tmp_path):
    texts.save(DOCS, tmp_path)
    loaded = texts.load(tmp_path, cache_chars=20)
    assert loaded._cache == {}
    assert loaded[1].text == DOCS[1].text and loaded[0].text == DOCS[0].text
    assert loaded._cached_chars <= 20 or len(loaded._cache) == 1  # the oldest was let go
    assert loaded[1] is loaded[1]  # the newest stays


def test_empty_corpus(tmp_path):
    texts.save([], tmp_path)
    assert len(texts.load(tmp_path)) == 0


def test_truncated_text_is_detected(tmp_path):
    texts.save(DOCS, tmp_path)
    path = tmp_path / texts.TEXTS
    path.write_bytes(path.read_bytes()[:10])
    with pytest.raises(ValueError, match="bytes"):
        texts.load(tmp_path)
