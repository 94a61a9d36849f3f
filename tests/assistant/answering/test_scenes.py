"""A broad answer's scene (assistant/answering/scenes.py): the passage around a
sentence, and a document's names, read once per document."""

from __future__ import annotations

import pytest

from assistant.answering import scenes
from index.documents.loaders import Document

ARTICLE = (
    "Singh meets Dong Jun\n\n"
    "Singh met Dong Jun in Vientiane. They spoke for an hour. Both sides praised the talks.\n\n"
    "A one-line paragraph about the weather.\n\n"
    "Another lone line on the schedule.\n\n"
    "Chansamone hosted the dinner. The ministers left on Friday.\n"
)


@pytest.fixture(scope="module")
def article_index(tmp_path_factory):
    from index.build import build_index
    from index.storage.builds import load
    from tests.support import HashEmbedder

    docs = tmp_path_factory.mktemp("scene-docs")
    (docs / "article.txt").write_text(ARTICLE, encoding="utf-8")
    root = tmp_path_factory.mktemp("scene") / "index"
    build_index(docs, root, HashEmbedder())
    return load(root)


def row_of(index, start_of: str) -> int:
    texts = [index.sentence_text(i) for i in range(index.sentence_count)]
    return next(i for i, text in enumerate(texts) if text.startswith(start_of))


@pytest.mark.parametrize("sentence, passage", [
    ("They spoke", "Singh met Dong Jun in Vientiane. They spoke for an hour. Both sides praised the talks."),
    ("Singh met", "Singh met Dong Jun in Vientiane. They spoke for an hour. Both sides praised the talks."),
    # A paragraph of one line: the line and its neighbours in the document.
    ("A one-line", "Both sides praised the talks.\n\nA one-line paragraph about the weather.\n\nAnother lone line on the schedule."),
    ("The ministers", "Chansamone hosted the dinner. The ministers left on Friday."),
])
def test_the_passage_is_the_paragraph_or_the_lines_around_a_lone_one(article_index, sentence, passage):
    assert scenes.passage_text(article_index, row_of(article_index, sentence)) == passage


def test_a_documents_names_are_read_once_and_are_those_of_its_text():
    text = "Singh met Dong Jun. Cooperation matters; cooperation helps Singh in Vientiane."
    doc = Document("a.txt", text, "A", "f00d")
    first = scenes.document_names(doc)
    assert first == scenes.names(text, scenes.lower_case_words(text)) == {"dong", "jun", "singh", "vientiane"}
    assert scenes.document_names(Document("a.txt", text, "A", "f00d")) is first  # remembered
    changed = Document("a.txt", text + " Then Lao officials came.", "A", "beef")
    assert scenes.document_names(changed) == first | {"lao"}  # "Then" opens its sentence: not a name


SUMMIT = (
    "Singh is at the ADMM-Plus in Vientiane, where he met counterparts from China, Laos and Malaysia.\n\n"
    "Singh met the Chinese minister Dong Jun. They spoke of the border.\n\n"
    "Singh also met Khaled, the Malaysian minister, at the ADMM-Plus.\n\n"
    "The Lao minister Chansamone hosted Singh.\n\n"
    "The ADMM-Plus ends on Friday.\n"
)


def test_the_setting_is_what_the_opening_names_and_the_document_keeps_naming(tmp_path):
    """The ADMM-Plus is where the whole document happens, so it sets no scene
    within it; the Malaysian minister's meeting is one scene of several."""
    from index.build import build_index
    from index.storage.builds import load
    from tests.support import HashEmbedder

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "summit.txt").write_text(SUMMIT, encoding="utf-8")
    build_index(docs, tmp_path / "index", HashEmbedder())
    index = load(tmp_path / "index")
    vocabulary = scenes.document_names(index.documents[0])
    assert scenes.document_setting(index, 0, vocabulary) == {"admm-plus", "singh"}
    question = "What did Singh discuss with the Malaysian minister at the ADMM-Plus?"
    scene = scenes.Scene(index, question, row_of(index, "Singh also met Khaled"), list(range(index.sentence_count)))
    assert scene.distinctive == {"malaysian"}
