"""The one place that knows every engine: which kinds exist, what each
needs installed, and the three things done with one by kind: ``create`` it
for a new build, ``load`` a saved build's, ``drop`` what a removed build's
engine holds. Adding an engine is a module beside this one and a line in
``ENGINES``.

The optional engines' modules are imported when first asked for: their
client packages are extras (``askdoc[milvus]``, ``askdoc[qdrant]``).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from pathlib import Path
from typing import Any, Callable

from index.engines.base import Contents, Engine, Rows
from index.engines.collection import RECORD, CollectionEngine, Record
from index.errors import IndexCorruptError, IndexStateError, StoreError
from index.storage.lexical import LexicalIndex

log = logging.getLogger(__name__)

# kind: (module, class, the packages its client needs)
ENGINES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "faiss": ("index.engines.faiss", "FaissEngine", ()),
    "milvus": ("index.engines.milvus", "MilvusEngine", ("pymilvus", "milvus_lite")),
    "qdrant": ("index.engines.qdrant", "QdrantEngine", ("qdrant_client",)),
}


def check_kind(kind: str) -> str:
    """``kind`` when it names an engine, else a ``ValueError`` listing them.

    >>> check_kind("qdrant")
    'qdrant'
    """
    if kind not in ENGINES:
        raise ValueError(f"store must be one of {', '.join(ENGINES)}, not {kind!r}")
    return kind


def engine_class(kind: str) -> type[Engine]:
    """The engine ``kind`` names; a ``StoreError`` saying what to install when its client is missing."""
    module, name, packages = ENGINES[check_kind(kind)]
    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    if missing:
        raise StoreError(f"--store {kind} needs {' and '.join(missing)}: pip install 'askdoc[{kind}]'")
    return getattr(importlib.import_module(module), name)


def create(kind: str, build: Path, uri: str, contents: Contents, vector_index: str = "auto",
           progress: Callable[[int, int], None] | None = None) -> Engine:
    """A new build's engine, holding ``contents``."""
    return engine_class(kind).create(build, uri, contents, vector_index, progress)


def load(build: Path, manifest: Any, chunk_lexical: LexicalIndex, saved: tuple[Rows, Rows]) -> Engine:
    """A saved build's engine (the kind its manifest records)."""
    return engine_class(manifest.settings.store).load(build, manifest, chunk_lexical, saved)


def drop(build: Path) -> None:
    """Drop what a build's engine holds outside the build directory (a
    server's collections), before the directory goes. A build without a
    collection record holds nothing elsewhere; an engine whose client is
    gone is logged, and the build is removed all the same."""
    if not (Path(build) / RECORD).exists():
        return
    try:
        record = Record.load(build)
        kind = engine_class(record.kind)
        assert issubclass(kind, CollectionEngine)  # only collection engines write a record
        kind(build, record, None, 0, 0, 0).drop()
    except IndexCorruptError:
        return
    except IndexStateError as exc:
        log.warning("could not drop the engine collections of %s: %s", Path(build).name, exc)
