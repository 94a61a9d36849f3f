"""PDF files: each page's text layer, and with OCR the pages that have none
(scans); each page's start kept, so a citation names its page."""

from __future__ import annotations

import logging

from index.documents import ocr as reader_of_scans
from index.documents.reading import Extracted, RawFile
from index.documents.text import dehyphenate, join_pages, normalize_newlines


def read_pdf(file: RawFile) -> Extracted:
    """The text of each page, read from its text layer; with ``ocr``,
    pages without one are read by OCR. A PDF with no text at all is a
    ``ValueError`` saying whether ``--ocr`` would help."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(file.path))
        pages = [normalize_newlines(page.extract_text() or "").strip() for page in reader.pages]
    except Exception as exc:  # pypdf raises many types for broken files
        raise ValueError(f"unreadable PDF ({type(exc).__name__})") from exc
    blank = [i for i, text in enumerate(pages) if not text]
    if blank and file.ocr:
        for i, text in reader_of_scans.read_pages(file.path, file.sha256, blank).items():
            pages[i] = normalize_newlines(text.replace("\f", "")).strip()
    if not any(pages):
        raise ValueError("scanned PDF, OCR found no text" if file.ocr else "scanned PDF, no text layer: index it with --ocr")
    text, starts = join_pages([dehyphenate(page) for page in pages])
    return Extracted(text, page_starts=starts)
