"""Build settings: resolved in one place, recorded in the manifest, read back."""

from __future__ import annotations

import logging
import shutil

import pytest

from index.build import build_index, ensure_index
from index.errors import DocsMismatchError
from index.settings import DEFAULT_DOCS, BuildSettings, docs_folder
from index.storage import builds
from index.storage.builds import Manifest
from tests.support import HashEmbedder


def test_manifest_round_trips_its_settings(write_docs, tmp_path):
    build_index(write_docs({"a.txt": "Apples are red."}), tmp_path / "index", HashEmbedder())
    manifest = builds.read_manifest(tmp_path / "index")
    manifest.save(tmp_path)
    assert Manifest.load(tmp_path) == manifest
    assert manifest.settings.docs_dir == str((tmp_path / "docs").resolve())
    assert manifest.settings.docs_dir_relative == "../docs"


def test_a_manifest_from_before_the_settings_were_grouped_still_loads(write_docs, tmp_path):
    build_index(write_docs({"a.txt": "Apples are red."}), tmp_path / "index", HashEmbedder())
    path = builds.current_build(tmp_path / "index") / "manifest.json"
    import json

    data = json.loads(path.read_text())
    settings = data.pop("settings")
    data.update({k: settings[k] for k in ("model_id", "chunk_size", "chunk_overlap", "vector_index")})
    path.write_text(json.dumps(data))
    old = builds.load(tmp_path / "index").manifest
    assert old.settings == BuildSettings(settings["model_id"], settings["chunk_size"], settings["chunk_overlap"],
                                         settings["vector_index"])
    assert old.settings.own_docs(tmp_path / "index") is None


def test_a_moved_tree_finds_its_documents_by_the_relative_path(write_docs, tmp_path):
    build_index(write_docs({"a.txt": "Apples are red."}), tmp_path / "index", HashEmbedder())
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.move(str(tmp_path / "docs"), moved / "docs")
    shutil.move(str(tmp_path / "index"), moved / "index")
    settings = builds.read_manifest(moved / "index").settings
    assert settings.own_docs(moved / "index") == (moved / "docs").resolve()


@pytest.mark.parametrize("requested, retarget, expected", [
    (None, False, "own"), ("own", False, "own"), ("other", True, "other"),
])
def test_docs_folder_prefers_the_index_own(tmp_path, requested, retarget, expected):
    folders = {"own": tmp_path / "own", "other": tmp_path / "other"}
    for folder in folders.values():
        folder.mkdir()
    recorded = BuildSettings("m").with_docs(folders["own"], tmp_path / "index")
    chosen = docs_folder(tmp_path / "index", folders.get(requested), recorded, retarget)
    assert chosen.resolve() == folders[expected].resolve()


def test_another_folder_without_retarget_is_an_error(tmp_path):
    (tmp_path / "own").mkdir()
    recorded = BuildSettings("m").with_docs(tmp_path / "own", tmp_path / "index")
    with pytest.raises(DocsMismatchError) as caught:
        docs_folder(tmp_path / "index", tmp_path / "other", recorded, retarget=False)
    assert caught.value.exit_code == 2 and "askdoc index --docs" in str(caught.value)


def test_new_and_unrecorded_indexes(tmp_path):
    assert docs_folder(tmp_path / "index", None, None, retarget=False) == DEFAULT_DOCS
    assert docs_folder(tmp_path / "index", None, BuildSettings("m"), retarget=False) is None


def test_an_index_without_a_recorded_folder_is_served_as_it_is(write_docs, tmp_path, caplog):
    docs = write_docs({"a.txt": "Apples are red."})
    build_index(docs, tmp_path / "index", HashEmbedder())
    before = builds.current_build(tmp_path / "index")
    (docs / "b.txt").write_text("Bananas are yellow.")
    with caplog.at_level(logging.WARNING):
        assert ensure_index(None, tmp_path / "index", HashEmbedder()) is None
    assert "does not record its documents folder" in caplog.text
    assert builds.current_build(tmp_path / "index") == before


def test_explicit_choices_override_and_the_rest_is_kept(write_docs, tmp_path):
    from index.documents.chunking import ChunkSettings

    docs = write_docs({"a.txt": "Apples are red."})
    build_index(docs, tmp_path / "index", HashEmbedder(), ChunkSettings(300, 20), vector_index="exact")
    build_index(docs, tmp_path / "index", HashEmbedder())
    settings = builds.read_manifest(tmp_path / "index").settings
    assert (settings.chunk_size, settings.chunk_overlap, settings.vector_index) == (300, 20, "exact")


@pytest.mark.parametrize("recorded, store, uri, expected", [
    (("faiss", ""), None, None, ("faiss", "")),
    (("milvus", "http://milvus:19530"), None, None, ("milvus", "http://milvus:19530")),
    (("milvus", "http://milvus:19530"), "qdrant", None, ("qdrant", "")),  # a new engine is not the old one's server
    (("qdrant", ""), None, "http://qdrant:6333", ("qdrant", "http://qdrant:6333")),
    (("qdrant", "http://qdrant:6333"), None, "", ("qdrant", "")),
])
def test_the_engine_is_kept_unless_asked_for(recorded, store, uri, expected):
    from index.settings import BuildSettings

    previous = BuildSettings("m", store=recorded[0], store_uri=recorded[1])
    settings = BuildSettings.resolve(previous, "m", store=store, store_uri=uri)
    assert (settings.store, settings.store_uri) == expected


def test_an_unknown_engine_fails_before_any_work():
    from index.settings import BuildSettings

    with pytest.raises(ValueError, match="faiss, milvus, qdrant"):
        BuildSettings.resolve(None, "m", store="elastic")
