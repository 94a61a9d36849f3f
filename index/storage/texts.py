"""Document text that stays on disk until a question reads it.

A million-chunk corpus is most of a gigabyte of text; holding it as Python
strings would make a serving process that large before the model loads.
A build writes every document's text, UTF-8, one after another into
``texts.utf8`` and one line of metadata per document (id, title, checksum,
pages, and where its bytes lie) into ``documents.jsonl``. Loading reads only
the metadata: a document's text is read (a positional read, not a mapping,
so it does not linger in the process's memory; see ``filearray``) and
decoded when it is first asked for, and the recently read ones are kept, up
to a budget.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> save([Document("a.txt", "Héllo.", "a", "0" * 64)], folder)
    >>> docs = load(folder)
    >>> docs.ids, docs[0].text, len(docs)
    (['a.txt'], 'Héllo.', 1)
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from index.documents.loaders import Document

TEXTS = "texts.utf8"
METADATA = "documents.jsonl"


class DocumentTexts(Sequence):
    """A read-only sequence of ``Document`` backed by one UTF-8 blob."""

    def __init__(self, metadata: list[dict], blob, cache_chars: int = 64_000_000) -> None:
        self._metadata = metadata
        self._blob = blob  # bytes or a _FileBytes
        self.ids: list[str] = [m["id"] for m in metadata]
        self._cache: OrderedDict[int, Document] = OrderedDict()
        self._cached_chars = 0
        self._cache_chars = cache_chars
        self._lock = threading.Lock()  # the model thread and request threads read concurrently

    def __len__(self) -> int:
        return len(self._metadata)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        with self._lock:
            doc = self._cache.get(i)
            if doc is not None:
                self._cache.move_to_end(i)
                return doc
        m = self._metadata[i]
        text = bytes(self._blob[m["start"] : m["end"]]).decode("utf-8", "surrogatepass")
        doc = Document(id=m["id"], text=text, title=m["title"], sha256=m["sha256"], page_starts=tuple(m["page_starts"]),
                       headings=tuple(tuple(h) for h in m.get("headings", ())))
        with self._lock:
            self._cache[i] = doc
            self._cached_chars += len(text)
            while self._cached_chars > self._cache_chars and len(self._cache) > 1:
                _, old = self._cache.popitem(last=False)
                self._cached_chars -= len(old.text)
        return doc

    def sha256(self, i: int) -> str:
        return self._metadata[i]["sha256"]

    def page_count(self, i: int) -> int:
        """Pages (or slides) of document ``i``, without reading its text."""
        return len(self._metadata[i]["page_starts"])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]


class _FileBytes:
    """Byte ranges of a file, read when sliced."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def __getitem__(self, key: slice) -> bytes:
        parts, at = [], key.start
        while at < key.stop:  # one call reads at most ~2 GB
            part = os.pread(self._fd, key.stop - at, at)
            if not part:
                raise OSError(f"short read at byte {at}")
            parts.append(part)
            at += len(part)
        return b"".join(parts)


def save(documents: Sequence[Document], directory: Path) -> None:
    """Write ``documents`` into ``directory``, one at a time (a build never
    holds a second copy of the corpus)."""
    offset = 0
    with open(directory / TEXTS, "wb") as texts, open(directory / METADATA, "w", encoding="utf-8") as meta:
        for doc in documents:
            data = doc.text.encode("utf-8", "surrogatepass")
            texts.write(data)
            meta.write(json.dumps(_metadata(doc, offset, offset + len(data)), ensure_ascii=False) + "\n")
            offset += len(data)


def _metadata(doc: Document, start: int, end: int) -> dict:
    data = {"id": doc.id, "title": doc.title, "sha256": doc.sha256, "page_starts": list(doc.page_starts),
            "start": start, "end": end}
    if doc.headings:  # written only when there are some: older askdoc reads the file as before
        data["headings"] = [list(h) for h in doc.headings]
    return data


def load(directory: Path, cache_chars: int = 64_000_000) -> DocumentTexts:
    """The exact inverse of ``save``; the text stays on disk until asked for."""
    with open(directory / METADATA, encoding="utf-8") as fh:
        metadata = [json.loads(line) for line in fh if line.strip()]
    size = (directory / TEXTS).stat().st_size
    if metadata and metadata[-1]["end"] != size:
        raise ValueError(f"{TEXTS} holds {size} bytes, the documents need {metadata[-1]['end']}")
    if size == 0:
        return DocumentTexts(metadata, b"", cache_chars)
    return DocumentTexts(metadata, _FileBytes(directory / TEXTS), cache_chars)
