"""The index on disk and in memory.

An index directory holds complete builds side by side and a ``current``
link naming the live one::

    .askdoc/index/
        current -> build-20261127T201500-1234
        build-20261127T201500-1234/
            manifest.json        format, model, chunking, documents, build time
            documents.jsonl      id, title, checksum, pages of every document
            texts.utf8           their extracted text, read on demand (docstore)
            spans.npz            sentence and chunk tables (offsets, owners)
            chunk_vectors.npy    one unit vector per chunk
            sentence_vectors.npy one unit vector per sentence
            chunks.faiss         FAISS index over chunk vectors (the default engine)
            engine.json          names the build's collections instead, with --store milvus|qdrant
            milvus.db, qdrant/   where the embedded engine keeps them
            bm25_chunks/ bm25_sentences/

The vectors' ``.npy`` files stay in a build whatever its engine: a refresh
copies unchanged documents' vectors from them without asking the engine.

A new build is written beside the live one and ``current`` is swapped with
one atomic rename, so a crash at any point leaves the previous build whole
and a reader never sees a half-written index.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index import __version__

from index.storage import texts
from index.storage.texts import DocumentTexts
from index.engines import factory
from index.engines.base import Engine
from index.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, IndexStateError
from index.storage.filearray import open_rows
from index.storage.lexical import LexicalIndex
from index.storage.tables import Tables
from index.documents.loaders import Document
from index.settings import BuildSettings

log = logging.getLogger(__name__)

CHUNK_VECTORS = "chunk_vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
# 2: document text in texts.utf8, read on demand; 3: chunk vectors pooled from sentences; 4: lines that are not
# sentences quotable, boilerplate marked
FORMAT_VERSION = 4
CURRENT = "current"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DocumentEntry:
    """What the manifest remembers of a source file, for staleness checks."""

    id: str
    sha256: str
    size: int
    mtime_ns: int
    indexed_at: str = ""  # when its text was last read and embedded (UTC, ISO 8601)
    reason: str = ""  # why a skipped file was skipped


@dataclass(frozen=True)
class Manifest:
    settings: BuildSettings
    dimension: int
    documents: tuple[DocumentEntry, ...]
    chunks: int
    sentences: int
    built_at: str
    format_version: int = FORMAT_VERSION
    askdoc_version: str = __version__
    faiss_index: str = "Flat"  # the FAISS factory string built ("" with another engine)
    faiss_nprobe: int = 0
    faiss_recall_at_10: float = 1.0
    skipped: tuple[DocumentEntry, ...] = ()
    encoder: str = ""  # what computed the vectors: torch, onnx-fp32 (the same vectors), onnx-int8

    @property
    def model_id(self) -> str:
        return self.settings.model_id

    @property
    def vector_index(self) -> str:
        return self.settings.vector_index

    def save(self, build: Path) -> None:
        (Path(build) / MANIFEST).write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, build: Path) -> "Manifest":
        """The manifest ``save`` wrote into ``build``."""
        data = json.loads((Path(build) / MANIFEST).read_text(encoding="utf-8"))
        for key in ("documents", "skipped"):
            data[key] = tuple(DocumentEntry(**d) for d in data.get(key, ()))
        if "settings" not in data:  # written before the settings were grouped: same files, same format
            data["settings"] = {k: data.pop(k) for k in ("model_id", "chunk_size", "chunk_overlap", "vector_index")
                                if k in data}
        data["settings"] = BuildSettings(**data["settings"])
        return cls(**data)




@dataclass
class Index:
    """Everything a query needs, loaded from one build directory."""

    manifest: Manifest
    documents: Sequence[Document]  # a list while building, a DocumentTexts once loaded
    tables: Tables
    engine: Engine  # searches chunks and reads vectors (engines.py)
    chunk_lexical: LexicalIndex
    sentence_lexical: LexicalIndex
    path: Path | None = None
    doc_ids: list[str] = field(init=False, repr=False)
    _by_id: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Ids without reading any text: a loaded store maps it lazily.
        self.doc_ids = list(self.documents.ids) if isinstance(self.documents, DocumentTexts) else [d.id for d in self.documents]
        self._by_id = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}

    @property
    def chunk_vectors(self):
        return self.engine.chunk_vectors

    @property
    def sentence_vectors(self):
        return self.engine.sentence_vectors

    @property
    def chunk_count(self) -> int:
        return len(self.tables.chunk_first)

    @property
    def sentence_count(self) -> int:
        return len(self.tables.sent_start)

    def document(self, doc_id: str) -> Document:
        return self.documents[self._by_id[doc_id]]

    def sentence_text(self, i: int) -> str:
        t = self.tables
        return self.documents[t.sent_doc[i]].text[t.sent_start[i] : t.sent_end[i]]

    def sentence_texts(self, rows) -> list[str]:
        """Texts of the sentences ``rows``: three gathers for all of them,
        where ``sentence_text`` costs three reads each."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return []
        t = self.tables
        docs, starts, ends = t.sent_doc[rows].tolist(), t.sent_start[rows].tolist(), t.sent_end[rows].tolist()
        texts = {d: self.documents[d].text for d in set(docs)}
        return [texts[d][a:b] for d, a, b in zip(docs, starts, ends)]

    def chunk_text(self, j: int) -> str:
        t = self.tables
        first, last = t.chunk_first[j], t.chunk_last[j]
        return self.documents[t.sent_doc[first]].text[t.sent_start[first] : t.sent_end[last]]


def write_build(index: Index, directory: Path) -> None:
    """Write every part of ``index`` into the build ``directory``.

    Vectors a build already wrote there (see ``build._write_vectors``) are
    left as they are.
    """
    directory.mkdir(parents=True, exist_ok=True)
    texts.save(index.documents, directory)
    index.tables.save(directory)
    for name, array in ((CHUNK_VECTORS, index.chunk_vectors), (SENTENCE_VECTORS, index.sentence_vectors)):
        if not (directory / name).exists():  # a build's own vectors are written there as it embeds
            np.save(directory / name, np.asarray(array[:]))
    index.engine.save(directory)
    index.chunk_lexical.save(directory / "bm25_chunks")
    index.sentence_lexical.save(directory / "bm25_sentences")
    # The manifest goes last: a build directory without one is incomplete.
    index.manifest.save(directory)
    _fsync_tree(directory)


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        # Not lock files: closing a descriptor of a file this process holds
        # a POSIX lock on releases the lock (an embedded engine's, Milvus Lite's).
        if path.is_file() and not path.name.startswith("."):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def current_build(root: Path) -> Path | None:
    """The live build directory under an index root, or None."""
    link = root / CURRENT
    if not link.is_symlink() and not link.exists():
        return None
    target = root / os.readlink(link) if link.is_symlink() else link
    return target if (target / MANIFEST).exists() else None


def read_manifest(root: Path) -> Manifest | None:
    build = current_build(root)
    if build is None:
        return None
    try:
        return Manifest.load(build)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexCorruptError(f"index manifest in {build} is unreadable ({exc}); rebuild with: askdoc index --rebuild") from exc


def new_build(root: Path) -> Path:
    """A fresh, empty build directory under ``root`` (incomplete, and so
    ignored and eventually removed, until ``save`` gives it a manifest)."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    build = root / f"build-{stamp}-{os.getpid()}-{time.monotonic_ns() % 100000}"
    build.mkdir()
    return build


def save(index: Index, root: Path, build: Path | None = None) -> Path:
    """Save ``index`` as a new build under ``root`` (into ``build`` when the
    caller already started one) and make it current, atomically: a reader
    sees the previous build or this one, whole."""
    build = build or new_build(root)
    name = build.name
    write_build(index, build)
    tmp_link = root / f".{CURRENT}.{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    os.symlink(name, tmp_link)
    os.replace(tmp_link, root / CURRENT)
    _remove_old_builds(root, keep=name)
    index.path = build
    return build


def _remove_old_builds(root: Path, keep: str) -> None:
    """Delete all builds but the live one and the newest complete one before it.

    Runs under the build lock, so no other build is being written. A reader
    that opened an older build keeps its open and mapped files; keeping one
    previous build lets a slow reader finish its load. Half-written builds
    left by a killed run (no manifest) and stray temporary links go too.
    """
    others = sorted((p for p in root.glob("build-*") if p.name != keep), key=lambda p: p.stat().st_mtime, reverse=True)
    complete = [p for p in others if (p / MANIFEST).exists()]
    spare = complete[0] if complete else None
    for old in others:
        if old != spare:
            factory.drop(old)
            shutil.rmtree(old, ignore_errors=True)
    for link in root.glob(f".{CURRENT}.*"):
        if link.is_symlink():
            link.unlink(missing_ok=True)


def saved_vectors(build: Path):
    """(chunk vectors, sentence vectors) from a build's own files, whatever its engine."""
    return open_rows(build / CHUNK_VECTORS), open_rows(build / SENTENCE_VECTORS)


def check_model(manifest: Manifest, model_id: str, root: Path) -> None:
    if manifest.model_id != model_id:
        raise IndexMismatchError(
            f"the index in {root} was built with model {manifest.model_id!r}, but the configured model is "
            f"{model_id!r}; re-embed it with: askdoc index --index {root} --model '{model_id}' "
            f"(or configure the index's model with --model / ASKDOC_MODEL)"
        )


def load(root: Path, model_id: str | None = None) -> Index:
    """Load the current build under ``root`` (the exact inverse of ``save``).

    With ``model_id``, refuse an index embedded by another model. An
    engine other than FAISS is not contacted until a question needs it.
    """
    root = Path(root)
    build = current_build(root)
    if build is None:
        raise IndexMissingError(f"no index in {root}; build one with: askdoc index --index {root}")
    manifest = read_manifest(root)
    assert manifest is not None
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index in {root} has format {manifest.format_version}, this askdoc reads {FORMAT_VERSION}; "
            f"rebuild with: askdoc index --index {root} --rebuild"
        )
    if model_id is not None:
        check_model(manifest, model_id, root)
    try:
        documents = texts.load(build)
        tables = Tables.load(build)
        chunk_lexical = LexicalIndex.load(build / "bm25_chunks", len(tables.chunk_first))
        sentence_lexical = LexicalIndex.load(build / "bm25_sentences", len(tables.sent_start))
        engine = factory.load(build, manifest, chunk_lexical, saved_vectors(build))
    except IndexStateError:
        raise
    except Exception as exc:  # numpy, faiss, json and bm25s each raise their own types
        raise IndexCorruptError(
            f"the index in {build} is damaged ({type(exc).__name__}: {exc}); "
            f"rebuild with: askdoc index --index {root} --rebuild"
        ) from exc
    _check_consistent(manifest, documents, tables, engine, build, root)
    return Index(manifest=manifest, documents=documents, tables=tables, engine=engine, chunk_lexical=chunk_lexical,
                 sentence_lexical=sentence_lexical, path=build)


def _check_consistent(manifest, documents, tables, engine: Engine, build, root) -> None:
    problems = []
    if len(documents) != len(manifest.documents):
        problems.append("document count")
    if len(tables.chunk_first) != manifest.chunks:
        problems.append("chunk count")
    if len(tables.sent_start) != manifest.sentences:
        problems.append("sentence count")
    problems += [p for p in engine.problems(manifest.chunks, manifest.sentences, manifest.dimension) if p not in problems]
    if problems:
        raise IndexCorruptError(
            f"the index in {build} is inconsistent ({', '.join(problems)}); "
            f"rebuild with: askdoc index --index {root} --rebuild"
        )
