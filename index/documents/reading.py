"""What a reader gets (``RawFile``) and gives back (``Extracted``): the
contract every format's reader keeps (``formats.FORMATS``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RawFile:
    """A file to read: its path, its bytes, their SHA-256, and whether
    scanned pages may be read by OCR."""

    path: Path
    raw: bytes
    sha256: str
    ocr: bool = False


@dataclass(frozen=True)
class Extracted:
    """A file's text as the index stores it (every later offset points into
    it), its own title if it has one, where each page or slide begins, and
    its headings as ``(offset, level)``."""

    text: str
    title: str = ""
    page_starts: tuple[int, ...] = ()
    headings: tuple[tuple[int, int], ...] = ()
