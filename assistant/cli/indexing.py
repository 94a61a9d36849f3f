"""Building and opening the index a command works on: what ``askdoc index``
runs, and the build-when-missing-or-stale that ``ask``, ``chat``, ``eval``
and ``serve`` do before they load the assistant. Heavy libraries load here,
inside the functions, never when the command line starts."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant.cli.terminal import Bar

if TYPE_CHECKING:
    from assistant.core import Assistant

log = logging.getLogger("askdoc")


def build(docs: Path | None, index_dir: Path, model: str | None, rebuild: bool, chunk_size: int | None,
           chunk_overlap: int | None, vector_index: str | None = None, ocr: bool | None = None, workers: int = 1,
           store: str | None = None, store_uri: str | None = None, device: str = "cpu"):
    """Run ``askdoc index``: what is not asked for keeps the index's settings
    (``BuildSettings.resolve``); an explicit --docs re-targets the index. A
    model other than the index's re-embeds everything (that is the point of
    running ``index`` with a new model)."""
    from index.build import build_index
    from index.documents.chunking import ChunkSettings
    from index.embedding.models import load_embedder
    from index.errors import IndexCorruptError
    from index.settings import docs_folder
    from index.storage.builds import read_manifest

    try:
        manifest = read_manifest(index_dir)
    except IndexCorruptError:
        manifest = None  # build_index says so and builds a new one
    recorded = manifest.settings if manifest else None
    folder = docs_folder(index_dir, docs, recorded, retarget=True)
    if folder is None:
        raise click.UsageError(f"the index in {index_dir} does not record which folder it was built from "
                               f"(an older askdoc built it); name it once with --docs")
    base = recorded.chunking if recorded else ChunkSettings()
    try:
        config = ChunkSettings(chunk_size or base.size, base.overlap if chunk_overlap is None else chunk_overlap)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if device == "cuda" and workers > 1:
        raise click.UsageError("--device cuda embeds in one process on the GPU; leave out --workers")
    bar = Bar()
    embedder = load_embedder(model, device)
    pool = None
    if workers > 1:
        from index.embedding.workers import ProcessPoolEmbedder

        embedder = pool = ProcessPoolEmbedder(embedder, model, workers)
    try:
        return build_index(folder, index_dir, embedder, config, rebuild=rebuild, progress=bar,
                           vector_index=vector_index, ocr=ocr, store=store, store_uri=store_uri)
    finally:
        bar.close()
        if pool is not None:
            pool.close()


def open_index(docs: Path | None, index_dir: Path, model: str | None,
               reader: bool = True) -> tuple["Assistant", Path | None]:
    """Build or refresh the index from its own documents folder when needed,
    then load the assistant (without the reader when not ``reader``); also
    the folder (None: unknown)."""
    from assistant.core import Assistant
    from assistant.params import Params
    from index.build import ensure_index
    from index.embedding.models import load_embedder
    from index.settings import docs_folder
    from index.storage.builds import read_manifest

    manifest = read_manifest(index_dir)
    folder = docs_folder(index_dir, docs, manifest.settings if manifest else None, retarget=False)
    embedder = load_embedder(model)
    bar = Bar()
    # ASKDOC_STORE(_URI) choose the engine of an index built here; an existing index keeps its own.
    store, store_uri = os.environ.get("ASKDOC_STORE") or None, os.environ.get("ASKDOC_STORE_URI")
    if manifest and store and store != manifest.settings.store:
        log.warning("ASKDOC_STORE=%s ignored: the index in %s uses %s; switch it with: askdoc index --store %s",
                    store, index_dir, manifest.settings.store, store)
    try:
        report = ensure_index(folder, index_dir, embedder, progress=bar, store=store, store_uri=store_uri)
    finally:
        bar.close()
    if report is not None:
        log.info("indexed %d documents (%d embedded) in %.1fs", report.documents, report.embedded, report.seconds)
    params = Params.load() if reader else Params.load().without_reader()
    return Assistant.load(index_dir, embedder=embedder, params=params), folder
