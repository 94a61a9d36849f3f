from __future__ import annotations

import numpy as np
import pytest

from index.build import build_index
from index.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from index.storage import builds
from index.storage.tables import Tables


@pytest.fixture
def built(write_docs, fake_embedder, tmp_path):
    docs = write_docs({
        "one.txt": "Alpha beta gamma. Delta epsilon.\nHeading Here\nZeta eta theta.",
        "two.md": "# Two\n\nIota kappa lambda. Mu nu xi.",
    })
    root = tmp_path / "index"
    build_index(docs, root, fake_embedder)
    return docs, root


def test_load_is_the_inverse_of_save(built, tmp_path, fake_embedder):
    _, root = built
    first = builds.load(root, fake_embedder.model_id)
    other = tmp_path / "copy"
    builds.save(first, other)
    second = builds.load(other, fake_embedder.model_id)
    assert second.manifest == first.manifest
    assert second.documents == first.documents
    assert second.tables == first.tables
    assert np.array_equal(second.chunk_vectors, first.chunk_vectors)
    assert np.array_equal(second.sentence_vectors, first.sentence_vectors)
    assert second.engine.faiss_index.ntotal == first.engine.faiss_index.ntotal
    query = ["alpha", "iota"]
    assert np.array_equal(second.chunk_lexical.scores(query), first.chunk_lexical.scores(query))


def test_manifest_round_trip(built, tmp_path):
    _, root = built
    manifest = builds.read_manifest(root)
    manifest.save(tmp_path)
    assert builds.Manifest.load(tmp_path) == manifest
    assert manifest.format_version == builds.FORMAT_VERSION and manifest.askdoc_version
    assert [d.id for d in manifest.documents] == ["one.txt", "two.md"]


def test_every_chunk_and_sentence_points_into_its_document(built, fake_embedder):
    _, root = built
    index = builds.load(root, fake_embedder.model_id)
    for i in range(index.sentence_count):
        text = index.sentence_text(i)
        assert text and text == text.strip()
    for j in range(index.chunk_count):
        doc = index.documents[index.tables.chunk_doc[j]]
        assert index.chunk_text(j) in doc.text


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissingError, match="askdoc index"):
        builds.load(tmp_path / "nothing")


def test_other_model_is_a_clear_error(built):
    _, root = built
    with pytest.raises(IndexMismatchError) as info:
        builds.load(root, "some/other-model")
    message = str(info.value)
    assert "fake/hash-embedder" in message and "some/other-model" in message and "askdoc index" in message


@pytest.mark.parametrize("victim", ["chunk_vectors.npy", "spans.npz", "chunks.faiss", "documents.jsonl", "texts.utf8",
                                    "manifest.json"])
def test_truncated_files_give_a_clear_error(built, victim):
    _, root = built
    path = builds.current_build(root) / victim
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 3)])
    with pytest.raises(IndexCorruptError, match="rebuild"):
        builds.load(root)


def test_a_failed_save_leaves_the_previous_index(built, fake_embedder, monkeypatch):
    _, root = built
    before = builds.load(root, fake_embedder.model_id)

    def crash(index, directory):
        directory.mkdir(parents=True)
        (directory / "documents.jsonl").write_text("partial")
        raise OSError("disk full")

    monkeypatch.setattr(builds, "write_build", crash)
    with pytest.raises(OSError):
        builds.save(before, root)
    after = builds.load(root, fake_embedder.model_id)
    assert after.manifest == before.manifest and after.path == before.path


def test_tables_round_trip_and_split_into_documents(built, tmp_path, fake_embedder):
    _, root = built
    tables = builds.load(root, fake_embedder.model_id).tables
    tables.save(tmp_path)
    assert Tables.load(tmp_path) == tables
    assert Tables.concatenate([tables.document(d) for d in range(2)]) == tables
