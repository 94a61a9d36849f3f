"""The ONNX backends: fp32 (the default, no torch on the question path) gives
torch's vectors; int8 (opt-in) is exported locally, close to them, and kept
apart from them in the index."""

from __future__ import annotations

import numpy as np
import pytest

from index.embedding.models import load_embedder
from index.embedding.onnx import OnnxEmbedder
from tests.support import DEFAULT_DOCS

# Integration tier (tests/README.md): the real model exported and run, some in a subprocess.
pytestmark = pytest.mark.integration


SENTENCES = [
    "What did Singh tell Dong Jun?",
    "Singh emphasised the need to build trust between the two neighbours.",
    "The ADMM-Plus meeting took place in Vientiane, Laos.",
    "Chocolate cake needs flour, sugar, eggs and cocoa.",
]


@pytest.fixture(scope="module")
def int8_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def onnx_embedder(int8_cache):  # the int8 export takes ~15 s: its tests are slow
    # The cache is changed only while the graph is exported: other tests (and
    # the processes they start) keep the real one.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASKDOC_CACHE", str(int8_cache))
        embedder = load_embedder("onnx-int8")
        embedder.dimension  # export now
    return embedder


@pytest.mark.parametrize("choice, encoder, model_id", [
    ("onnx-int8", "onnx-int8", "sentence-transformers/all-MiniLM-L6-v2@onnx-int8"),
    ("some/model@onnx-int8", "onnx-int8", "some/model@onnx-int8"),
    (None, "onnx-fp32", "sentence-transformers/all-MiniLM-L6-v2"),
    ("all-MiniLM-L6-v2", "onnx-fp32", "sentence-transformers/all-MiniLM-L6-v2"),
    ("torch", "torch", "sentence-transformers/all-MiniLM-L6-v2"),
    ("some/model@torch", "torch", "some/model"),
])
def test_the_backend_is_chosen_by_the_model_option(choice, encoder, model_id):
    embedder = load_embedder(choice)  # lazy: nothing is loaded or exported here
    assert (embedder.encoder, embedder.model_id) == (encoder, model_id)


@pytest.mark.slow
def test_vectors_are_close_to_the_original_model(onnx_embedder, torch_embedder):
    assert isinstance(onnx_embedder, OnnxEmbedder) and onnx_embedder.encoder == "onnx-int8"
    assert onnx_embedder.model_id == torch_embedder.model_id + "@onnx-int8"
    quantized, original = onnx_embedder.encode(SENTENCES), torch_embedder.encode(SENTENCES)
    assert quantized.shape == original.shape and quantized.dtype == np.float32
    assert np.allclose(np.linalg.norm(quantized, axis=1), 1, atol=1e-5)
    agreement = (quantized * original).sum(axis=1)
    assert agreement.min() > 0.85 and agreement.mean() > 0.93, agreement
    # The ranking it induces is the original's: the question is nearest the sentence about it.
    assert np.argmax(quantized[1:] @ quantized[0]) == np.argmax(original[1:] @ original[0])


@pytest.mark.slow
def test_the_export_is_made_once(onnx_embedder, int8_cache, monkeypatch):
    from index.embedding.onnx import cache_dir

    monkeypatch.setenv("ASKDOC_CACHE", str(int8_cache))
    exported = list(cache_dir().rglob("model-int8.*.onnx"))
    assert len(exported) == 1 and not list(cache_dir().rglob("*.tmp.onnx"))
    before = exported[0].stat().st_mtime_ns
    load_embedder("onnx-int8").encode(["again"])
    assert exported[0].stat().st_mtime_ns == before


@pytest.mark.slow
def test_an_index_remembers_its_backend(onnx_embedder, real_embedder, tmp_path):
    from assistant.core import Assistant
    from index.build import build_index, ensure_index
    from index.errors import IndexMismatchError

    build_index(DEFAULT_DOCS, tmp_path / "index", onnx_embedder)
    answer = Assistant.load(tmp_path / "index", embedder=onnx_embedder).ask("When did Singh meet Dong Jun?")
    assert not answer.abstained and "November 20" in answer.text
    with pytest.raises(IndexMismatchError, match="onnx-int8"):
        ensure_index(DEFAULT_DOCS, tmp_path / "index", real_embedder)


def _own_texts() -> list[str]:
    from assistant.evaluate import load_cases
    from index.documents.loaders import load_folder
    from index.documents.segment import split_sentences
    from tests.support import DATA

    docs, _ = load_folder(DEFAULT_DOCS)
    sentences = [d.text[s.start : s.end] for d in docs for s in split_sentences(d.text)]
    return sentences + [d.title for d in docs] + [c.question for c in load_cases(DATA / "admm_questions.jsonl")]


def test_fp32_onnx_gives_torchs_vectors(real_embedder, torch_embedder):
    texts = _own_texts() + ["", "x" * 5000, "Ünïcödé and emoji 🙂 text"]  # empty, truncated, odd
    onnx, reference = real_embedder.encode(texts), torch_embedder.encode(texts)
    assert real_embedder.model_id == torch_embedder.model_id  # interchangeable: one index serves both
    cosine = (onnx * reference).sum(axis=1)
    assert cosine.min() >= 0.9999, (cosine.min(), texts[int(np.argmin(cosine))])


def test_an_index_built_by_one_encoder_answers_with_the_other_identically(real_embedder, torch_embedder, tmp_path):
    from assistant.core import Assistant
    from assistant.evaluate import load_cases
    from index.build import build_index
    from index.storage import builds
    from tests.support import DATA

    build_index(DEFAULT_DOCS, tmp_path / "torch", torch_embedder)
    build_index(DEFAULT_DOCS, tmp_path / "onnx", real_embedder)
    assert builds.read_manifest(tmp_path / "torch").encoder == "torch"
    assert builds.read_manifest(tmp_path / "onnx").encoder == "onnx-fp32"
    questions = [c.question for c in load_cases(DATA / "admm_questions.jsonl")]
    reference = Assistant.load(tmp_path / "torch", embedder=torch_embedder)
    expected = {question: reference.ask(question) for question in questions}
    for index, embedder in (("torch", real_embedder), ("onnx", torch_embedder), ("onnx", real_embedder)):
        other = Assistant.load(tmp_path / index, embedder=embedder)
        for question in questions:
            assert_same_answer(other.ask(question), expected[question], (index, question))


@pytest.mark.slow
def test_xquad_sample_answers_identically(xquad, torch_embedder):
    from assistant.core import Assistant

    assistant, cases = xquad  # built and asked with the ONNX encoder
    reference = Assistant(assistant.index, torch_embedder)
    sample = [c.question for c in cases[::25]]
    texts = sample + [assistant.index.sentence_text(i) for i in range(0, assistant.index.sentence_count, 25)]
    cosine = (assistant.embedder.encode(texts) * torch_embedder.encode(texts)).sum(axis=1)
    assert cosine.min() >= 0.9999
    for question in sample:
        assert_same_answer(assistant.ask(question), reference.ask(question), question)


def assert_same_answer(mine, theirs, context) -> None:
    """The same answer, citations and all; the citations' scores a rounding step
    apart at most (they are rounded to 4 decimals, and vectors this close can straddle a step)."""
    assert without_scores(mine) == without_scores(theirs), context
    assert all(abs(a.score - b.score) <= 2e-4 for a, b in zip(mine.citations, theirs.citations)), context


def without_scores(answer) -> dict:
    data = answer.to_dict()
    return {**data, "citations": [{k: v for k, v in c.items() if k != "score"} for c in data["citations"]]}


def test_a_question_without_an_export_is_answered_by_torch_and_says_why(tmp_path, monkeypatch, caplog):
    import logging

    monkeypatch.setenv("ASKDOC_CACHE", str(tmp_path / "empty-cache"))
    embedder = load_embedder()
    with caplog.at_level(logging.WARNING):
        vector = embedder.encode(["When did Singh meet Dong Jun?"])
    assert vector.shape == (1, 384) and embedder.encoder == "torch"
    assert "no ONNX export" in caplog.text


def test_a_graph_of_an_earlier_format_answers_until_an_export_replaces_it(tmp_path, monkeypatch):
    """A cache filled before the word table was stored in fp16 still serves
    questions by ONNX (not torch); the next export removes it."""
    import shutil

    from index.embedding import onnx
    from index.embedding.models import resolve_model

    load_from = resolve_model(None)[1]
    current = onnx.graph_path(load_from, "fp32")  # the real cache, filled by make install
    monkeypatch.setenv("ASKDOC_CACHE", str(tmp_path))
    earlier = onnx.earlier_graph_path(load_from, "fp32")
    assert earlier != onnx.graph_path(load_from, "fp32") and earlier.parent == onnx.graph_path(load_from, "fp32").parent
    earlier.parent.mkdir(parents=True)
    shutil.copy(current, earlier)
    embedder = load_embedder()
    assert embedder.encode(["When did Singh meet Dong Jun?"]).shape == (1, 384)
    assert embedder.encoder == "onnx-fp32"

    monkeypatch.setattr(onnx, "export", lambda _model, target, _precision: shutil.copy(current, target))
    load_embedder().prepare()  # what an index build does: the current format is exported
    assert onnx.graph_path(load_from, "fp32").exists() and not earlier.exists()


def test_a_question_never_imports_torch(default_index):
    import subprocess
    import sys

    from tests.support import ROOT

    code = (
        "import sys\nfrom assistant.cli.commands import main\n"
        "try:\n    main(['ask', '--index', sys.argv[1], 'When did Singh meet Dong Jun?'])\n"
        "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules, 'transformers' in sys.modules,"
        " 'gradio' in sys.modules, 'bm25s' in sys.modules, 'scipy' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(default_index)], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "November 20, 2024" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "False False False False False False", result.stdout
