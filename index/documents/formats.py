"""The one registry of readers: a file's suffix names its format, the kind
people see ("PDF", "Word file") and the function that reads it. A new format
is a module with a ``read_…(RawFile) -> Extracted`` function and one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from index.documents import office, pdf, plain
from index.documents.reading import Extracted, RawFile


@dataclass(frozen=True)
class Format:
    kind: str  # what the documents listing calls it
    read: Callable[[RawFile], Extracted]


FORMATS: dict[str, Format] = {
    ".txt": Format("text", plain.read_text),
    ".text": Format("text", plain.read_text),
    ".rst": Format("text", plain.read_text),
    ".md": Format("text", plain.read_markdown),
    ".markdown": Format("text", plain.read_markdown),
    ".html": Format("HTML", plain.read_html),
    ".htm": Format("HTML", plain.read_html),
    ".pdf": Format("PDF", pdf.read_pdf),
    ".docx": Format("Word file", office.read_docx),
    ".pptx": Format("PowerPoint file", office.read_pptx),
    ".odt": Format("OpenDocument file", office.read_odt),
    ".eml": Format("e-mail", office.read_eml),
}
SUPPORTED_SUFFIXES = frozenset(FORMATS)
