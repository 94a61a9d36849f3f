"""Build or refresh an index from a docs folder.

Only documents whose content changed are split and embedded again; the rest
reuse their sentences, chunks and vectors from the live build. The result is
published atomically (see ``store``), under a lock so two builds of one
index never interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .chunking import ChunkConfig, chunk_spans
from .embed import Embedder, concat_ranges, pool_chunks
from .errors import IndexLockedError, IndexStateError
from .filearray import FileArray, consecutive_runs
from .lexical import LexicalIndex, tokenize
from .loaders import Document, Skipped, iter_files, load_folder
from .segment import split_sentences
from . import store, vectors
from .store import (FORMAT_VERSION, DocumentEntry, Index, Manifest, Tables, check_model, load, new_build, publish,
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
                raise IndexLockedError(f"another askdoc index is building {root}; try again when it finishes")
            log.warning("another askdoc index is building %s; waiting for it to finish", root)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _file_entries(docs_dir: Path) -> dict[str, tuple[int, int]]:
    entries = {}
    for path, doc_id in iter_files(docs_dir):
        try:
            stat = path.stat()
        except OSError:
            continue
        entries[doc_id] = (stat.st_size, stat.st_mtime_ns)
    return entries


def staleness(docs_dir: Path, root: Path, model_id: str, config: ChunkConfig) -> Staleness:
    """Compare the docs folder with the live index by size and mtime.

    Cheap enough to run before every question: no file is read.
    """
    manifest = read_manifest(root)
    if manifest is None:
        return Staleness(missing=True)
    if manifest.model_id != model_id:
        return Staleness(settings=f"model {manifest.model_id} -> {model_id}")
    if manifest.format_version != FORMAT_VERSION:
        return Staleness(settings=f"index format {manifest.format_version} -> {FORMAT_VERSION}")
    if (manifest.chunk_size, manifest.chunk_overlap) != (config.size, config.overlap):
        return Staleness(settings="chunking settings")
    known = {e.id: (e.size, e.mtime_ns) for e in manifest.documents + manifest.skipped}
    current = _file_entries(docs_dir)
    return Staleness(
        changed=tuple(sorted(i for i in current.keys() & known.keys() if current[i] != known[i])),
        added=tuple(sorted(current.keys() - known.keys())),
        removed=tuple(sorted(known.keys() - current.keys())),
    )


@dataclass
class _Parts:
    """One document's share of the tables, before concatenation."""

    sent_start: np.ndarray
    sent_end: np.ndarray
    sent_para: np.ndarray
    sent_heading: np.ndarray
    chunk_first: np.ndarray  # local sentence numbers
    chunk_last: np.ndarray
    reused_rows: tuple[np.ndarray, np.ndarray] | None = None  # (sentence rows, chunk rows) in the previous build


def _split(doc: Document, config: ChunkConfig) -> _Parts:
    spans = split_sentences(doc.text)
    chunks = chunk_spans(spans, config)
    return _Parts(
        sent_start=np.array([s.start for s in spans], dtype=np.int64),
        sent_end=np.array([s.end for s in spans], dtype=np.int64),
        sent_para=np.array([s.para for s in spans], dtype=np.int32),
        sent_heading=np.array([s.heading for s in spans], dtype=bool),
        chunk_first=np.array([c[0] for c in chunks], dtype=np.int32),
        chunk_last=np.array([c[1] for c in chunks], dtype=np.int32),
    )


def _reuse(previous: Index, doc_index: int) -> _Parts:
    t = previous.tables
    sent_rows, chunk_rows = t.document_rows(doc_index)
    offset = sent_rows[0]
    return _Parts(
        sent_start=t.sent_start[sent_rows], sent_end=t.sent_end[sent_rows],
        sent_para=t.sent_para[sent_rows], sent_heading=t.sent_heading[sent_rows],
        chunk_first=t.chunk_first[chunk_rows] - offset, chunk_last=t.chunk_last[chunk_rows] - offset,
        reused_rows=(sent_rows, chunk_rows),
    )


def _previous(root: Path, model_id: str, config: ChunkConfig, rebuild: bool) -> Index | None:
    if rebuild:
        return None
    try:
        previous = load(root)
    except IndexStateError as exc:
        log.info("not reusing the previous index: %s", exc)
        return None
    m = previous.manifest
    if m.model_id != model_id or (m.chunk_size, m.chunk_overlap) != (config.size, config.overlap):
        log.info("model or chunking changed: re-embedding every document")
        return None
    return previous


def build_index(
    docs_dir: Path,
    root: Path,
    embedder: Embedder,
    config: ChunkConfig = ChunkConfig(),
    rebuild: bool = False,
    progress: Progress | None = None,
    vector_index: str = "auto",
) -> BuildReport:
    """Index ``docs_dir`` into ``root``, re-embedding only what changed.

    ``vector_index`` is ``auto`` (exact search up to ``vectors.EXACT_UP_TO``
    chunks, approximate above), ``exact`` or ``approximate``.
    """
    vectors.choose_kind(0, vector_index)  # a bad value fails before any work
    began = time.perf_counter()
    docs_dir, root = Path(docs_dir), Path(root)
    with build_lock(root):
        documents, skipped = load_folder(docs_dir)
        previous = _previous(root, embedder.model_id, config, rebuild)
        old = {doc_id: (i, previous.documents.sha256(i)) for i, doc_id in enumerate(previous.doc_ids)} if previous else {}

        parts: list[_Parts] = []
        fresh: list[int] = []
        for i, doc in enumerate(documents):
            if doc.id in old and old[doc.id][1] == doc.sha256:
                parts.append(_reuse(previous, old[doc.id][0]))
            else:
                parts.append(_split(doc, config))
                fresh.append(i)
            if progress:
                progress("splitting", i + 1, len(documents))
        tables = _tables(parts)
        # Vectors go straight into the new build's files: a build never
        # holds the corpus's vectors in memory (several GB at a million chunks).
        build = new_build(root)
        chunk_vectors, sentence_vectors = _write_vectors(build, documents, parts, tables, previous, embedder, progress)
        if progress:
            progress("building the search indexes", 0, 0)
        index = _assemble(documents, tables, chunk_vectors, sentence_vectors, skipped, docs_dir, embedder, config,
                          vector_index)
        path = publish(index, root, build)
    removed = len(set(old) - {d.id for d in documents})
    return BuildReport(
        documents=len(documents), embedded=len(fresh), reused=len(documents) - len(fresh), removed=removed,
        chunks=index.chunk_count, sentences=index.sentence_count, skipped=tuple(skipped),
        seconds=time.perf_counter() - began, path=path,
    )


def _tables(parts: list[_Parts]) -> Tables:
    offsets = np.cumsum([0] + [len(p.sent_start) for p in parts])
    return Tables(
        sent_doc=np.concatenate([np.full(len(p.sent_start), i, dtype=np.int32) for i, p in enumerate(parts)]),
        sent_start=np.concatenate([p.sent_start for p in parts]),
        sent_end=np.concatenate([p.sent_end for p in parts]),
        sent_para=np.concatenate([p.sent_para for p in parts]),
        sent_heading=np.concatenate([p.sent_heading for p in parts]),
        chunk_first=np.concatenate([p.chunk_first + offsets[i] for i, p in enumerate(parts)]).astype(np.int32),
        chunk_last=np.concatenate([p.chunk_last + offsets[i] for i, p in enumerate(parts)]).astype(np.int32),
    )


class _RowWriter:
    """A float32 ``.npy`` file of known shape, filled by rows in any order
    with positional writes: unlike a writable memory map, the rows written
    never count against the build's resident memory."""

    def __init__(self, path: Path, rows: int, dim: int) -> None:
        self.path, self.dim = path, dim
        self._fh = open(path, "wb")
        np.lib.format.write_array_header_1_0(self._fh, {"descr": "<f4", "fortran_order": False, "shape": (rows, dim)})
        self._data = self._fh.tell()
        self._fh.truncate(self._data + rows * dim * 4)
        self._fh.flush()

    def write(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Rows ``rows`` (ascending or not) get ``values``; runs of
        consecutive rows go out as one write."""
        if len(rows) == 0:
            return
        order = np.argsort(rows, kind="stable")
        rows, values = rows[order], np.ascontiguousarray(values[order], dtype="<f4")
        for lo, hi in consecutive_runs(rows):
            os.pwrite(self._fh.fileno(), values[lo:hi].tobytes(), self._data + int(rows[lo]) * self.dim * 4)

    def close(self) -> FileArray:
        """The rows, read back by rows: a build that pools or indexes them
        never holds the whole file (a mapping would, in its resident pages)."""
        self._fh.close()
        return FileArray(self.path)


def _write_vectors(build: Path, documents, parts: list[_Parts], tables: Tables, previous: Index | None,
                   embedder: Embedder, progress: Progress | None, slice_size: int = 4096,
                   pool_block: int = 8192) -> tuple[FileArray, FileArray]:
    """Fill ``chunk_vectors.npy`` and ``sentence_vectors.npy`` in ``build``.

    Reused documents copy their rows from the previous build. For the others
    the model embeds every sentence and every title, a slice at a time,
    shortest texts first (least padding); their chunks' vectors are then
    pooled from those (``embed.pool_chunks``), a block of chunks at a time.
    """
    dim = embedder.dimension
    n_chunks, n_sents = len(tables.chunk_first), len(tables.sent_start)
    chunk_out = _RowWriter(build / store.CHUNK_VECTORS, n_chunks, dim)
    sent_out = _RowWriter(build / store.SENTENCE_VECTORS, n_sents, dim)
    for i, p in enumerate(parts):
        if p.reused_rows is not None:
            old_sents, old_chunks = p.reused_rows
            new_sents, new_chunks = tables.document_rows(i)
            chunk_out.write(new_chunks, previous.chunk_vectors[old_chunks])
            sent_out.write(new_sents, previous.sentence_vectors[old_sents])

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


def _assemble(documents, tables: Tables, chunk_vectors: np.ndarray, sentence_vectors: np.ndarray, skipped,
              docs_dir: Path, embedder: Embedder, config: ChunkConfig, vector_index: str) -> Index:
    dim = embedder.dimension
    faiss_index, info = vectors.build(chunk_vectors, vector_index)
    files = _file_entries(docs_dir)
    entry = lambda doc_id, sha: DocumentEntry(doc_id, sha, *files.get(doc_id, (0, 0)))  # noqa: E731
    manifest = Manifest(
        model_id=embedder.model_id, dimension=dim, chunk_size=config.size, chunk_overlap=config.overlap,
        documents=tuple(entry(d.id, d.sha256) for d in documents),
        skipped=tuple(entry(s.path, "") for s in skipped),
        chunks=len(tables.chunk_first), sentences=len(tables.sent_start),
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        vector_index=vector_index, faiss_index=info.factory, faiss_nprobe=info.nprobe,
        faiss_recall_at_10=round(info.recall_at_10, 4),
    )
    chunk_lexical, sentence_lexical = _lexical(documents, tables)
    return Index(
        manifest=manifest, documents=list(documents), tables=tables, chunk_vectors=chunk_vectors,
        sentence_vectors=sentence_vectors, faiss_index=faiss_index,
        chunk_lexical=chunk_lexical, sentence_lexical=sentence_lexical,
    )


def _lexical(documents, tables: Tables, block: int = 200_000) -> tuple[LexicalIndex, LexicalIndex]:
    """BM25 over chunks and over sentences from one pass of the tokenizer.

    Terms become ids in one flat array as each sentence is tokenized (4
    bytes a token, not a Python list per sentence); the indexes are computed
    from it ``block`` rows at a time. A chunk is whole sentences, so its terms
    are its title's and its sentences': each sentence is tokenized once, not
    once per chunk.
    """
    vocabulary: dict[str, int] = {}
    term_id = lambda t: vocabulary.setdefault(t, len(vocabulary))  # noqa: E731
    sent_ids, sent_lengths = array("i"), np.zeros(len(tables.sent_start), dtype=np.int64)
    for row, (d, s, e) in enumerate(zip(tables.sent_doc, tables.sent_start, tables.sent_end)):
        tokens = tokenize(documents[d].text[s:e])
        sent_ids.extend(map(term_id, tokens))
        sent_lengths[row] = len(tokens)
    ids = np.frombuffer(sent_ids, dtype=np.int32) if sent_ids else np.zeros(0, dtype=np.int32)
    offsets = np.r_[0, np.cumsum(sent_lengths)]
    title_ids = [np.array([term_id(t) for t in tokenize(doc.title)], dtype=np.int32) for doc in documents]
    title_flat = np.concatenate(title_ids) if title_ids else np.zeros(0, dtype=np.int32)
    title_offsets = np.r_[0, np.cumsum([len(t) for t in title_ids])].astype(np.int64)

    def sentence_blocks():
        for lo in range(0, len(sent_lengths), block):
            hi = min(lo + block, len(sent_lengths))
            yield ids[offsets[lo] : offsets[hi]], np.repeat(np.arange(lo, hi), sent_lengths[lo:hi])

    def chunk_blocks():
        for lo in range(0, len(tables.chunk_first), block):
            chunks = np.arange(lo, min(lo + block, len(tables.chunk_first)))
            body_starts = offsets[tables.chunk_first[chunks]]
            body_counts = offsets[tables.chunk_last[chunks] + 1] - body_starts
            doc = tables.chunk_doc[chunks]
            title_counts = title_offsets[doc + 1] - title_offsets[doc]
            yield (np.concatenate([ids[concat_ranges(body_starts, body_counts)],
                                   title_flat[concat_ranges(title_offsets[doc], title_counts)]]),
                   np.concatenate([np.repeat(chunks, body_counts), np.repeat(chunks, title_counts)]))

    return (LexicalIndex.from_ids(chunk_blocks(), len(tables.chunk_first), vocabulary),
            LexicalIndex.from_ids(sentence_blocks(), len(sent_lengths), vocabulary))


def ensure_index(docs_dir: Path, root: Path, embedder: Embedder, progress: Progress | None = None) -> BuildReport | None:
    """Build the index if it is missing, refresh it if the docs changed.

    Keeps the chunking the index was built with; a different model is an
    error (``IndexMismatchError``), never a silent re-embedding of everything.
    Returns the report of the build it ran, or None when the index was fresh.
    """
    docs_dir, root = Path(docs_dir), Path(root)
    manifest = read_manifest(root)
    if manifest is not None:
        check_model(manifest, embedder.model_id, root)
        if not docs_dir.is_dir():
            log.warning("docs folder %s not found; answering from the existing index", docs_dir)
            return None
        config = ChunkConfig(manifest.chunk_size, manifest.chunk_overlap)
        vector_index = manifest.vector_index
    else:
        config = ChunkConfig()
        vector_index = "auto"
    state = staleness(docs_dir, root, embedder.model_id, config)
    if not state.stale:
        return None
    if state.missing:
        log.info("no index in %s yet: building it from %s", root, docs_dir)
    else:
        log.info("docs changed (%d added, %d changed, %d removed): refreshing the index",
                 len(state.added), len(state.changed), len(state.removed))
    return build_index(docs_dir, root, embedder, config, progress=progress, vector_index=vector_index)
