"""Text out of the files an intranet keeps: Word (.docx), PowerPoint (.pptx),
OpenDocument text (.odt) and e-mail (.eml).

Each extractor returns the text exactly as it is stored in the index (every
later offset points into it), a title, and for slides where each slide
begins (kept like a PDF's pages, so a citation names its slide). Blocks
(paragraphs, table rows, slide shapes) are separated by blank lines, so a
heading stands on a line of its own and the chunker sees it as one.
"""

from __future__ import annotations

import email
import email.policy
import os
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable

from index.documents.reading import Extracted, RawFile
from index.documents.text import html_to_text, join_pages, normalize_newlines

PACKAGE_SUFFIXES = {".docx", ".pptx", ".odt"}  # zip packages of XML parts
# A 400 KB file can unpack to gigabytes: past these a package is not opened.
MAX_UNPACKED_MB = 200
MAX_MEMBERS = 10_000


def package_limits() -> tuple[int, int]:
    """(unpacked bytes, members) a package may have: ``ASKDOC_MAX_UNPACKED_MB``
    and ``ASKDOC_MAX_PACKAGE_MEMBERS``, else 200 MB and 10,000."""
    def number(name: str, default: int) -> int:
        value = os.environ.get(name, "")
        return int(value) if value.isdigit() and int(value) > 0 else default

    return number("ASKDOC_MAX_UNPACKED_MB", MAX_UNPACKED_MB) * 2**20, number("ASKDOC_MAX_PACKAGE_MEMBERS", MAX_MEMBERS)


class PackageTooLarge(ValueError):
    """A package past ``package_limits()``: its message names the limit."""


def check_package(file: Path | BinaryIO) -> None:
    """``PackageTooLarge`` for a zip package that unpacks past
    ``package_limits()`` (``zipfile.BadZipFile`` for no zip at all); read
    from its directory alone, before anything is unpacked. (Members cannot
    unpack past the sizes the directory declares: Python's zip reader stops
    there.)

    >>> import io
    >>> packed = io.BytesIO()
    >>> with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as z:
    ...     for part in ("[Content_Types].xml", "word/document.xml", "word/styles.xml"):
    ...         z.writestr(part, "<w/>" * 100)
    >>> check_package(packed)
    >>> os.environ["ASKDOC_MAX_PACKAGE_MEMBERS"] = "2"
    >>> check_package(packed)
    Traceback (most recent call last):
    index.documents.office.PackageTooLarge: it holds 3 parts, more than 2 (ASKDOC_MAX_PACKAGE_MEMBERS)
    >>> del os.environ["ASKDOC_MAX_PACKAGE_MEMBERS"]
    """
    max_bytes, max_members = package_limits()
    with zipfile.ZipFile(file) as package:
        members = package.infolist()
    if len(members) > max_members:
        raise PackageTooLarge(f"it holds {len(members):,} parts, more than {max_members:,} (ASKDOC_MAX_PACKAGE_MEMBERS)")
    unpacked = sum(m.file_size for m in members)
    if unpacked > max_bytes:
        raise PackageTooLarge(f"it unpacks to {unpacked / 2**20:,.0f} MB, more than {max_bytes // 2**20:,} MB "
                         "(ASKDOC_MAX_UNPACKED_MB)")


def _join(blocks: list[str]) -> str:
    """Blocks of text, trimmed, empty ones left out, a blank line between.

    >>> _join(["  Title ", "", "Body text.\\n"])
    'Title\\n\\nBody text.'
    """
    return "\n\n".join(b.strip() for b in blocks if b and b.strip())


def _join_levelled(blocks: list[tuple[str, int | None]]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``_join`` of ``(text, heading level or None)`` blocks, and where each
    heading landed: ``(offset, level)``.

    >>> _join_levelled([("Leave", 1), ("", None), (" Five days. ", None), ("Carry-over", 2)])
    ('Leave\\n\\nFive days.\\n\\nCarry-over', ((0, 1), (19, 2)))
    """
    kept = [(b.strip(), level) for b, level in blocks if b and b.strip()]
    headings, offset = [], 0
    for text, level in kept:
        if level is not None:
            headings.append((offset, level))
        offset += len(text) + 2
    return "\n\n".join(text for text, _ in kept), tuple(headings)


def _heading_level(style: str) -> int | None:
    """A Word paragraph style's heading level ("Title" is 0).

    >>> _heading_level("Heading 2"), _heading_level("Title"), _heading_level("Normal"), _heading_level("Heading")
    (2, 0, None, 1)
    """
    if style == "Title":
        return 0
    if style.startswith("Heading"):
        digits = style[len("Heading"):].strip()
        return int(digits) if digits.isdigit() else 1
    return None


def docx_text(path: Path) -> tuple[str, str, tuple[tuple[int, int], ...]]:
    """Paragraphs and tables in reading order (a table row is its cells
    separated by " | "); the title is the document's, else its first
    heading; and the headings' offsets and levels."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(str(path))
    blocks, title = [], document.core_properties.title or ""
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, document)
            style = paragraph.style.name if paragraph.style is not None else ""
            level = _heading_level(style)
            if not title and level is not None and paragraph.text.strip():
                title = paragraph.text.strip()
            blocks.append((paragraph.text, level))
        elif tag == "tbl":
            for row in Table(element, document).rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells))  # merged cells repeat
                blocks.append((" | ".join(c for c in cells if c), None))
    text, headings = _join_levelled(blocks)
    return text, title, headings


def pptx_text(path: Path) -> tuple[str, str, tuple[int, ...]]:
    """Slide by slide: its title, its other text frames and tables, its notes;
    and the offset at which each slide's text begins."""
    from pptx import Presentation

    deck = Presentation(str(path))
    slides, title = [], deck.core_properties.title or ""
    for slide in deck.slides:
        blocks = []
        heading = slide.shapes.title
        if heading is not None and heading.has_text_frame:
            blocks.append(heading.text_frame.text)
            title = title or heading.text_frame.text.strip()
        for shape in slide.shapes:
            if shape is heading:
                continue
            if shape.has_text_frame:
                blocks.extend(p.text for p in shape.text_frame.paragraphs)
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    blocks.append(" | ".join(c.text.strip() for c in row.cells if c.text.strip()))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            blocks.append(slide.notes_slide.notes_text_frame.text)
        slides.append(_join(blocks))
    text, starts = join_pages(slides)
    return text, title, starts


def odt_text(path: Path) -> tuple[str, str, tuple[tuple[int, int], ...]]:
    """Headings and paragraphs in reading order; the first heading is the
    title; and the headings' offsets and outline levels."""
    from odf import teletype
    from odf.opendocument import load

    document = load(str(path))
    blocks, title = [], ""
    for element in _walk(document.text):
        name = element.qname[1] if hasattr(element, "qname") else ""
        if name in ("h", "p"):
            content = teletype.extractText(element)
            if name == "h" and not title and content.strip():
                title = content.strip()
            level = None
            if name == "h":
                outline = element.getAttribute("outlinelevel")
                level = int(outline) if outline and str(outline).isdigit() else 1
            blocks.append((content, level))
    text, headings = _join_levelled(blocks)
    return text, title, headings


def _walk(node):
    """Text elements (headings and paragraphs) under ``node`` in document order,
    without descending into them (a paragraph's spans are its own text)."""
    for child in getattr(node, "childNodes", []):
        name = child.qname[1] if hasattr(child, "qname") else ""
        if name in ("h", "p"):
            yield child
        else:
            yield from _walk(child)


def eml_text(raw: bytes) -> tuple[str, str]:
    """Subject, sender and date as the first lines, then the plain-text body
    (or the HTML one, as visible text); the subject is the title."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    subject = str(message.get("subject", "") or "").strip()
    header = [f"{name}: {message.get(name)}" for name in ("Subject", "From", "Date") if message.get(name)]
    part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if part is not None:
        body = normalize_newlines(part.get_content())
        if part.get_content_type() == "text/html":
            body = html_to_text(body)[0]
    return _join(["\n".join(header), body]), subject


def _reader(kind: str, extract: Callable[[RawFile], Extracted], package: bool = True) -> Callable[[RawFile], Extracted]:
    """``extract`` with a broken file's library error as one reason; a
    package is checked against its limits before any parser unpacks it."""
    def read(file: RawFile) -> Extracted:
        try:
            if package:
                check_package(file.path)
            return extract(file)
        except PackageTooLarge:
            raise
        except Exception as exc:  # each library raises its own types for a broken file
            raise ValueError(f"unreadable {kind} ({type(exc).__name__})") from exc

    return read


def _docx(file: RawFile) -> Extracted:
    text, title, headings = docx_text(file.path)
    return Extracted(text, title, headings=headings)


def _pptx(file: RawFile) -> Extracted:
    text, title, starts = pptx_text(file.path)
    return Extracted(text, title, page_starts=starts)


def _odt(file: RawFile) -> Extracted:
    text, title, headings = odt_text(file.path)
    return Extracted(text, title, headings=headings)


def _eml(file: RawFile) -> Extracted:
    text, title = eml_text(file.raw)
    return Extracted(text, title)


read_docx = _reader("Word file", _docx)
read_pptx = _reader("PowerPoint file", _pptx)
read_odt = _reader("OpenDocument file", _odt)
read_eml = _reader("e-mail", _eml, package=False)
