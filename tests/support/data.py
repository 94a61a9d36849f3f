"""Paths of the repository and the shared evaluation sets, and the small
data makers tests use (a SQuAD-format set as a docs folder, a PDF)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from assistant.evaluate import Case

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data"
SHARED = ROOT.parent / "shared"
XQUAD = SHARED / "eval" / "xquad-en" / "xquad.en.json"
SQUAD2 = SHARED / "eval" / "squad2-dev" / "dev-v2.0.json"
DEFAULT_DOCS = ROOT / "docs"


def showing_short_answers(folder: Path, short_answer: float = 0.5) -> Path:
    """A copy of the shipped params.json whose reader shows its short answer
    from ``short_answer`` (for ``ASKDOC_PARAMS``), written into ``folder``.

    Tests of how a short answer is given and shown use it, so that they do
    not hang on where the fitted threshold lies (0.79 for reader version 1,
    whose right spans on the default article read 0.70–0.78; 0.67 for
    version 2). How often the shipped settings give one is measured on
    XQuAD (tests/assistant/test_quality.py).
    """
    from dataclasses import replace

    from assistant.params import Params

    shipped = Params.load()
    assert shipped.reader is not None, "params.json answers without a reader"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "params-short-answers.json"
    path.write_text(replace(shipped, reader=replace(shipped.reader, short_answer=short_answer)).to_json(), encoding="utf-8")
    return path


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: str | bytes} into ``folder`` (made if missing); return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def article_part(title: str) -> str:
    """Which half of a data set an article belongs to, fixed by its title:
    ``fit`` (may be looked at while tuning) or ``held-out`` (only reported).

    >>> article_part("Super_Bowl_50"), article_part("Warsaw")
    ('fit', 'held-out')
    """
    return "fit" if zlib.crc32(title.encode("utf-8")) % 2 else "held-out"


def squad_questions(squad_json: Path, docs_dir: Path, layout, part: str | None = None,
                    unanswerable: bool = False) -> list[Case]:
    """Write one text file per article of a SQuAD-format set (of ``part``:
    ``fit``, ``held-out``, None for all) into ``docs_dir``, as ``layout``
    lays it out; return its questions, and with ``unanswerable`` SQuAD 2.0's
    unanswerable ones as well.

    ``layout(article)`` gives the document's text and, for each paragraph,
    where its text lies in the document (None for a paragraph left out); a
    question is kept when one of its gold answers stays an exact substring.
    """
    data = json.loads(Path(squad_json).read_text(encoding="utf-8"))
    docs_dir.mkdir(parents=True, exist_ok=True)
    cases = []
    for article in data["data"]:
        if part is not None and article_part(article["title"]) != part:
            continue
        doc_id = f"{article['title']}.txt"
        text, placed = layout(article)
        (docs_dir / doc_id).write_text(text, encoding="utf-8")
        for paragraph, place in zip(article["paragraphs"], placed):
            for qa in paragraph["qas"]:
                if qa.get("is_impossible"):
                    if unanswerable:
                        cases.append(Case(question=qa["question"].strip(), answerable=False))
                    continue
                facts = [a["text"] for a in qa["answers"] if place(a["answer_start"], len(a["text"]))]
                if facts:
                    cases.append(Case(question=qa["question"].strip(), facts=tuple(dict.fromkeys(facts)),
                                      source=doc_id))
    return cases


def paragraphs_layout(article: dict):
    """Paragraphs joined by blank lines: every gold answer stays in place."""
    text = "\n\n".join(p["context"] for p in article["paragraphs"]) + "\n"
    return text, [lambda start, length: True for _ in article["paragraphs"]]


def news_layout(article: dict):
    """As news is laid out: the title as the first line, then every sentence
    as its own paragraph; an answer spanning two sentences no longer stands."""
    from index.documents.segment import split_sentences

    lines, placed = [article["title"].replace("_", " ")], []
    for paragraph in article["paragraphs"]:
        context = paragraph["context"]
        spans = [(s.start, s.end) for s in split_sentences(context)]
        lines.extend(context[a:b] for a, b in spans)
        placed.append(lambda start, length, spans=spans: any(a <= start and start + length <= b for a, b in spans))
    return "\n\n".join(lines) + "\n", placed


def wrapped_layout(article: dict, width: int = 72):
    """As plain-text e-mail and PDF text come: the title, then each paragraph
    hard-wrapped at ``width`` columns, paragraphs apart by blank lines."""
    import textwrap

    text = "\n\n".join([article["title"].replace("_", " ")]
                       + [textwrap.fill(p["context"], width) for p in article["paragraphs"]]) + "\n"
    return text, [lambda start, length: True for _ in article["paragraphs"]]


def wrapped_questions(squad_json: Path, docs_dir: Path, part: str | None = None,
                      unanswerable: bool = False) -> list[Case]:
    """A SQuAD-format set hard-wrapped at 72 columns (``wrapped_layout``)."""
    return squad_questions(squad_json, docs_dir, wrapped_layout, part, unanswerable)


def xquad_questions(squad_json: Path, docs_dir: Path, part: str | None = None,
                    unanswerable: bool = False) -> list[Case]:
    """A SQuAD-format set in paragraph layout (``squad_questions``)."""
    return squad_questions(squad_json, docs_dir, paragraphs_layout, part, unanswerable)


def news_questions(squad_json: Path, docs_dir: Path, part: str | None = None,
                   unanswerable: bool = False) -> list[Case]:
    """A SQuAD-format set in news layout (``squad_questions``, ``news_layout``)."""
    return squad_questions(squad_json, docs_dir, news_layout, part, unanswerable)


def make_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF: each page's text in Helvetica 12 pt, a line per
    ``\n`` (16 pt apart, from the top left of a US Letter page)."""
    objects: list[bytes] = []
    count = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    font_ref = 3 + 2 * count
    for i, text in enumerate(pages):
        lines = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in text.split("\n")]
        stream = ("BT /F1 12 Tf 72 720 Td " + " 0 -16 Td ".join(f"({line}) Tj" for line in lines) + " ET").encode()
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


def make_scanned_pdf(pages: list[str], dpi: int = 200) -> bytes:
    """A PDF of page images and no text layer, as a scanner makes: each
    page of ``make_pdf(pages)`` rendered to a picture."""
    import io

    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(make_pdf(pages))
    images = [document[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(len(document))]
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out.getvalue()
