"""Text for PDF pages that have none: scanned pages read by OCR.

A page is rendered in grey at 300 dpi with pypdfium2 and read by the
``tesseract`` program (Debian's ``tesseract-ocr``; ``ASKDOC_TESSERACT``
names another binary, ``ASKDOC_OCR_LANG`` other languages, e.g.
``eng+deu``). OCR takes seconds a page, and documents are extracted again
at every build, so each page's text is kept in a cache beside the ONNX
graphs, keyed by the PDF's SHA-256: an unchanged scan is read once.

The image goes to tesseract as a PGM file, the simplest format it reads:
no imaging library is needed.

    >>> pgm(np.array([[0, 255]], dtype=np.uint8))[:11]
    b'P5\\n2 1\\n255\\n'
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DPI = 300
SECONDS_PER_PAGE = 120  # a page tesseract has not read by then is given up


class OcrUnavailable(ValueError):
    """No tesseract on this machine: the reason a scanned file is skipped."""


def tesseract() -> str:
    """The tesseract binary, or ``OcrUnavailable`` saying how to get it."""
    found = shutil.which(os.environ.get("ASKDOC_TESSERACT", "tesseract"))
    if not found:
        raise OcrUnavailable("OCR needs tesseract: install it (Debian/Ubuntu: apt install tesseract-ocr)")
    return found


def cache_dir() -> Path:
    """``ASKDOC_OCR_CACHE``, else ``ocr`` in askdoc's cache (``ASKDOC_CACHE``)."""
    if os.environ.get("ASKDOC_OCR_CACHE"):
        return Path(os.environ["ASKDOC_OCR_CACHE"])
    return Path(os.environ.get("ASKDOC_CACHE", Path.home() / ".cache" / "askdoc")) / "ocr"


def pgm(pixels: np.ndarray) -> bytes:
    """A binary PGM image of 8-bit grey ``pixels`` (rows, columns)."""
    height, width = pixels.shape[:2]
    return f"P5\n{width} {height}\n255\n".encode() + np.ascontiguousarray(pixels.reshape(height, width)).tobytes()


def read_pages(path: Path, sha256: str, pages: list[int]) -> dict[int, str]:
    """OCR text of ``pages`` (0-based) of the PDF at ``path``, from the cache
    when this exact file was read before."""
    language = os.environ.get("ASKDOC_OCR_LANG", "eng")
    cached_file = cache_dir() / f"{sha256}-{language}.json"
    try:
        cached = {int(k): v for k, v in json.loads(cached_file.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError):
        cached = {}
    wanted = [p for p in pages if p not in cached]
    if wanted:
        binary = tesseract()
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(str(path))
        try:
            for number in wanted:
                cached[number] = _read_page(binary, document[number], language)
                log.info("read page %d of %s by OCR", number + 1, path.name)
        finally:
            document.close()
        try:
            cached_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached_file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({str(k): v for k, v in cached.items()}), encoding="utf-8")
            os.replace(tmp, cached_file)
        except OSError as exc:  # a read-only home still indexes, only slower next time
            log.warning("cannot keep OCR text in %s (%s)", cached_file.parent, exc)
    return {p: cached[p] for p in pages}


def _read_page(binary: str, page, language: str) -> str:
    pixels = page.render(scale=DPI / 72, grayscale=True).to_numpy()
    with tempfile.TemporaryDirectory(prefix="askdoc-ocr-") as tmp:
        image = Path(tmp) / "page.pgm"
        image.write_bytes(pgm(pixels))
        try:
            done = subprocess.run([binary, str(image), "stdout", "-l", language, "--dpi", str(DPI)],
                                  capture_output=True, timeout=SECONDS_PER_PAGE)
        except subprocess.TimeoutExpired as exc:
            raise ValueError(f"OCR took longer than {SECONDS_PER_PAGE} s on one page") from exc
    if done.returncode:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ValueError(f"tesseract failed ({message[-1] if message else f'exit {done.returncode}'})")
    return done.stdout.decode("utf-8", "replace")
