"""Plain text, Markdown and HTML."""

from __future__ import annotations

import re

from index.documents.reading import Extracted, RawFile
from index.documents.text import decode_text, markdown_headings, normalize_newlines
from index.documents.webpage import main_text


def read_text(file: RawFile) -> Extracted:
    return Extracted(normalize_newlines(decode_text(file.raw)))


def read_markdown(file: RawFile) -> Extracted:
    """Text, the first ``#`` heading as the title, and every heading."""
    text = normalize_newlines(decode_text(file.raw))
    match = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    return Extracted(text, match.group(1).strip() if match else "", headings=markdown_headings(text))


def read_html(file: RawFile) -> Extracted:
    """A page's main text (``webpage.main_text``), its title and headings."""
    text, title, headings = main_text(normalize_newlines(decode_text(file.raw)))
    return Extracted(text, title, headings=headings)
