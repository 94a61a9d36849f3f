"""Read a docs folder into plain-text ``Document`` objects.

Every later offset (chunks, sentences, citations) points into
``Document.text``, the *extracted* text, so extraction is done once, here,
and its output is stored in the index verbatim.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from index.errors import DocumentsError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst", ".text"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
OFFICE_KINDS = {".docx": "Word file", ".pptx": "PowerPoint file", ".odt": "OpenDocument file", ".eml": "e-mail"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | set(OFFICE_KINDS)


@dataclass(frozen=True)
class Document:
    """One source file as text.

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


def title_from_name(name: str) -> str:
    """A readable title from a file name.

    >>> title_from_name("reports/Super_Bowl_50.txt")
    'Super Bowl 50'
    """
    stem = Path(name).stem
    return re.sub(r"[_\-]+", " ", stem).strip() or stem


def decode_text(raw: bytes) -> str:
    """Bytes to str: UTF-8 first (BOM tolerated), else the detected encoding.

    Raises ValueError for content that looks binary.
    """
    if b"\x00" in raw[:8192]:
        raise ValueError("binary content")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(raw)
    best = matches.best()
    if best is None:
        raise ValueError("unknown text encoding")
    # Short Western text fits several single-byte code pages equally well;
    # among equally good guesses, Windows-1252 is by far the most common.
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos + 0.01 and match.coherence >= best.coherence - 0.01:
            return str(match)
    return str(best)


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _VisibleText(HTMLParser):
    """Collect the text a browser would show, one block per line."""

    HIDDEN = {"script", "style", "head", "title", "template", "noscript", "svg", "iframe", "object"}
    BLOCKS = {
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article",
        "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
        "dd", "dt", "figcaption", "hr", "main", "nav", "aside", "td", "th",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text and <title> of an HTML page.

    >>> html_to_text("<title>T</title><p>Hi <b>there</b></p><script>x()</script>")
    ('Hi there', 'T')
    """
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(line for line in lines if line)
    return text, " ".join("".join(parser.title_parts).split())


def _pdf_text(path: Path, sha256: str, ocr: bool) -> tuple[str, tuple[int, ...]]:
    """The text of each page, read from its text layer; with ``ocr``,
    pages without one are read by OCR. A PDF with no text at all is a
    ``ValueError`` saying whether ``--ocr`` would help."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path))
        pages = [normalize_newlines(page.extract_text() or "").strip() for page in reader.pages]
    except Exception as exc:  # pypdf raises many types for broken files
        raise ValueError(f"unreadable PDF ({type(exc).__name__})") from exc
    blank = [i for i, text in enumerate(pages) if not text]
    if blank and ocr:
        from index.documents import ocr as reader_of_scans

        for i, text in reader_of_scans.read_pages(path, sha256, blank).items():
            pages[i] = normalize_newlines(text.replace("\f", "")).strip()
    if not any(pages):
        raise ValueError("scanned PDF, OCR found no text" if ocr else "scanned PDF, no text layer: index it with --ocr")
    pages = [dehyphenate(page) for page in pages]
    starts: list[int] = []
    text = ""
    for i, page_text in enumerate(pages):
        if i:
            text += "\n\n"
        starts.append(len(text))
        text += page_text
    return text, tuple(starts)


_LINE_END_HYPHEN = re.compile(r"(\w+)-\n([a-z]\w*)")


def dehyphenate(text: str) -> str:
    """Words a typeset page broke at a line end ("tempera-" / "ture") made
    whole again, the line break kept after them; a compound the text also
    writes with its hyphen elsewhere ("state-of-the-art") keeps it.

    >>> dehyphenate("The tempera-\\nture rose. A well-\\nknown well-known fact.")
    'The temperature\\n rose. A well-known\\n well-known fact.'
    >>> dehyphenate("Page 3-\\n4 and Smith-\\nJones stay.")
    'Page 3-\\n4 and Smith-\\nJones stay.'
    """
    hyphenated = {m.group().lower() for m in re.finditer(r"\w+-\w+", text)}

    def join(match: re.Match) -> str:
        left, right = match.group(1), match.group(2)
        kept = f"{left}-{right}".lower() in hyphenated or left.isdigit()
        return f"{left}-{right}\n" if kept else f"{left}{right}\n"

    return _LINE_END_HYPHEN.sub(join, text)


def _office_text(path: Path, suffix: str, raw: bytes
                 ) -> tuple[str, str, tuple[int, ...], tuple[tuple[int, int], ...]]:
    """(text, title, page starts, headings) of an office file."""
    from index.documents import office

    try:
        if suffix in office.PACKAGE_SUFFIXES:
            office.check_package(path)  # before any parser unpacks it
        if suffix == ".docx":
            text, title, headings = office.docx_text(path)
            return text, title, (), headings
        if suffix == ".pptx":
            return (*office.pptx_text(path), ())
        if suffix == ".odt":
            text, title, headings = office.odt_text(path)
            return text, title, (), headings
        return (*office.eml_text(raw), (), ())
    except office.PackageTooLarge:
        raise
    except Exception as exc:  # each library raises its own types for a broken file
        raise ValueError(f"unreadable {OFFICE_KINDS[suffix]} ({type(exc).__name__})") from exc


def markdown_headings(text: str) -> tuple[tuple[int, int], ...]:
    """``(offset, level)`` of each ATX heading line, outside code fences.

    >>> markdown_headings("# A\\ntext\\n```\\n# not one\\n```\\n## B")
    ((0, 1), (27, 2))
    """
    found, fenced, offset = [], False, 0
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            match = re.match(r"\s{0,3}(#{1,6})\s+\S", line)
            if match:
                found.append((offset, len(match.group(1))))
        offset += len(line) + 1
    return tuple(found)


def _markdown_title(text: str) -> str:
    match = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else ""


def load_document(path: Path, doc_id: str, ocr: bool = False) -> Document:
    """Extract one file (with ``ocr``, scanned PDF pages too). Raises
    ValueError with a short reason when unusable."""
    suffix = path.suffix.lower()
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    title = ""
    page_starts: tuple[int, ...] = ()
    headings: tuple[tuple[int, int], ...] = ()
    if suffix in PDF_SUFFIXES:
        text, page_starts = _pdf_text(path, digest, ocr)
    elif suffix in OFFICE_KINDS:
        text, title, page_starts, headings = _office_text(path, suffix, raw)
    elif suffix in HTML_SUFFIXES:
        text, title = html_to_text(normalize_newlines(decode_text(raw)))
    elif suffix in TEXT_SUFFIXES:
        text = normalize_newlines(decode_text(raw))
        if suffix in {".md", ".markdown"}:
            title = _markdown_title(text)
            headings = markdown_headings(text)
    else:
        raise ValueError(f"unsupported file type {suffix or '(none)'}")
    if not text.strip():
        raise ValueError("empty")
    return Document(
        id=doc_id,
        text=text,
        title=title or title_from_name(doc_id),
        sha256=digest,
        page_starts=page_starts,
        headings=headings,
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
