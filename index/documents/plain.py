"""Plain text, Markdown and HTML."""

from __future__ import annotations

import re

from index.documents.source import Extracted, Source
from index.documents.text import decode_text, markdown_headings, normalize_newlines
from index.documents.webpage import main_text


def read_text(source: Source) -> Extracted:
    return Extracted(normalize_newlines(decode_text(source.raw)))


def read_markdown(source: Source) -> Extracted:
    """Text, the first ``#`` heading as the title, and every heading."""
    text = normalize_newlines(decode_text(source.raw))
    match = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    return Extracted(text, match.group(1).strip() if match else "", headings=markdown_headings(text))


def read_html(source: Source) -> Extracted:
    """A page's main text (``webpage.main_text``), its title and headings."""
    text, title, headings = main_text(normalize_newlines(decode_text(source.raw)))
    return Extracted(text, title, headings=headings)
