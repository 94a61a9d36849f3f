from __future__ import annotations

import numpy as np
import pytest

from index.build import build_index
from index.engines import vectors
from index.storage import builds
from tests.support import HashEmbedder


def clustered(n: int, dim: int = 64, clusters: int = 200, seed: int = 1) -> np.ndarray:
    """Unit vectors in loose clusters, the shape real embeddings have."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("chunks, requested, kind", [
    (10, "auto", "exact"), (vectors.EXACT_UP_TO, "auto", "exact"), (vectors.EXACT_UP_TO + 1, "auto", "approximate"),
    (10, "exact", "exact"), (10, "approximate", "approximate"),
])
def test_kind_by_size_and_request(chunks, requested, kind):
    assert vectors.choose_kind(chunks, requested) == kind


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="exact"):
        vectors.choose_kind(10, "fastest")


def test_approximate_index_is_calibrated_to_the_target_recall():
    both = clustered(20_300)
    data, queries = both[:20_000], both[20_000:]
    index, info = vectors.build(data, "approximate")
    assert info.kind == "approximate" and info.factory == f"IVF{vectors.list_count(20_000)},SQ8"
    assert info.recall_at_10 >= vectors.TARGET_RECALL and 1 <= info.nprobe <= index.nlist
    # Measured independently, on queries from the same distribution that are not corpus rows.
    truth = vectors.exact_neighbours(data, queries, 10)
    assert vectors.recall_at_k(truth, vectors.search_rescored(index, data, queries, 10), 10) >= 0.95
    assert info.nprobe < index.nlist  # not a disguised exhaustive scan


def test_exact_neighbours_match_a_full_sort():
    data, queries = clustered(3_000), clustered(20, seed=3)
    expected = np.argsort(-(queries @ data.T), axis=1)[:, :5]
    assert np.array_equal(vectors.exact_neighbours(data, queries, 5, block=700), expected)


def test_exact_index_is_flat():
    index, info = vectors.build(clustered(100), "auto")
    assert info == vectors.VectorIndexInfo("exact", "Flat") and index.ntotal == 100


def test_approximate_settings_survive_save_and_load(write_docs, tmp_path, monkeypatch):
    # A few hundred chunks are enough to train an inverted file when asked for one.
    docs = write_docs({f"d{i}.txt": " ".join(f"Sentence {i} {j} about topic {j % 7}." for j in range(60))
                       for i in range(40)})
    root = tmp_path / "index"
    build_index(docs, root, HashEmbedder(), vector_index="approximate")
    manifest = builds.read_manifest(root)
    assert manifest.vector_index == "approximate" and manifest.faiss_index.startswith("IVF")
    assert manifest.faiss_nprobe >= 1 and 0 < manifest.faiss_recall_at_10 <= 1
    loaded = builds.load(root)
    import faiss

    assert faiss.extract_index_ivf(loaded.engine.faiss_index).nprobe == manifest.faiss_nprobe
