"""Read a docs folder into plain-text ``Document`` objects, each file by its
format's reader (``formats.FORMATS``).

Every later offset (chunks, sentences, citations) points into
``Document.text``, the *extracted* text, so extraction is done once, here,
and its output is stored in the index verbatim.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from index.documents.formats import FORMATS, SUPPORTED_SUFFIXES
from index.documents.reading import RawFile
from index.documents.text import title_from_name
from index.errors import DocumentsError

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Document:
    """One file as text.

    ``page_starts`` is empty except for PDFs, where entry *i* is the offset in
    ``text`` at which page *i + 1* begins (and slides). ``headings`` are
    ``(offset, level)`` of the heading lines a format marks as such (Word and
    OpenDocument heading styles, Markdown's ``#``): level 0 is a title, 1 a
    top heading.
    """

    id: str
    text: str
    title: str
    sha256: str
    page_starts: tuple[int, ...] = field(default=())
    headings: tuple[tuple[int, int], ...] = field(default=())

    def section_at(self, offset: int) -> str:
        """The headings above ``offset``, outermost first ("" when none).

        >>> from index.documents.text import markdown_headings
        >>> text = "# Leave\\n\\nIntro.\\n\\n## Carry-over\\n\\nFive days.\\n\\n## Sick leave\\n\\nPaid."
        >>> doc = Document("a.md", text, "t", "", headings=markdown_headings(text))
        >>> doc.section_at(text.index("Five")), doc.section_at(text.index("Paid")), doc.section_at(10)
        ('Leave › Carry-over', 'Leave › Sick leave', 'Leave')
        """
        path: list[tuple[int, str]] = []
        for start, level in self.headings:
            if start > offset:
                break
            end = self.text.find("\n", start)
            line = self.text[start : len(self.text) if end < 0 else end].strip().lstrip("#").strip()
            path = [(lvl, title) for lvl, title in path if lvl < level] + [(level, line)]
        return " › ".join(title for _, title in path if title)

    def page_at(self, offset: int) -> int | None:
        """1-based page holding ``offset``, or None for paged-less documents."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
            else:
                break
        return page + 1


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def load_document(path: Path, doc_id: str, ocr: bool = False) -> Document:
    """Extract one file by its format's reader (with ``ocr``, scanned PDF
    pages too). Raises ValueError with a short reason when unusable."""
    suffix = path.suffix.lower()
    form = FORMATS.get(suffix)
    if form is None:
        raise ValueError(f"unsupported file type {suffix or '(none)'}")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    extracted = form.read(RawFile(path, raw, digest, ocr))
    if not extracted.text.strip():
        raise ValueError("empty")
    return Document(
        id=doc_id,
        text=extracted.text,
        title=extracted.title or title_from_name(doc_id),
        sha256=digest,
        page_starts=extracted.page_starts,
        headings=extracted.headings,
    )


@dataclass(frozen=True)
class SourceFile:
    """A file in the docs folder as the walk found it: the stat a staleness
    check compares, taken once."""

    path: Path
    id: str  # the path relative to the docs folder, with forward slashes
    size: int
    mtime_ns: int


def iter_files(root: Path) -> list[SourceFile]:
    """All visible files under ``root``, sorted by id, each with its stat.

    Hidden files and folders are left out; links to folders are not followed,
    so a link loop cannot make the walk endless. A file that cannot be
    stat'ed (a dangling link) is listed with size and time 0: loading it
    names the problem.
    """
    found: list[SourceFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            try:
                stat = path.stat()
                size, mtime_ns = stat.st_size, stat.st_mtime_ns
            except OSError:
                size = mtime_ns = 0
            found.append(SourceFile(path, path.relative_to(root).as_posix(), size, mtime_ns))
    return sorted(found, key=lambda f: f.id)


def load_folder(root: Path, files: list[SourceFile] | None = None, ocr: bool = False
                ) -> tuple[list[Document], list[Skipped]]:
    """Load every readable document under ``root`` (``files``: the folder's
    listing when the caller already walked it; ``ocr``: read scanned PDF
    pages by OCR).

    Unreadable files are returned as ``Skipped`` and logged in one warning;
    only a folder with nothing usable at all is an error.
    """
    root = Path(root)
    if not root.is_dir():
        raise DocumentsError(f"docs folder not found: {root}")
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for file in iter_files(root) if files is None else files:
        try:
            documents.append(load_document(file.path, file.id, ocr))
        except (ValueError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            skipped.append(Skipped(file.id, reason))
    if skipped:
        log.warning(
            "skipped %d file(s): %s",
            len(skipped),
            "; ".join(f"{s.path} ({s.reason})" for s in skipped),
        )
    if not documents:
        raise DocumentsError(
            f"no readable documents in {root} (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"
        )
    return documents, skipped
