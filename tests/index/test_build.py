from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest

from index.build import build_index, build_lock, ensure_index, staleness
from index.documents.chunking import ChunkSettings
from index.documents.loaders import iter_files
from index.errors import IndexLockedError, IndexMismatchError
from index.settings import BuildSettings
from index.storage import builds
from tests.support import HashEmbedder


class CountingEmbedder(HashEmbedder):
    def __init__(self):
        super().__init__()
        self.texts: list[str] = []

    def encode(self, texts, progress=None):
        self.texts.extend(texts)
        return super().encode(texts, progress)


DOCS = {
    "a.txt": "Apples are red. Apples grow on trees.",
    "b.txt": "Bananas are yellow. Bananas grow in bunches.",
    "c.txt": "Cherries are small. Cherries have stones.",
}


def test_rebuild_embeds_only_changed_documents(write_docs, tmp_path):
    docs = write_docs(DOCS)
    root = tmp_path / "index"
    embedder = CountingEmbedder()
    first = build_index(docs, root, embedder)
    assert (first.embedded, first.reused) == (3, 0)

    embedder.texts.clear()
    (docs / "b.txt").write_text("Bananas are long. Bananas are sweet.")
    (docs / "c.txt").unlink()
    (docs / "d.txt").write_text("Dates are sweet. Dates grow on palms.")
    second = build_index(docs, root, embedder)
    assert (second.embedded, second.reused, second.removed) == (2, 1, 1)
    assert not any("Apples" in t for t in embedder.texts)  # a.txt was not embedded again

    index = builds.load(root, embedder.model_id)
    assert [d.id for d in index.documents] == ["a.txt", "b.txt", "d.txt"]
    assert "Bananas are sweet." in [index.sentence_text(i) for i in range(index.sentence_count)]
    # Reused vectors equal freshly computed ones: nothing was shifted.
    fresh = HashEmbedder().encode([index.sentence_text(i) for i in range(index.sentence_count)])
    assert (abs(fresh - index.sentence_vectors) < 1e-6).all()


def test_rebuild_flag_re_embeds_everything(write_docs, tmp_path):
    docs = write_docs(DOCS)
    root = tmp_path / "index"
    build_index(docs, root, HashEmbedder())
    assert build_index(docs, root, HashEmbedder(), rebuild=True).embedded == 3


def test_new_model_or_chunking_re_embeds_everything(write_docs, tmp_path):
    docs = write_docs(DOCS)
    root = tmp_path / "index"
    build_index(docs, root, HashEmbedder())
    assert build_index(docs, root, HashEmbedder(model_id="fake/other")).embedded == 3
    assert build_index(docs, root, HashEmbedder(model_id="fake/other"), ChunkSettings(100, 0)).embedded == 3


def test_staleness_sees_added_changed_removed(write_docs, tmp_path):
    docs = write_docs(DOCS)
    root = tmp_path / "index"
    embedder = HashEmbedder()
    settings = BuildSettings(embedder.model_id)
    assert staleness(root, settings, iter_files(docs)).missing
    build_index(docs, root, embedder)
    assert not staleness(root, settings, iter_files(docs)).stale
    time.sleep(0.01)
    (docs / "a.txt").write_text("Apples are green.")
    (docs / "b.txt").unlink()
    (docs / "e.txt").write_text("Elderberries.")
    state = staleness(root, settings, iter_files(docs))
    assert (state.changed, state.removed, state.added) == (("a.txt",), ("b.txt",), ("e.txt",))


def test_ensure_index_builds_refreshes_and_refuses_other_models(write_docs, tmp_path):
    docs = write_docs(DOCS)
    root = tmp_path / "index"
    assert ensure_index(docs, root, HashEmbedder()).documents == 3
    assert ensure_index(docs, root, HashEmbedder()) is None
    (docs / "f.txt").write_text("Figs are soft.")
    assert ensure_index(docs, root, HashEmbedder()).embedded == 1
    with pytest.raises(IndexMismatchError):
        ensure_index(docs, root, HashEmbedder(model_id="fake/other"))


def test_ensure_index_keeps_custom_chunking(write_docs, tmp_path):
    docs = write_docs(DOCS)
    root = tmp_path / "index"
    build_index(docs, root, HashEmbedder(), ChunkSettings(120, 10))
    (docs / "g.txt").write_text("Grapes make wine.")
    ensure_index(docs, root, HashEmbedder())
    manifest = builds.read_manifest(root)
    assert manifest.settings.chunking == ChunkSettings(120, 10)


def test_skipped_files_do_not_make_the_index_stale(write_docs, tmp_path, caplog):
    docs = write_docs({**DOCS, "photo.jpg": b"\xff\xd8\xff"})
    root = tmp_path / "index"
    with caplog.at_level(logging.WARNING):
        report = build_index(docs, root, HashEmbedder())
    assert [s.path for s in report.skipped] == ["photo.jpg"]
    assert not staleness(root, BuildSettings("fake/hash-embedder"), iter_files(docs)).stale


def test_lock_serializes_builds(tmp_path):
    root = tmp_path / "index"
    order = []
    with build_lock(root):
        with pytest.raises(IndexLockedError):
            with build_lock(root, wait=False):
                pass

        def second():
            with build_lock(root):
                order.append("second")

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        order.append("first")
    thread.join(5)
    assert order == ["first", "second"]


def test_an_index_in_an_older_format_is_rebuilt_by_ensure_index(write_docs, tmp_path):
    docs = write_docs(DOCS)
    root = tmp_path / "index"
    build_index(docs, root, HashEmbedder())
    manifest_path = builds.current_build(root) / "manifest.json"
    manifest_path.write_text(manifest_path.read_text().replace(f'"format_version": {builds.FORMAT_VERSION}',
                                                               '"format_version": 1'))
    assert "format" in staleness(root, BuildSettings("fake/hash-embedder"), iter_files(docs)).settings
    report = ensure_index(docs, root, HashEmbedder())
    assert report is not None and report.embedded == 3  # nothing reused from a format it cannot read
    assert builds.load(root).manifest.format_version == builds.FORMAT_VERSION


@pytest.mark.parametrize("rows", [[3, 0, 1, 2], [0, 1, 2, 3], [2], []])
def test_row_writer_fills_rows_in_any_order(tmp_path, rows):
    from index.storage.filearray import FileArrayWriter

    expected = np.zeros((4, 3), dtype=np.float32)
    writer = FileArrayWriter(tmp_path / "v.npy", 4, 3)
    values = np.arange(len(rows) * 3, dtype=np.float32).reshape(len(rows), 3) + 1
    writer.write(np.array(rows, dtype=np.int64), values)
    expected[rows] = values
    assert np.array_equal(writer.close(), expected)
    assert np.array_equal(np.load(tmp_path / "v.npy"), expected)  # a plain .npy file


def test_reused_documents_keep_their_vectors(write_docs, tmp_path):
    docs = write_docs(DOCS)
    root = tmp_path / "index"
    build_index(docs, root, HashEmbedder())
    before = builds.load(root)
    (docs / "zz.txt").write_text("Zebras are striped.")
    build_index(docs, root, HashEmbedder())
    after = builds.load(root)
    assert after.chunk_count > before.chunk_count
    assert np.array_equal(np.asarray(after.chunk_vectors[: before.chunk_count]), np.asarray(before.chunk_vectors))
    assert np.array_equal(np.asarray(after.sentence_vectors[: before.sentence_count]), np.asarray(before.sentence_vectors))


def test_the_model_reads_each_sentence_and_title_once_and_chunks_are_pooled(write_docs, tmp_path):
    from index.embedding.pool import pool_chunks

    long_text = " ".join(f"Sentence number {i} talks about topic {i % 7}." for i in range(60))
    docs = write_docs({"long.txt": long_text, **DOCS})
    root = tmp_path / "index"
    embedder = CountingEmbedder()
    build_index(docs, root, embedder, ChunkSettings(size=200, overlap=60))
    index = builds.load(root)
    assert index.chunk_count > 4  # overlapping chunks: their sentences were still embedded once
    sentences = [index.sentence_text(i) for i in range(index.sentence_count)]
    titles = [d.title for d in index.documents]
    assert sorted(embedder.texts) == sorted(sentences + titles)

    t = index.tables
    expected = pool_chunks(index.sentence_vectors, t.chunk_first, t.chunk_last,
                           HashEmbedder().encode([titles[d] for d in t.chunk_doc]))
    assert np.allclose(index.chunk_vectors, expected, atol=1e-6)
    assert np.allclose(np.linalg.norm(index.chunk_vectors, axis=1), 1, atol=1e-5)
