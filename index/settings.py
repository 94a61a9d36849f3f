"""What decides an index's contents, recorded in its manifest and read back:
the model, the chunking, the kind of FAISS index, the engine that holds the
vectors, and the documents folder.

``BuildSettings.resolve`` is the one place where a command's explicit
choices meet what the index already records: anything not asked for keeps
the index's value, so no default can quietly change (or delete) what a
long build made. ``docs_folder`` decides which folder a command reads.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from index.documents.chunking import ChunkSettings
from index.engines.factory import check_kind
from index.errors import DocsMismatchError

log = logging.getLogger(__name__)

DEFAULT_DOCS = Path("docs")


@dataclass(frozen=True)
class BuildSettings:
    """Everything a build was asked for; the manifest records one."""

    model_id: str
    chunk_size: int = ChunkSettings().size
    chunk_overlap: int = ChunkSettings().overlap
    vector_index: str = "auto"  # what was asked for: auto, exact or approximate (see vectors.py)
    docs_dir: str = ""  # the documents folder, absolute; "" in indexes built before askdoc recorded it
    docs_dir_relative: str = ""  # the same folder relative to the index, when both live in one tree
    ocr: bool = False  # pages of PDFs without a text layer are read by OCR (tesseract)
    store: str = "faiss"  # the engine that searches the vectors (engines.factory.ENGINES)
    store_uri: str = ""  # where that engine runs: "" for embedded (inside the index), or a server's URL

    @property
    def chunking(self) -> ChunkSettings:
        return ChunkSettings(self.chunk_size, self.chunk_overlap)

    def same_vectors(self, other: "BuildSettings") -> bool:
        """Would ``other`` embed every document exactly as these settings do?
        (OCR counts: it changes the text of an unchanged PDF.)"""
        return not self.vectors_change(other)

    def vectors_change(self, other: "BuildSettings") -> str:
        """What differs between the two that forces re-embedding ("" when nothing).

        >>> BuildSettings("a").vectors_change(BuildSettings("b"))
        'model a -> b'
        >>> BuildSettings("a").vectors_change(BuildSettings("a", chunk_size=500))
        'chunking 800/150 -> 500/150'
        """
        if self.model_id != other.model_id:
            return f"model {self.model_id} -> {other.model_id}"
        if (self.chunk_size, self.chunk_overlap) != (other.chunk_size, other.chunk_overlap):
            return f"chunking {self.chunk_size}/{self.chunk_overlap} -> {other.chunk_size}/{other.chunk_overlap}"
        if self.ocr != other.ocr:
            return f"OCR {'on' if self.ocr else 'off'} -> {'on' if other.ocr else 'off'}"
        return ""

    def with_docs(self, docs_dir: Path, root: Path) -> "BuildSettings":
        """These settings for documents read from ``docs_dir`` into the index at ``root``."""
        docs, index = Path(docs_dir).resolve(), Path(root).resolve()
        shared = os.path.commonpath([docs, index])
        relative = os.path.relpath(docs, index) if shared != os.path.sep else ""
        return replace(self, docs_dir=str(docs), docs_dir_relative=relative)

    def own_docs(self, root: Path) -> Path | None:
        """The folder this index was built from: the recorded absolute path, or
        the relative one when only that exists (a moved checkout); None when
        the index predates the record."""
        if not self.docs_dir:
            return None
        absolute = Path(self.docs_dir)
        if not absolute.is_dir() and self.docs_dir_relative:
            moved = (Path(root).resolve() / self.docs_dir_relative).resolve()
            if moved.is_dir():
                return moved
        return absolute

    @classmethod
    def resolve(cls, previous: "BuildSettings | None", model_id: str, chunking: ChunkSettings | None = None,
                chunk_size: int | None = None, chunk_overlap: int | None = None,
                vector_index: str | None = None, ocr: bool | None = None, store: str | None = None,
                store_uri: str | None = None) -> "BuildSettings":
        """The settings of a new build: what was asked for explicitly, else what
        the previous build recorded, else the defaults. A new model keeps the
        index's chunking (running ``index`` with a new model re-embeds, nothing more).

        >>> old = BuildSettings("m", 500, 50, "exact", "/docs")
        >>> BuildSettings.resolve(old, "m", chunk_size=300)
        BuildSettings(model_id='m', chunk_size=300, chunk_overlap=50, vector_index='exact', docs_dir='/docs', \
docs_dir_relative='', ocr=False, store='faiss', store_uri='')
        >>> BuildSettings.resolve(None, "m").chunking == ChunkSettings()
        True
        """
        base = previous or cls(model_id)
        if chunking is not None:
            chunk_size, chunk_overlap = chunking.size, chunking.overlap
        size = base.chunk_size if chunk_size is None else chunk_size
        overlap = base.chunk_overlap if chunk_overlap is None else chunk_overlap
        ChunkSettings(size, overlap)  # a bad combination fails here, before any work
        store = check_kind(store or base.store)
        # A new engine without an address is the embedded one, not the old engine's server.
        uri = store_uri if store_uri is not None else (base.store_uri if store == base.store else "")
        return replace(base, model_id=model_id, chunk_size=size, chunk_overlap=overlap,
                       vector_index=vector_index or base.vector_index, ocr=base.ocr if ocr is None else ocr,
                       store=store, store_uri=uri)


def same_folder(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def docs_folder(root: Path, requested: Path | None, recorded: BuildSettings | None, retarget: bool) -> Path | None:
    """The documents folder a command works on.

    ``requested`` is an explicit ``--docs`` (or ``ASKDOC_DOCS``), None when
    neither was given; ``recorded`` the index's settings (None: no index yet).
    Without a request the index's own folder is used, ``./docs`` for a new
    index, and None for an index that predates the record (it is then served
    as it is, never refreshed from a guess). A request for another folder
    than the index's is an error unless ``retarget`` (``askdoc index``).
    """
    if recorded is None:
        return requested or DEFAULT_DOCS
    own = recorded.own_docs(root)
    if requested is None:
        return own
    if own is None or same_folder(requested, own):
        return requested
    if retarget:
        log.warning("re-targeting the index in %s from %s to %s", root, own, Path(requested).resolve())
        return requested
    raise DocsMismatchError(
        f"the index in {root} was built from {own}, not {Path(requested).resolve()}; leave out --docs to use the "
        f"index's own folder, or re-target it on purpose with: askdoc index --docs {requested} --index {root}"
    )
