"""The store interface on Milvus (Milvus Lite: the engine's own core) and
Qdrant (local mode): the same searches, vectors and answers as FAISS; a
refresh uploads new collections and never serves a half-written one; the
engine is recorded and kept; a locked embedded store is a clear error."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from assistant.core import Assistant
from assistant.params import Params
from index.build import build_index
from index.documents.chunking import ChunkSettings
from index.engines import collection, factory
from index.engines.base import Restriction
from index.errors import IndexCorruptError, StoreError
from index.storage import builds
from tests.support import HashEmbedder, write_files

# Integration tier (tests/README.md): Milvus Lite and Qdrant beside FAISS.
pytestmark = pytest.mark.integration

ENGINES = ["milvus", "qdrant"]
WORDS = ("harbour ferry timetable storm bridge council budget school library tram museum river festival "
         "election mayor tunnel airport cargo winter summer repair closure museum orchestra").split()
CHUNKING = ChunkSettings(size=160, overlap=0)


def corpus(seed: int = 0, documents: int = 8) -> dict[str, str]:
    """Documents of plain sentences over a small vocabulary: many chunks share
    words, so both searches have real work and real near-ties."""
    rng = np.random.default_rng(seed)
    docs = {}
    for d in range(documents):
        sentences = [" ".join(rng.choice(WORDS, size=int(rng.integers(5, 11)))).capitalize() + f" {d * 100 + s}."
                     for s in range(int(rng.integers(8, 16)))]
        docs[f"{'city/' if d % 2 else ''}doc{d}.txt"] = " ".join(sentences) + "\n"
    return docs


@pytest.fixture(autouse=True, scope="module")
def _engines_closed():
    """Embedded engines' processes end with this module's tests, not the session."""
    yield
    collection.close_all()


@pytest.fixture(scope="module", params=ENGINES)
def pair(request, tmp_path_factory):
    """(FAISS index, engine index) of one docs folder."""
    base = tmp_path_factory.mktemp(request.param)
    write_files(base / "docs", corpus())
    embedder = HashEmbedder()
    build_index(base / "docs", base / "faiss", embedder, CHUNKING, vector_index="exact")
    build_index(base / "docs", base / request.param, embedder, CHUNKING, store=request.param)
    return builds.load(base / "faiss"), builds.load(base / request.param), base / "docs"


def queries(index, count: int = 12) -> list[int]:
    return np.linspace(0, index.sentence_count - 1, count).astype(int).tolist()


def test_an_engine_index_records_its_engine_and_its_collections(pair):
    _, engine_index, _ = pair
    kind = engine_index.manifest.settings.store
    assert engine_index.engine.kind == kind
    record = collection.Record.load(engine_index.path)
    assert record.kind == kind and record.uri == ""
    assert engine_index.manifest.faiss_index == "" and not (engine_index.path / "chunks.faiss").exists()


def test_nearest_chunks_are_exact_search_with_and_without_a_restriction(pair):
    faiss_index, engine_index, _ = pair
    vectors = np.asarray(faiss_index.chunk_vectors[:])
    chunk_doc = faiss_index.tables.chunk_doc
    within = Restriction.of_documents(np.array([1, 4]), chunk_doc)
    for s in queries(faiss_index):
        query = np.asarray(faiss_index.sentence_vectors[s])
        scores = vectors @ query
        found = engine_index.engine.nearest_chunks(query, 10)
        # Scores, not ids: chunks of equal score may come in either order.
        assert np.allclose(scores[found], np.sort(scores)[::-1][:10], atol=1e-5)
        assert np.allclose(scores[faiss_index.engine.nearest_chunks(query, 10)], scores[found], atol=1e-5)
        scoped = engine_index.engine.nearest_chunks(query, 10, within)
        assert set(scoped.tolist()) <= set(within.chunks.tolist())
        assert np.allclose(scores[scoped], np.sort(scores[within.chunks])[::-1][:10], atol=1e-5)


def test_lexical_chunks_are_askdocs_bm25_with_and_without_a_restriction(pair):
    faiss_index, engine_index, _ = pair
    within = Restriction.of_documents(np.array([0, 3, 5]), faiss_index.tables.chunk_doc)
    for tokens in (["harbour"], ["ferry", "storm", "storm"], ["museum", "river", "nothing-like-it"], ["absent"]):
        scores = faiss_index.chunk_lexical.scores(tokens)
        for restriction in (None, within):
            found = engine_index.engine.lexical_chunks(tokens, 40, restriction)
            expected = faiss_index.engine.lexical_chunks(tokens, 40, restriction)
            assert len(found) == len(expected)
            assert np.allclose(scores[found], scores[expected], atol=1e-4)
            assert (scores[found] > 0).all()
            if restriction is not None:
                assert set(found.tolist()) <= set(within.chunks.tolist())


def test_vectors_read_back_by_row(pair):
    faiss_index, engine_index, _ = pair
    rows = np.array([5, 0, 5, engine_index.chunk_count - 1])
    assert np.allclose(engine_index.chunk_vectors[rows], faiss_index.chunk_vectors[rows], atol=1e-6)
    sentences = np.array(queries(faiss_index, 7))
    assert np.allclose(engine_index.sentence_vectors[sentences], faiss_index.sentence_vectors[sentences], atol=1e-6)
    assert np.allclose(engine_index.sentence_vectors[3], faiss_index.sentence_vectors[3], atol=1e-6)
    assert engine_index.chunk_vectors.shape == faiss_index.chunk_vectors.shape


def test_answers_and_citations_are_the_same(pair, fake_embedder):
    faiss_index, engine_index, _ = pair
    on_faiss = Assistant(faiss_index, fake_embedder)
    on_engine = Assistant(engine_index, fake_embedder)
    for question in ("When does the ferry leave the harbour?", "What did the council say about the budget?",
                     "Where is the museum?", "Which tunnel closed?"):
        for scope in (None, "city/"):
            a, b = on_faiss.ask(question, scope=scope), on_engine.ask(question, scope=scope)
            assert (a.text, a.abstained) == (b.text, b.abstained)
            assert [(c.source, c.start, c.end) for c in a.citations] == [(c.source, c.start, c.end) for c in b.citations]


@pytest.mark.parametrize("kind", ENGINES)
def test_a_refresh_uploads_new_collections_and_drops_old_ones(kind, write_docs, fake_embedder, tmp_path):
    files = corpus(1, documents=5)
    docs = write_docs(files)
    root = tmp_path / "index"
    build_index(docs, root, fake_embedder, CHUNKING, store=kind)
    first = builds.load(root)
    (docs / "doc0.txt").write_text("The night ferry to the island leaves at 22:40 from pier nine.\n", encoding="utf-8")
    (docs / "city" / "doc1.txt").unlink()
    report = build_index(docs, root, fake_embedder, CHUNKING)  # no --store: the recorded engine stays
    second = builds.load(root)
    assert second.manifest.settings.store == kind
    assert (report.embedded, report.reused, report.removed) == (1, 3, 1)
    assert collection.Record.load(second.path).collection != collection.Record.load(first.path).collection
    answer = Assistant(second, fake_embedder).ask("When does the night ferry leave?")
    assert answer.citations[0].source == "doc0.txt" and "22:40" in answer.citations[0].text
    reused = second.tables.document_rows(second.doc_ids.index("doc2.txt"))[1]
    assert np.allclose(second.chunk_vectors[reused], first.chunk_vectors[
        first.tables.document_rows(first.doc_ids.index("doc2.txt"))[1]], atol=1e-6)
    # The build before the live one stays whole for slow readers; the one before that goes, with its engine.
    (docs / "doc3.txt").write_text("Winter repairs close the tram bridge.\n", encoding="utf-8")
    build_index(docs, root, fake_embedder, CHUNKING)
    assert not first.path.exists() and second.path.exists()


@pytest.mark.parametrize("kind", ENGINES)
def test_a_build_killed_while_uploading_is_never_served(kind, write_docs, fake_embedder, tmp_path, monkeypatch):
    docs = write_docs(corpus(2, documents=4))
    root = tmp_path / "index"
    build_index(docs, root, fake_embedder, CHUNKING, store=kind)
    live = builds.current_build(root)
    engine_class = factory.engine_class(kind)

    def fail(self, client, batch):
        raise OSError("killed while uploading")

    monkeypatch.setattr(engine_class, "_put_sentences", fail)
    (docs / "doc0.txt").write_text("The airport cargo terminal opens in summer.\n", encoding="utf-8")
    with pytest.raises(StoreError, match="killed while uploading"):
        build_index(docs, root, fake_embedder, CHUNKING)
    assert builds.current_build(root) == live
    assert Assistant.load(root, embedder=fake_embedder).ask("What opens in summer?").citations
    half = [p for p in root.glob("build-*") if not (p / "manifest.json").exists()]
    assert len(half) == 1 and (half[0] / collection.RECORD).exists()
    monkeypatch.undo()
    build_index(docs, root, fake_embedder, CHUNKING)
    assert not half[0].exists()
    answer = Assistant.load(root, embedder=fake_embedder).ask("What opens in summer?")
    assert answer.citations[0].source == "doc0.txt"


@pytest.mark.parametrize("kind", ENGINES)
def test_switching_engines_reuses_every_vector(kind, write_docs, fake_embedder, tmp_path):
    docs = write_docs(corpus(3, documents=4))
    root = tmp_path / "index"
    build_index(docs, root, fake_embedder, CHUNKING)
    before = Assistant.load(root, embedder=fake_embedder).ask("Where does the tram cross the river?")
    report = build_index(docs, root, fake_embedder, CHUNKING, store=kind)
    assert report.embedded == 0 and builds.read_manifest(root).settings.store == kind
    after = Assistant.load(root, embedder=fake_embedder).ask("Where does the tram cross the river?")
    assert [c.text for c in after.citations] == [c.text for c in before.citations]
    report = build_index(docs, root, fake_embedder, CHUNKING, store="faiss")
    assert report.embedded == 0 and builds.read_manifest(root).settings.store == "faiss"


@pytest.mark.parametrize("kind", ENGINES)
def test_a_missing_record_is_a_corrupt_index(kind, write_docs, fake_embedder, tmp_path):
    docs = write_docs(corpus(4, documents=2))
    build_index(docs, tmp_path / "index", fake_embedder, CHUNKING, store=kind)
    (builds.current_build(tmp_path / "index") / collection.RECORD).unlink()
    with pytest.raises(IndexCorruptError, match="rebuild"):
        builds.load(tmp_path / "index")


HOLD = """
import sys, time
from pathlib import Path
from index.storage import builds
index = builds.load(Path(sys.argv[1]))
index.engine.nearest_chunks(index.sentence_vectors[0], 1)
print("holding", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("kind", ENGINES)
def test_an_embedded_store_open_in_another_process_is_a_clear_error(kind, write_docs, fake_embedder, tmp_path):
    docs = write_docs(corpus(5, documents=2))
    root = tmp_path / "index"
    build_index(docs, root, fake_embedder, CHUNKING, store=kind)
    factory.drop(builds.current_build(root))  # this process lets go of it, as a separate `askdoc index` would
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        assistant = Assistant.load(root, embedder=fake_embedder)  # loading needs no engine
        with pytest.raises(StoreError, match="another process|Milvus server|Qdrant server"):
            assistant.ask("Which bridge closed in winter?")
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.5)
    assert Assistant.load(root, embedder=fake_embedder).ask("Which bridge closed in winter?").citations


@pytest.mark.parametrize("kind", ENGINES)
def test_a_server_that_cannot_be_reached_is_a_clear_error_and_the_live_index_stays(kind, write_docs, fake_embedder,
                                                                                    tmp_path):
    docs = write_docs(corpus(8, documents=2))
    root = tmp_path / "index"
    build_index(docs, root, fake_embedder, CHUNKING)
    live = builds.current_build(root)
    with pytest.raises(StoreError, match="127.0.0.1:9"):
        build_index(docs, root, fake_embedder, CHUNKING, store=kind, store_uri="http://127.0.0.1:9")
    assert builds.current_build(root) == live and builds.read_manifest(root).settings.store == "faiss"


def test_the_api_reports_an_unusable_store_as_unavailable():
    from assistant.routes.api import status_of
    from index.errors import QuestionError

    assert status_of(StoreError("down")) == 503 and status_of(QuestionError("empty")) == 422


@pytest.mark.parametrize("kind", ENGINES)
def test_copying_an_index_keeps_it_answerable(kind, write_docs, fake_embedder, tmp_path):
    """An embedded engine lives inside the index directory: the directory is the whole index."""
    docs = write_docs(corpus(6, documents=3))
    build_index(docs, tmp_path / "index", fake_embedder, CHUNKING, store=kind)
    factory.drop(builds.current_build(tmp_path / "index"))
    shutil.copytree(tmp_path / "index", tmp_path / "moved", symlinks=True)
    assert Assistant.load(tmp_path / "moved", embedder=fake_embedder).ask("What does the council budget?").citations


# -- with the real model: the same answers as FAISS ----------------------------


def on_engine(faiss_assistant, kind: str, tmp_path_factory, embedder) -> Assistant:
    """A copy of ``faiss_assistant``'s index switched to ``kind``: every vector is
    reused, so the two differ only in what searches them."""
    root = tmp_path_factory.mktemp(f"on-{kind}") / "index"
    shutil.copytree(faiss_assistant.index.path.parent, root, symlinks=True)
    docs = faiss_assistant.index.manifest.settings.docs_dir
    report = build_index(docs, root, embedder, store=kind)
    assert report.embedded == 0
    return Assistant.load(root, embedder=embedder, params=retrieval_only())


# The engines are compared on what they decide: the candidates retrieval gets from them. The reader reads
# those same candidates the same way on every engine, and reading 1,190 questions three times would cost
# the suite minutes, so these comparisons answer without it (the quality tests answer with it).
def retrieval_only() -> Params:
    return Params.load().without_reader()


def without_reader(assistant) -> Assistant:
    return Assistant(assistant.index, assistant.embedder, retrieval_only())


def asked(assistant, case):
    """The answer to ``case``, its earlier questions asked first (as ``evaluate.run`` does)."""
    from assistant.core import Turn, history_of

    turns = []
    for earlier in case.history:
        turns.append(Turn(earlier, assistant.ask(earlier, history_of(turns))))
    return assistant.ask(case.question, history_of(turns))


def first_citations(assistant, cases) -> list[list[tuple[str, int, int]]]:
    """Each case's first citation (none when it abstains), as (source, start, end)."""
    return [[(c.source, c.start, c.end) for c in asked(assistant, case).citations[:1]] for case in cases]


def first_citations_agree(expected: list, engine_assistant, cases) -> tuple[float, list]:
    """Share of ``cases`` whose answers open with the ``expected`` citation
    (FAISS's, from ``first_citations``), or abstain where FAISS does; the
    engine's citations checked against the documents."""
    same, differing = 0, []
    for case, first in zip(cases, expected, strict=True):
        answer = asked(engine_assistant, case)
        if first == [(c.source, c.start, c.end) for c in answer.citations[:1]]:
            same += 1
        else:
            differing.append(case.question)
        for c in answer.citations:
            assert engine_assistant.index.document(c.source).text[c.start : c.end] == c.text
    return same / len(cases), differing


def every_third(cases: list) -> list:
    """A third of XQuAD's questions (397 of 1,190, from all 48 articles): Milvus
    Lite and Qdrant's local mode answer them at about 30 ms each; the whole set
    took 40 s per engine, and half of it still 20 s of the suite's twelve minutes."""
    return cases[::3]


@pytest.fixture(scope="module")
def xquad_on_faiss(xquad):
    """XQuAD's first citations on FAISS, asked once for every engine compared with it."""
    faiss_assistant, cases = xquad
    return first_citations(without_reader(faiss_assistant), every_third(cases))


@pytest.mark.parametrize("kind", ENGINES)
def test_own_questions_get_the_same_first_citation(kind, default_assistant, real_embedder, tmp_path_factory):
    from assistant.evaluate import load_cases
    from tests.support import DATA

    cases = load_cases(DATA / "admm_questions.jsonl")
    engine_assistant = on_engine(default_assistant, kind, tmp_path_factory, real_embedder)
    share, differing = first_citations_agree(first_citations(without_reader(default_assistant), cases), engine_assistant,
                                             cases)
    assert share >= 0.99, differing


@pytest.mark.slow
@pytest.mark.parametrize("kind", ENGINES)
def test_xquad_questions_get_the_same_first_citation(kind, xquad, xquad_on_faiss, real_embedder, tmp_path_factory):
    faiss_assistant, cases = xquad
    engine_assistant = on_engine(faiss_assistant, kind, tmp_path_factory, real_embedder)
    share, differing = first_citations_agree(xquad_on_faiss, engine_assistant, every_third(cases))
    assert share >= 0.99, differing[:10]


# -- a Milvus server: the same engine over the network ----------------------------


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory):
    """Milvus Lite's engine serving gRPC on a TCP port, as a Milvus server does
    (the client talks to it as to any Milvus: over the network, by URL)."""
    import socket
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        from milvus_lite.server import Server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Server(str(tmp_path_factory.mktemp("milvus-server") / "server.db"), f"127.0.0.1:{port}")
    assert server.init() and server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_a_milvus_server_holds_the_live_and_previous_builds_only(milvus_server, write_docs, fake_embedder, tmp_path):
    from pymilvus import MilvusClient

    docs = write_docs(corpus(7, documents=3))
    root = tmp_path / "index"
    records = []
    for round_ in range(3):
        (docs / "news.txt").write_text(f"Round {round_}: the harbour ferry now leaves at {8 + round_}:15.\n",
                                       encoding="utf-8")
        build_index(docs, root, fake_embedder, CHUNKING, store="milvus", store_uri=milvus_server)
        records.append(collection.Record.load(builds.current_build(root)))
    assert all(b.uri == milvus_server for b in records)
    assert not list(root.rglob("milvus.db"))  # nothing embedded: the server holds it
    held = set(MilvusClient(uri=milvus_server).list_collections())
    assert {records[1].chunks, records[1].sentences, records[2].chunks, records[2].sentences} <= held
    assert not held & {records[0].chunks, records[0].sentences}
    # A server serves several processes at once: a separate `askdoc ask` while this one holds a client.
    answer = Assistant.load(root, embedder=fake_embedder).ask("When does the ferry leave now?")
    assert "10:15" in answer.citations[0].text
    other = subprocess.run([sys.executable, "-c", ASK, str(root), "When does the ferry leave now?"],
                           capture_output=True, text=True, timeout=120)
    assert other.returncode == 0, other.stderr
    assert "10:15" in other.stdout


ASK = """
import sys
from pathlib import Path
from assistant.core import Assistant
from tests.support import HashEmbedder
print(Assistant.load(Path(sys.argv[1]), embedder=HashEmbedder()).ask(sys.argv[2]).citations[0].text)
"""
