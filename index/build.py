"""Build or refresh an index from a docs folder.

Only documents whose content changed are split and embedded again; the rest
reuse their sentences, chunks and vectors from the live build. The result is
saved atomically (see ``storage.builds.save``), under a lock so two builds of one
index never interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, cast

import numpy as np

from index.documents.chunking import ChunkSettings, chunk_spans
from index.storage import builds
from index.engines import vectors
from index.embedding.base import Embedder
from index.engines import factory
from index.engines.base import Contents
from index.errors import IndexLockedError, IndexMissingError, IndexStateError
from index.storage.filearray import FileArray, FileArrayWriter
from index.storage.tables import Tables
from index.storage.texts import DocumentTexts
from index.storage.lexical import chunk_and_sentence_indexes
from index.documents.loaders import Document, Skipped, SourceFile, iter_files, load_folder
from index.embedding.pool import pool_chunks
from index.documents.boilerplate import repeated_paragraphs
from index.documents.segment import split_sentences
from index.settings import BuildSettings
from index.storage.builds import (FORMAT_VERSION, DocumentEntry, Index, Manifest, check_model, load, new_build,
                                  read_manifest)

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; the CLI draws it, the library never does."""


@dataclass(frozen=True)
class BuildReport:
    documents: int
    embedded: int
    reused: int
    removed: int
    chunks: int
    sentences: int
    skipped: tuple[Skipped, ...]
    seconds: float
    path: Path | None


@dataclass(frozen=True)
class Staleness:
    """Why an index no longer matches its docs folder (all empty: fresh)."""

    missing: bool = False
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    settings: str = ""

    @property
    def stale(self) -> bool:
        return self.missing or bool(self.changed or self.added or self.removed or self.settings)


@contextlib.contextmanager
def build_lock(root: Path, wait: bool = True) -> Iterator[None]:
    """Serialize builds of one index directory across processes."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise IndexLockedError(f"another askdoc index is building {root}; try again when it finishes") from None
            log.warning("another askdoc index is building %s; waiting for it to finish", root)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def staleness(root: Path, settings: BuildSettings, files: list[SourceFile]) -> Staleness:
    """Compare the docs folder's listing ``files`` with the live index by
    size and mtime, and its settings with ``settings``.

    Cheap enough to run before every question: no file is read.
    """
    manifest = read_manifest(root)
    if manifest is None:
        return Staleness(missing=True)
    if manifest.format_version != FORMAT_VERSION:
        return Staleness(settings=f"index format {manifest.format_version} -> {FORMAT_VERSION}")
    change = manifest.settings.vectors_change(settings)
    if change:
        return Staleness(settings=change)
    known = {e.id: (e.size, e.mtime_ns) for e in manifest.documents + manifest.skipped}
    current = {f.id: (f.size, f.mtime_ns) for f in files}
    return Staleness(
        changed=tuple(sorted(i for i in current.keys() & known.keys() if current[i] != known[i])),
        added=tuple(sorted(current.keys() - known.keys())),
        removed=tuple(sorted(known.keys() - current.keys())),
    )


@dataclass
class _Parts:
    """One document's share of the tables (numbered on its own), and its
    rows in the previous build when they are reused."""

    tables: Tables
    reused_rows: tuple[np.ndarray, np.ndarray] | None = None  # (sentence rows, chunk rows) in the previous build


def _split(doc: Document, config: ChunkSettings) -> _Parts:
    spans = split_sentences(doc.text)
    chunks = chunk_spans(spans, config)
    return _Parts(Tables(
        sent_doc=np.zeros(len(spans), dtype=np.int32),
        sent_start=np.array([s.start for s in spans], dtype=np.int64),
        sent_end=np.array([s.end for s in spans], dtype=np.int64),
        sent_para=np.array([s.para for s in spans], dtype=np.int32),
        sent_heading=np.array([s.heading for s in spans], dtype=bool),
        chunk_first=np.array([c[0] for c in chunks], dtype=np.int32),
        chunk_last=np.array([c[1] for c in chunks], dtype=np.int32),
    ))


def _reuse(previous: Index, doc_index: int) -> _Parts:
    return _Parts(previous.tables.document(doc_index), reused_rows=previous.tables.document_rows(doc_index))


def _previous(root: Path, settings: BuildSettings, rebuild: bool) -> Index | None:
    if rebuild:
        return None
    try:
        previous = load(root)
    except IndexStateError as exc:
        log.info("not reusing the previous index: %s", exc)
        return None
    change = previous.manifest.settings.vectors_change(settings)
    if change:
        log.info("%s: re-embedding every document", change)
        return None
    return previous


def _recorded(root: Path) -> BuildSettings | None:
    """The live build's settings; None when there is none or its manifest is unreadable (it gets replaced)."""
    try:
        manifest = read_manifest(root)
    except IndexStateError as exc:
        log.warning("%s; building a new index", str(exc).split(";")[0])
        return None
    return manifest.settings if manifest else None


def build_index(
    docs_dir: Path,
    root: Path,
    embedder: Embedder,
    config: ChunkSettings | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    vector_index: str | None = None,
    files: list[SourceFile] | None = None,
    ocr: bool | None = None,
    store: str | None = None,
    store_uri: str | None = None,
) -> BuildReport:
    """Index ``docs_dir`` into ``root``, re-embedding only what changed.

    ``config`` and ``vector_index`` (``auto``: exact search up to
    ``vectors.EXACT_UP_TO`` chunks, approximate above; ``exact``;
    ``approximate``) keep the index's recorded values when None
    (``BuildSettings.resolve``). ``files`` is the folder's listing when the
    caller already walked it. ``ocr`` (read scanned PDF pages by OCR) also
    keeps the recorded value when None, and so do ``store`` (``faiss``, the
    default, ``milvus`` or ``qdrant``: see ``engines``) and ``store_uri`` (empty: the engine embedded in
    the index directory; else a server's URL).
    """
    vectors.choose_kind(0, vector_index or "auto")  # a bad value fails before any work
    began = time.perf_counter()
    docs_dir, root = Path(docs_dir), Path(root)
    with build_lock(root):
        settings = BuildSettings.resolve(_recorded(root), embedder.model_id, config,
                                         vector_index=vector_index, ocr=ocr, store=store,
                                         store_uri=store_uri).with_docs(docs_dir, root)
        files = iter_files(docs_dir) if files is None and docs_dir.is_dir() else files
        documents, skipped = load_folder(docs_dir, files, settings.ocr)
        previous = _previous(root, settings, rebuild)
        old = {doc_id: (i, cast(DocumentTexts, previous.documents).sha256(i))
               for i, doc_id in enumerate(previous.doc_ids)} if previous else {}

        parts: list[_Parts] = []
        fresh: list[int] = []
        for i, doc in enumerate(documents):
            if doc.id in old and old[doc.id][1] == doc.sha256:
                assert previous is not None  # old is empty without it
                parts.append(_reuse(previous, old[doc.id][0]))
            else:
                parts.append(_split(doc, settings.chunking))
                fresh.append(i)
            if progress:
                progress("splitting", i + 1, len(documents))
        tables = Tables.concatenate([p.tables for p in parts])
        # Boilerplate is what many documents repeat: found anew over the whole corpus each build.
        tables = replace(tables, sent_boilerplate=repeated_paragraphs(
            tables.sent_doc, tables.sent_para, tables.sent_start, tables.sent_end, [d.text for d in documents]))
        # Vectors go straight into the new build's files: a build never
        # holds the corpus's vectors in memory (several GB at a million chunks).
        build = new_build(root)
        if fresh:
            embedder.prepare()  # an ONNX model is exported at index time, never while answering
        chunk_vectors, sentence_vectors = _write_vectors(build, documents, parts, tables, previous, embedder, progress)
        if progress:
            progress("building the search indexes", 0, 0)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        before = {e.id: e.indexed_at or previous.manifest.built_at for e in previous.manifest.documents} if previous else {}
        embedded = set(fresh)
        indexed = {doc.id: now if i in embedded else before.get(doc.id, now) for i, doc in enumerate(documents)}
        index = _assemble(build, documents, tables, chunk_vectors, sentence_vectors, skipped, files or [],
                          embedder.dimension, settings, embedder.encoder, indexed, now, progress)
        path = builds.save(index, root, build)
    removed = len(set(old) - {d.id for d in documents})
    return BuildReport(
        documents=len(documents), embedded=len(fresh), reused=len(documents) - len(fresh), removed=removed,
        chunks=index.chunk_count, sentences=index.sentence_count, skipped=tuple(skipped),
        seconds=time.perf_counter() - began, path=path,
    )


def _write_vectors(build: Path, documents, parts: list[_Parts], tables: Tables, previous: Index | None,
                   embedder: Embedder, progress: Progress | None, slice_size: int = 4096,
                   pool_block: int = 8192) -> tuple[FileArray, FileArray]:
    """Fill ``chunk_vectors.npy`` and ``sentence_vectors.npy`` in ``build``.

    Reused documents copy their rows from the previous build. For the others
    the model embeds every sentence and every title, a slice at a time,
    shortest texts first (least padding); their chunks' vectors are then
    pooled from those (``pool.pool_chunks``), a block of chunks at a time.
    """
    dim = embedder.dimension
    n_chunks, n_sents = len(tables.chunk_first), len(tables.sent_start)
    chunk_out = FileArrayWriter(build / builds.CHUNK_VECTORS, n_chunks, dim)
    sent_out = FileArrayWriter(build / builds.SENTENCE_VECTORS, n_sents, dim)
    # From the previous build's files, whatever its engine: a refresh never waits on a server.
    old_chunk_vectors, old_sentence_vectors = builds.saved_vectors(previous.path) if previous and previous.path else (None, None)
    for i, p in enumerate(parts):
        if p.reused_rows is not None:
            assert old_chunk_vectors is not None and old_sentence_vectors is not None  # reused rows come from them
            old_sents, old_chunks = p.reused_rows
            new_sents, new_chunks = tables.document_rows(i)
            chunk_out.write(new_chunks, old_chunk_vectors[old_chunks])
            sent_out.write(new_sents, old_sentence_vectors[old_sents])

    # One job per text to embed: sentence rows, then titles (n_sents + document).
    fresh_doc = np.array([p.reused_rows is None for p in parts] or [False])
    sent_jobs = np.flatnonzero(fresh_doc[tables.sent_doc]) if n_sents else np.zeros(0, dtype=np.int64)
    title_jobs = np.array([i for i in np.flatnonzero(fresh_doc) if documents[i].title.strip()], dtype=np.int64)
    lengths = np.concatenate([
        tables.sent_end[sent_jobs] - tables.sent_start[sent_jobs],
        np.array([len(documents[i].title) for i in title_jobs], dtype=np.int64),
    ])
    jobs = np.concatenate([sent_jobs, title_jobs + n_sents])[np.argsort(lengths, kind="stable")]
    # Titles are few (one per document) and stay in memory until pooling.
    titles = np.zeros((len(documents), dim), dtype=np.float32)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embedding", done, len(jobs))

    def text(job: int) -> str:
        if job >= n_sents:
            return documents[job - n_sents].title
        return documents[tables.sent_doc[job]].text[tables.sent_start[job] : tables.sent_end[job]]

    for begin in range(0, len(jobs), slice_size):
        batch = jobs[begin : begin + slice_size]
        found = embedder.encode([text(int(j)) for j in batch], progress=tick)
        is_title = batch >= n_sents
        titles[batch[is_title] - n_sents] = found[is_title]
        sent_out.write(batch[~is_title], found[~is_title])
    sentence_vectors = sent_out.close()

    chunk_jobs = np.flatnonzero(fresh_doc[tables.chunk_doc]) if n_chunks else np.zeros(0, dtype=np.int64)
    for begin in range(0, len(chunk_jobs), pool_block):
        block = chunk_jobs[begin : begin + pool_block]
        pooled = pool_chunks(sentence_vectors, tables.chunk_first[block], tables.chunk_last[block],
                             titles[tables.chunk_doc[block]])
        chunk_out.write(block, pooled)
    return chunk_out.close(), sentence_vectors


def _assemble(build: Path, documents, tables: Tables, chunk_vectors: FileArray, sentence_vectors: FileArray,
              skipped, files: list[SourceFile], dimension: int, settings: BuildSettings, encoder: str,
              indexed: dict[str, str], now: str, progress: Progress | None = None) -> Index:
    sentence_texts = (documents[d].text[s:e] for d, s, e in zip(tables.sent_doc, tables.sent_start, tables.sent_end))
    chunk_lexical, sentence_lexical = chunk_and_sentence_indexes(
        sentence_texts, [doc.title for doc in documents], tables.chunk_first, tables.chunk_last, tables.chunk_doc)
    def texts(rows: np.ndarray) -> list[str]:
        return [documents[d].text[s:e] for d, s, e in
                zip(tables.sent_doc[rows].tolist(), tables.sent_start[rows].tolist(), tables.sent_end[rows].tolist())]

    contents = Contents(tables, texts, chunk_vectors, sentence_vectors, chunk_lexical, dimension)
    upload = (lambda done, total: progress(f"uploading to {settings.store}", done, total)) if progress else None
    engine = factory.create(settings.store, build, settings.store_uri, contents, settings.vector_index, upload)
    info = engine.vector_index
    stats = {f.id: (f.size, f.mtime_ns) for f in files}

    def entry(doc_id: str, sha: str, indexed_at: str = "", reason: str = "") -> DocumentEntry:
        return DocumentEntry(doc_id, sha, *stats.get(doc_id, (0, 0)), indexed_at=indexed_at, reason=reason)

    manifest = Manifest(
        settings=settings, dimension=dimension, encoder=encoder,
        documents=tuple(entry(d.id, d.sha256, indexed[d.id]) for d in documents),
        skipped=tuple(entry(s.path, "", reason=s.reason) for s in skipped),
        chunks=len(tables.chunk_first), sentences=len(tables.sent_start),
        built_at=now,
        faiss_index=info.factory, faiss_nprobe=info.nprobe, faiss_recall_at_10=round(info.recall_at_10, 4),
    )
    return Index(manifest=manifest, documents=list(documents), tables=tables, engine=engine,
                 chunk_lexical=chunk_lexical, sentence_lexical=sentence_lexical)


def ensure_index(docs_dir: Path | None, root: Path, embedder: Embedder,
                 progress: Progress | None = None, store: str | None = None,
                 store_uri: str | None = None) -> BuildReport | None:
    """Build the index if it is missing, refresh it if its documents changed.

    ``docs_dir`` is the index's own folder (``settings.docs_folder``); None
    for an index that does not record one, which is served as it is. Keeps
    the index's settings; a different model is an error
    (``IndexMismatchError``), never a silent re-embedding of everything.
    ``store`` and ``store_uri`` choose the engine of a new index only.
    Returns the report of the build it ran, or None when the index was fresh.
    """
    root = Path(root)
    manifest = read_manifest(root)
    if manifest is not None:
        check_model(manifest, embedder.model_id, root)
        if docs_dir is None:
            log.warning("the index in %s does not record its documents folder (built by an older askdoc), so it is "
                        "not refreshed; record it once with: askdoc index --docs DIR --index %s", root, root)
            return None
        if not Path(docs_dir).is_dir():
            log.warning("docs folder %s not found; answering from the existing index", docs_dir)
            return None
    elif docs_dir is None:
        raise IndexMissingError(f"no index in {root}; build one with: askdoc index --docs DIR --index {root}")
    docs_dir = Path(docs_dir)
    settings = BuildSettings.resolve(manifest.settings if manifest else None, embedder.model_id)
    files = iter_files(docs_dir) if docs_dir.is_dir() else []
    state = staleness(root, settings, files)
    if not state.stale:
        return None
    if state.missing:
        log.info("no index in %s yet: building it from %s", root, docs_dir)
    else:
        log.info("docs changed (%d added, %d changed, %d removed): refreshing the index",
                 len(state.added), len(state.changed), len(state.removed))
    new = state.missing
    return build_index(docs_dir, root, embedder, progress=progress, files=files,
                       store=store if new else None, store_uri=store_uri if new else None)
