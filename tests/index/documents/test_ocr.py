"""Scanned PDFs: skipped with a reason naming --ocr unless asked for; with
OCR (Debian's tesseract, real) their pages are read, cached, cited by page."""

from __future__ import annotations

import os
import shutil

import pytest

from index.build import build_index
from index.documents import ocr
from index.documents.loaders import load_document, load_folder
from tests.support import make_pdf, make_scanned_pdf

# Integration tier (tests/README.md): Debian's tesseract in a subprocess.
pytestmark = pytest.mark.integration

# CI (and make test) install tesseract: there a missing one fails the tests instead of skipping them.
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None and not os.environ.get("CI"),
                                     reason="tesseract is not installed (make test installs it)")
PAGES = ["Staff carry over five days of leave into the next year.",
         "The canteen opens at eight in the morning on weekdays."]


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASKDOC_OCR_CACHE", str(tmp_path / "ocr-cache"))


def test_without_ocr_a_scan_is_skipped_with_a_reason_naming_the_flag(write_docs):
    docs = write_docs({"scan.pdf": make_scanned_pdf(PAGES), "note.txt": "A note."})
    documents, skipped = load_folder(docs)
    assert [d.id for d in documents] == ["note.txt"]
    assert [(s.path, s.reason) for s in skipped] == [("scan.pdf", "scanned PDF, no text layer: index it with --ocr")]


@needs_tesseract
def test_ocr_reads_each_page_and_keeps_page_numbers(write_docs):
    docs = write_docs({"scan.pdf": make_scanned_pdf(PAGES)})
    document = load_document(docs / "scan.pdf", "scan.pdf", ocr=True)
    assert len(document.page_starts) == 2
    first, second = document.text[: document.page_starts[1]], document.text[document.page_starts[1]:]
    assert "five days of leave" in first and "canteen opens at eight" in second
    assert document.page_at(document.text.index("canteen")) == 2


@needs_tesseract
def test_only_pages_without_text_are_read_by_ocr_and_once(write_docs, monkeypatch):
    # A text page, then a scanned one (the second page of a scan): only that one is OCR'd.
    scan = make_scanned_pdf(PAGES)
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(make_pdf(["A typed cover page about leave."]))).pages[0])
    writer.add_page(PdfReader(io.BytesIO(scan)).pages[1])
    out = io.BytesIO()
    writer.write(out)
    docs = write_docs({"mixed.pdf": out.getvalue()})
    calls = []
    real = ocr._read_page
    monkeypatch.setattr(ocr, "_read_page", lambda *a: calls.append(a) or real(*a))
    document = load_document(docs / "mixed.pdf", "mixed.pdf", ocr=True)
    assert document.text.startswith("A typed cover page about leave.") and "canteen" in document.text
    assert len(calls) == 1
    # Read again (every build extracts every file): from the cache, no tesseract.
    monkeypatch.setenv("ASKDOC_TESSERACT", "/nonexistent/tesseract")
    assert load_document(docs / "mixed.pdf", "mixed.pdf", ocr=True).text == document.text
    assert len(calls) == 1


def test_ocr_without_tesseract_skips_the_scan_saying_how_to_install_it(write_docs, monkeypatch):
    monkeypatch.setenv("ASKDOC_TESSERACT", "/nonexistent/tesseract")
    docs = write_docs({"scan.pdf": make_scanned_pdf(PAGES), "note.txt": "A note."})
    documents, skipped = load_folder(docs, ocr=True)
    assert [d.id for d in documents] == ["note.txt"]
    assert "apt install tesseract-ocr" in skipped[0].reason


@needs_tesseract
def test_a_scanned_pdf_is_answered_with_its_page_and_ocr_is_remembered(write_docs, tmp_path, real_embedder):
    from assistant.core import Assistant

    docs = write_docs({"scan.pdf": make_scanned_pdf(PAGES), "note.txt": "The parking lot closes at ten."})
    report = build_index(docs, tmp_path / "index", real_embedder, ocr=True)
    assert report.skipped == () and report.documents == 2
    answer = Assistant.load(tmp_path / "index", embedder=real_embedder).ask("When does the canteen open?")
    first = answer.citations[0]
    assert first.source == "scan.pdf" and first.page == 2 and "eight in the morning" in first.text
    text = load_document(docs / "scan.pdf", "scan.pdf", ocr=True).text
    assert text[first.start : first.end] == first.text
    # A later refresh without the flag keeps OCR (the index's setting), so the scan is not dropped.
    (docs / "more.txt").write_text("Another note.", encoding="utf-8")
    again = build_index(docs, tmp_path / "index", real_embedder)
    assert again.documents == 3 and again.skipped == () and again.embedded == 1
