"""Shared fixtures: one real model and one real index per session (as in
sentence-transformers' own tests), a fake embedder for pure-logic tests, and
helpers that write documents under ``tmp_path``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from index.embed import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
XQUAD = SHARED / "eval" / "xquad-en" / "xquad.en.json"
DEFAULT_DOCS = ROOT / "docs"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    from index.embed import load_embedder

    embedder = load_embedder()
    embedder.dimension  # load now, so the first test does not pay for it
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
    from assistant.engine import Assistant

    return Assistant.load(default_index, embedder=real_embedder)


@pytest.fixture(scope="session")
def xquad(tmp_path_factory, real_embedder):
    """XQuAD: 48 articles as 48 documents, indexed with the real model; and its questions."""
    if not XQUAD.exists():
        pytest.skip(f"XQuAD not found at {XQUAD}")
    from assistant.engine import Assistant
    from assistant.evaluate import xquad_questions
    from index.build import build_index

    base = tmp_path_factory.mktemp("xquad")
    cases = xquad_questions(XQUAD, base / "docs")
    build_index(base / "docs", base / "index", real_embedder)
    return Assistant.load(base / "index", embedder=real_embedder), cases


@pytest.fixture
def write_docs(tmp_path):
    """Write {relative path: str | bytes} into a fresh docs folder; return it."""

    def write(files: dict[str, str | bytes]) -> Path:
        docs = tmp_path / "docs"
        docs.mkdir(exist_ok=True)
        for name, content in files.items():
            path = docs / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return docs

    return write


@pytest.fixture
def default_docs_copy(tmp_path) -> Path:
    docs = tmp_path / "docs"
    shutil.copytree(DEFAULT_DOCS, docs)
    return docs


def make_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF with one line of text per page (Helvetica)."""
    objects: list[bytes] = []
    count = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    font_ref = 3 + 2 * count
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_ref} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
