"""What the engines that hold a build in collections share (Milvus,
Qdrant): the record naming a build's collections, the rows they upload,
and vectors read back by row number.

A build's two collections, written whole before its manifest is, so what
``current`` names is always complete:

- ``<name>_chunks``: one entity per chunk row, its dense vector, its BM25
  term weights as a sparse vector (the weights askdoc's own index holds, so
  a sparse dot product with the question's term counts is its BM25 score),
  and ``doc``, ``first``, ``last``;
- ``<name>_sentences``: one per sentence row, its dense vector, and ``doc``,
  ``start``, ``end``, ``text``: what a quote needs.

A refresh re-embeds only changed documents (the others' vectors are copied
from the build's files) and uploads a new pair; the old pair is dropped
with its build. ``engine.json`` is written before the first upload, so the
collections of a build killed halfway are found and dropped too.
"""

from __future__ import annotations

import atexit
import os
import contextlib
import json
import logging
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from index.engines.base import Contents, Engine
from index.errors import AskdocError, IndexCorruptError, StoreError

log = logging.getLogger(__name__)

RECORD = "engine.json"
BATCH = 1000


@dataclass(frozen=True)
class Record:
    """Which engine, where, and the collections' common name."""

    kind: str
    uri: str
    collection: str

    @property
    def chunks(self) -> str:
        return f"{self.collection}_chunks"

    @property
    def sentences(self) -> str:
        return f"{self.collection}_sentences"

    @classmethod
    def fresh(cls, kind: str, uri: str) -> "Record":
        """A record with a new name, unique on a server shared by many indexes.

        >>> Record.fresh("milvus", "").collection.startswith("askdoc_")
        True
        """
        return cls(kind, uri, f"askdoc_{uuid.uuid4().hex[:16]}")

    def save(self, build: Path) -> None:
        (Path(build) / RECORD).write_text(json.dumps(self.__dict__), encoding="utf-8")

    @classmethod
    def load(cls, build: Path) -> "Record":
        """The record ``save`` wrote into ``build``."""
        try:
            return cls(**json.loads((Path(build) / RECORD).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise IndexCorruptError(f"{Path(build) / RECORD} is unreadable ({exc}); "
                                    f"rebuild with: askdoc index --rebuild") from exc


@dataclass(frozen=True)
class ChunkRows:
    rows: np.ndarray
    dense: np.ndarray
    sparse: list[tuple[list[int], list[float]]]  # (term ids, BM25 weights) per row
    doc: np.ndarray
    first: np.ndarray
    last: np.ndarray


@dataclass(frozen=True)
class SentenceRows:
    rows: np.ndarray
    dense: np.ndarray
    doc: np.ndarray
    start: np.ndarray
    end: np.ndarray
    text: list[str]


def chunk_batches(tables, chunk_vectors, chunk_lexical, size: int = BATCH) -> Iterator[ChunkRows]:
    """Everything an engine holds of the chunks, ``size`` rows at a time."""
    weights = chunk_lexical.by_row()
    chunk_doc = tables.chunk_doc
    for begin in range(0, len(tables.chunk_first), size):
        rows = np.arange(begin, min(begin + size, len(tables.chunk_first)))
        sparse = [(weights.indices[weights.indptr[r] : weights.indptr[r + 1]].tolist(),
                   weights.data[weights.indptr[r] : weights.indptr[r + 1]].tolist()) for r in rows.tolist()]
        yield ChunkRows(rows, np.asarray(chunk_vectors[begin : rows[-1] + 1], dtype=np.float32), sparse,
                        chunk_doc[rows], tables.chunk_first[rows], tables.chunk_last[rows])


def sentence_batches(tables, sentence_vectors, texts: Callable[[np.ndarray], list[str]],
                     size: int = BATCH) -> Iterator[SentenceRows]:
    """Everything an engine holds of the sentences, ``size`` rows at a time."""
    for begin in range(0, len(tables.sent_start), size):
        rows = np.arange(begin, min(begin + size, len(tables.sent_start)))
        yield SentenceRows(rows, np.asarray(sentence_vectors[begin : rows[-1] + 1], dtype=np.float32),
                           tables.sent_doc[rows], tables.sent_start[rows], tables.sent_end[rows], texts(rows))


def query_terms(chunk_lexical, tokens: list[str]) -> tuple[list[int], list[float]]:
    """A question's terms as a sparse vector: term ids and how often each is asked.

    A chunk's score against it is the sum, over the question's tokens, of
    the chunk's weight for that token: ``LexicalIndex.scores``, exactly.
    """
    counts: dict[int, float] = {}
    for token in tokens:
        term = chunk_lexical.term_id(token)
        if term is not None:
            counts[term] = counts.get(term, 0.0) + 1.0
    return list(counts), list(counts.values())


class VectorRows:
    """A collection's dense vectors by row number: ``rows[np.array([4, 2])]``
    is a (2, dim) array; ``fetch(ids)`` returns ``{id: vector}``."""

    def __init__(self, fetch: Callable[[list[int]], dict[int, list[float]]], name: str, count: int,
                 dimension: int) -> None:
        self._fetch = fetch
        self._name = name
        self.shape = (count, dimension)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        if isinstance(rows, slice):
            rows = np.arange(*rows.indices(self.shape[0]))
        scalar = np.ndim(rows) == 0
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        wanted = list(dict.fromkeys(rows.tolist()))
        found: dict[int, list[float]] = {}
        for begin in range(0, len(wanted), BATCH):
            found.update(self._fetch(wanted[begin : begin + BATCH]))
        missing = [r for r in wanted if r not in found]
        if missing:
            raise IndexCorruptError(f"collection {self._name} lacks rows {missing[:5]}; "
                                    f"rebuild with: askdoc index --rebuild")
        out = np.array([found[r] for r in rows.tolist()], dtype=np.float32).reshape(len(rows), self.shape[1])
        return out[0] if scalar else out


_clients: dict[tuple[str, str], object] = {}  # one client per engine and place, per process
_clients_lock = threading.Lock()


_CLASSES: dict[str, type["CollectionEngine"]] = {}  # each engine's class by kind, as it is imported


class CollectionEngine(Engine):
    """The store interface on an engine holding a build as two collections.

    Subclasses connect (``_connect``), create and fill the collections
    (``_create``, ``_put_chunks``, ``_put_sentences``), count, read vectors
    and search; this class names the collections, connects on first use
    (loading an index, or reusing its vectors on a refresh, never needs
    the engine), checks the collections against the manifest once, and
    turns the engine's own errors into ``StoreError``.
    """

    local_name = ""  # where the embedded engine keeps a build, inside the build directory

    def __init__(self, build: Path, record: Record, chunk_lexical, chunks: int, sentences: int,
                 dimension: int) -> None:
        self.build = Path(build)
        self.record = record
        self.chunk_lexical = chunk_lexical
        self.dimension = dimension
        self._counts = {record.chunks: chunks, record.sentences: sentences}
        self._checked = False
        self.chunk_vectors = VectorRows(lambda ids: self._read(record.chunks, ids), record.chunks, chunks, dimension)
        self.sentence_vectors = VectorRows(lambda ids: self._read(record.sentences, ids), record.sentences,
                                           sentences, dimension)

    # -- what an engine implements -----------------------------------------

    label = ""  # the engine's name for people ("Milvus")
    server_example = ""  # a server URI, for messages ("http://HOST:19530")

    def _connect(self, place: str):
        """A client of the server at ``place``, or of the engine embedded in
        the build, which serves one process at a time."""
        if self.record.uri:
            try:
                return self._server_client(place, os.environ.get("ASKDOC_STORE_API_KEY") or None)
            except Exception as exc:  # each client raises its own kinds
                raise StoreError(f"cannot reach the {self.label} server at {place} ({type(exc).__name__}: {exc})") from exc
        try:
            return self._embedded_client(place)
        except Exception as exc:  # its lock: another process has the store open
            raise StoreError(
                f"the embedded {self.label} store in {place} cannot be opened ({type(exc).__name__}: {exc}); it serves "
                f"one process at a time: stop the other one, or give the index a {self.label} server "
                f"(--store-uri {self.server_example})"
            ) from exc

    def _server_client(self, place: str, api_key: str | None):
        raise NotImplementedError

    def _embedded_client(self, place: str):
        raise NotImplementedError

    def _drop_collections(self, client) -> None:
        for name in (self.record.chunks, self.record.sentences):
            if self._exists(client, name):
                self._drop(client, name)

    def _exists(self, client, name: str) -> bool:
        raise NotImplementedError

    def _drop(self, client, name: str) -> None:
        raise NotImplementedError

    @staticmethod
    def _close(client, place: str, local: bool) -> None:
        """Release a client (and an embedded engine's process, if it runs one)."""
        client.close()

    def _count(self, client, name: str) -> int | None:
        """Entities in collection ``name``; None when there is no such collection."""
        raise NotImplementedError

    def _vectors(self, client, name: str, ids: list[int]) -> dict[int, list[float]]:
        raise NotImplementedError

    def _create(self, client) -> None:
        raise NotImplementedError

    def _put_chunks(self, client, batch: ChunkRows) -> None:
        raise NotImplementedError

    def _put_sentences(self, client, batch: SentenceRows) -> None:
        raise NotImplementedError

    def _finish(self, client) -> None:
        """Make what was uploaded durable before the build's manifest is written."""

    # -- shared ------------------------------------------------------------

    @property
    def place(self) -> str:
        """The server's URL, or the embedded engine's path inside the build."""
        return self.record.uri or str((self.build / self.local_name).resolve())

    @contextlib.contextmanager
    def reaching(self) -> Iterator[None]:
        """The engine's own errors (transport, server-side) as a ``StoreError``."""
        try:
            yield
        except AskdocError:
            raise
        except Exception as exc:  # each client raises its own kinds
            raise StoreError(f"the {self.kind} store at {self.place} failed ({type(exc).__name__}: {exc})") from exc

    @property
    def client(self):
        key = (self.kind, self.place)
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._connect(self.place)
                gone = [k for k in _clients if "://" not in k[1] and not Path(k[1]).parent.exists()]
                stale = [(k, _clients.pop(k)) for k in gone]
            else:
                stale = []
        # Builds another process removed (a server swapped to newer ones
        # since): their embedded engines' clients and processes end here.
        for (kind, place), old in stale:
            _CLASSES[kind]._close(old, place, local=True)
        if not self._checked:
            self._check(client)
        return client

    def _check(self, client) -> None:
        for name, expected in self._counts.items():
            with self.reaching():
                held = self._count(client, name)
            if held is None:
                raise IndexCorruptError(f"the {self.kind} store at {self.place} has no collection {name}; "
                                        f"rebuild with: askdoc index --rebuild")
            if held != expected:
                raise IndexCorruptError(f"the {self.kind} collection {name} holds {held} rows, the index {expected}; "
                                        f"rebuild with: askdoc index --rebuild")
        self._checked = True

    def _read(self, name: str, ids: list[int]) -> dict[int, list[float]]:
        client = self.client
        with self.reaching():
            return self._vectors(client, name, ids)

    @classmethod
    def create(cls, build: Path, uri: str, contents: Contents, vector_index: str = "auto",
               progress: Callable[[int, int], None] | None = None) -> "CollectionEngine":
        """Upload a build into a new pair of collections (its engine searches
        exactly: ``vector_index`` means nothing to it)."""
        tables = contents.tables
        record = Record.fresh(cls.kind, uri)
        record.save(build)  # before the first upload: a build killed halfway is still found and dropped
        chunks, sentences = len(tables.chunk_first), len(tables.sent_start)
        engine = cls(build, record, contents.chunk_lexical, chunks, sentences, contents.dimension)
        engine._checked = True  # nothing to check yet: it is being written
        client, done = engine.client, 0
        with engine.reaching():
            engine._create(client)
            for batch in chunk_batches(tables, contents.chunk_vectors, contents.chunk_lexical):
                engine._put_chunks(client, batch)
                done += len(batch.rows)
                if progress:
                    progress(done, chunks + sentences)
            for rows in sentence_batches(tables, contents.sentence_vectors, contents.texts):
                engine._put_sentences(client, rows)
                done += len(rows.rows)
                if progress:
                    progress(done, chunks + sentences)
            engine._finish(client)
        engine._checked = False  # what a reader sees is checked again, once
        return engine

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        _CLASSES[cls.kind] = cls

    def save(self, build: Path) -> None:
        """Nothing left to write: ``create`` uploaded everything and saved the record that names it."""

    @classmethod
    def load(cls, build: Path, manifest, chunk_lexical, saved=None) -> "CollectionEngine":
        """Connected on the first question, not here."""
        return cls(build, Record.load(build), chunk_lexical, manifest.chunks, manifest.sentences, manifest.dimension)

    def drop(self) -> None:
        """Drop a server's collections; for the embedded engine, close its
        client (its files go with the build directory). Failures are logged:
        an unreachable server must not stop a refresh."""
        key = (self.kind, self.place)
        if self.record.uri:
            try:
                with _clients_lock:
                    client = _clients.get(key) or _clients.setdefault(key, self._connect(self.place))
                self._drop_collections(client)
            except Exception as exc:  # noqa: BLE001 - any failure: keep going, say so
                log.warning("could not drop %s collections %s_* at %s: %s", self.kind, self.record.collection,
                            self.place, exc)
            return
        with _clients_lock:
            client = _clients.pop(key, None)
        if client is not None:
            self._close(client, self.place, local=True)


@atexit.register
def close_all() -> None:
    """Close every client this process opened, and stop the processes of
    embedded engines: at exit, before the interpreter tears down the
    modules their own finalizers need (and between tests)."""
    with _clients_lock:
        items = list(_clients.items())
        _clients.clear()
    for (kind, place), client in items:
        try:
            _CLASSES[kind]._close(client, place, local="://" not in place)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
