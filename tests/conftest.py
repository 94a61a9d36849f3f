"""Shared fixtures: one real model and one real index per session (as in
sentence-transformers' own tests), a fake embedder for pure-logic tests, and
helpers that write documents under ``tmp_path``; and the tiers
(tests/README.md): a test that asks for the real model is marked
``integration``, one under tests/e2e/ ``e2e``; modules whose every test
runs a subprocess, an external engine or the whole app mark themselves
``integration``; the rest are the unit tier (``make test-fast``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support import CHROMIUM, CHROMIUM_ARGS, DEFAULT_DOCS, XQUAD, HashEmbedder, checks, write_files, xquad_questions

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# The fixtures that load the bundled model: a test asking for one is in the integration tier.
REAL_MODEL = {"real_embedder", "torch_embedder", "default_index", "default_assistant", "xquad"}
E2E = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if REAL_MODEL & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        if E2E in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


def pytest_collection_finish(session):
    # After -m and -k have deselected: only the checks that will run start early.
    checks.start_early(session.config, session.items)


def pytest_sessionfinish(session):
    checks.stop_early(session.config)


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2 as askdoc runs it by default (an fp32
    ONNX graph: exported now if make install has not), loaded once."""
    from index.embedding.models import load_embedder

    embedder = load_embedder()
    embedder.prepare()
    assert embedder.dimension == 384  # loads it now, so the first test does not pay for it
    assert embedder.encoder == "onnx-fp32"
    return embedder


@pytest.fixture(scope="session")
def torch_embedder():
    """The same model through sentence-transformers and torch: the reference."""
    from index.embedding.models import load_embedder

    embedder = load_embedder("torch")
    assert embedder.dimension == 384  # loads it now, so the first test does not pay for it
    return embedder


@pytest.fixture
def fake_embedder():
    return HashEmbedder()


@pytest.fixture(scope="session")
def default_index(tmp_path_factory, real_embedder) -> Path:
    """The default corpus (docs/) indexed with the real model and FAISS."""
    from index.build import build_index

    root = tmp_path_factory.mktemp("default") / "index"
    build_index(DEFAULT_DOCS, root, real_embedder)
    return root


@pytest.fixture(scope="session")
def default_assistant(default_index, real_embedder):
    from assistant.core import Assistant

    return Assistant.load(default_index, embedder=real_embedder)


@pytest.fixture(scope="session")
def xquad(tmp_path_factory, real_embedder):
    """XQuAD: 48 articles as 48 documents, indexed with the real model; and its questions."""
    if not XQUAD.exists():
        pytest.skip(f"XQuAD not found at {XQUAD}")
    from assistant.core import Assistant
    from index.build import build_index

    base = tmp_path_factory.mktemp("xquad")
    cases = xquad_questions(XQUAD, base / "docs")
    build_index(base / "docs", base / "index", real_embedder)
    return Assistant.load(base / "index", embedder=real_embedder), cases


@pytest.fixture
def write_docs(tmp_path):
    """Write {relative path: str | bytes} into a fresh docs folder; return it."""

    return lambda files: write_files(tmp_path / "docs", files)


@pytest.fixture
def default_docs_copy(tmp_path) -> Path:
    docs = tmp_path / "docs"
    shutil.copytree(DEFAULT_DOCS, docs)
    return docs


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium through playwright (no downloaded browser)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: make test installs it (Debian package chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
