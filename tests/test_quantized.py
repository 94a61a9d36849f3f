"""The opt-in int8 ONNX backend: exported locally from the bundled model,
close to it, and kept apart from it in the index."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support import DEFAULT_DOCS
from index.models import load_embedder
from index.models import wants_onnx
from index.quantized import OnnxInt8Embedder

pytestmark = pytest.mark.slow  # the export takes ~15 s

SENTENCES = [
    "What did Singh tell Dong Jun?",
    "Singh emphasised the need to build trust between the two neighbours.",
    "The ADMM-Plus meeting took place in Vientiane, Laos.",
    "Chocolate cake needs flour, sugar, eggs and cocoa.",
]


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("ASKDOC_CACHE", str(tmp_path_factory.mktemp("cache")))
    embedder = load_embedder("onnx-int8")
    embedder.dimension  # export now
    yield embedder
    mp.undo()


@pytest.mark.parametrize("choice, onnx", [("onnx-int8", True), ("some/model@onnx-int8", True), (None, False),
                                          ("all-MiniLM-L6-v2", False)])
def test_the_backend_is_chosen_by_the_model_option(choice, onnx):
    assert wants_onnx(choice) is onnx


def test_vectors_are_close_to_the_original_model(onnx_embedder, real_embedder):
    assert isinstance(onnx_embedder, OnnxInt8Embedder)
    assert onnx_embedder.model_id == real_embedder.model_id + "@onnx-int8"
    quantized, original = onnx_embedder.encode(SENTENCES), real_embedder.encode(SENTENCES)
    assert quantized.shape == original.shape and quantized.dtype == np.float32
    assert np.allclose(np.linalg.norm(quantized, axis=1), 1, atol=1e-5)
    agreement = (quantized * original).sum(axis=1)
    assert agreement.min() > 0.85 and agreement.mean() > 0.93, agreement
    # The ranking it induces is the original's: the question is nearest the sentence about it.
    assert np.argmax(quantized[1:] @ quantized[0]) == np.argmax(original[1:] @ original[0])


def test_the_export_is_made_once(onnx_embedder):
    from index.quantized import cache_dir

    exported = list(cache_dir().rglob("model-int8.onnx"))
    assert len(exported) == 1 and not list(cache_dir().rglob("*.tmp.onnx"))
    before = exported[0].stat().st_mtime_ns
    load_embedder("onnx-int8").encode(["again"])
    assert exported[0].stat().st_mtime_ns == before


def test_an_index_remembers_its_backend(onnx_embedder, real_embedder, tmp_path):
    from assistant.engine import Assistant
    from index.build import build_index, ensure_index
    from index.errors import IndexMismatchError

    build_index(DEFAULT_DOCS, tmp_path / "index", onnx_embedder)
    answer = Assistant.load(tmp_path / "index", embedder=onnx_embedder).ask("When did Singh meet Dong Jun?")
    assert not answer.abstained and "November 20" in answer.text
    with pytest.raises(IndexMismatchError, match="onnx-int8"):
        ensure_index(DEFAULT_DOCS, tmp_path / "index", real_embedder)
