"""Scopes: a question limited to a folder or to listed documents is
searched only there (exact and approximate FAISS), and never cites
outside; with the real model on XQuAD, scoping to a question's own article
keeps its answer."""

from __future__ import annotations

import pytest

from assistant.core import Assistant
from assistant.retrieval.scope import Scope
from index.build import build_index
from index.documents.chunking import ChunkSettings
from index.errors import QuestionError
from tests.support import HashEmbedder, write_files

# Each folder holds a document on the same topic, so an unscoped search
# could cite any of them.
DOCS = {
    "hr/leave.txt": "Staff carry over five days of leave into the next year. Leave requests go to the manager.\n",
    "hr/pay/2024.txt": "Salaries rise by three percent in 2024. Leave without pay stops the pension.\n",
    "it/vpn.txt": "The VPN needs a token. Leave the VPN running during updates.\n",
    "notes.txt": "Leave the door closed. The office opens at eight.\n",
}


@pytest.mark.parametrize("value, expected", [
    ("hr", ("hr",)),
    ("/hr/", ("hr/",)),
    ("hr\\pay", ("hr/pay",)),
    (["it/vpn.txt", "hr/"], ("it/vpn.txt", "hr/")),
    (["notes.txt", "notes.txt"], ("notes.txt",)),
])
def test_parse(value, expected):
    assert Scope.parse(value) == Scope(expected)


@pytest.mark.parametrize("value", ["  ", [], None, ["", "."]])
def test_an_empty_scope_is_no_scope(value):
    assert Scope.parse(value) is None


@pytest.mark.parametrize("value", [[1, 2], ["a"] * 1001])
def test_parse_refuses_what_is_not_a_scope(value):
    with pytest.raises(QuestionError):
        Scope.parse(value)


@pytest.fixture(scope="module", params=["exact", "approximate", *(pytest.param(engine, marks=pytest.mark.integration)
                                                                for engine in ("milvus", "qdrant"))])
def assistant(request, tmp_path_factory):
    """Scoped search on FAISS (exact and IVF) and on each vector engine: one index each, only read."""
    kind = request.param
    base = tmp_path_factory.mktemp(f"scope-{kind}")
    build_index(write_files(base / "docs", DOCS), base / "index", HashEmbedder(), ChunkSettings(size=60, overlap=0),
                vector_index=kind if kind in ("exact", "approximate") else None,
                store=kind if kind in ("milvus", "qdrant") else None)
    return Assistant.load(base / "index", embedder=HashEmbedder())


@pytest.mark.parametrize("scope, allowed", [
    ("hr/", {"hr/leave.txt", "hr/pay/2024.txt"}),
    ("hr/pay", {"hr/pay/2024.txt"}),
    ("hr/leave.txt", {"hr/leave.txt"}),
    (["it/vpn.txt", "notes.txt"], {"it/vpn.txt", "notes.txt"}),
    (["notes.txt"], {"notes.txt"}),
])
def test_a_scoped_search_and_answer_stay_in_scope(assistant, scope, allowed):
    query_scope = Scope.parse(scope)
    for question in ("What about leave?", "When does the office open?", "What does the VPN need?"):
        from assistant.retrieval.query import prepare

        hits, sentences, _ = assistant.retriever.search(prepare(question), scope=query_scope)
        assert hits and {h.source for h in hits} <= allowed
        assert {s.source for s in sentences} <= allowed
        answer = assistant.ask(question, scope=scope)
        assert {c.source for c in answer.citations} <= allowed


def test_unscoped_questions_see_every_document(assistant):
    from assistant.retrieval.query import prepare

    hits, _, _ = assistant.retriever.search(prepare("What about leave?"))
    assert {h.source for h in hits} == set(DOCS)


@pytest.mark.parametrize("scope, message", [
    ("finance/", "no document or folder 'finance/'"),
    (["hr/leave.txt", "hr/missing.txt", "h"], "no document or folder 'hr/missing.txt', 'h'"),
])
def test_a_scope_naming_nothing_is_the_askers_error(assistant, scope, message):
    with pytest.raises(QuestionError, match=message):
        assistant.ask("What about leave?", scope=scope)
    answers = assistant.ask_many([("What about leave?", None, scope), ("What about leave?", None)])
    assert isinstance(answers[0], QuestionError) and not isinstance(answers[1], Exception)


@pytest.mark.slow
def test_real_model_scoped_to_another_article_never_cites_it_and_to_its_own_keeps_the_answer(xquad):
    assistant, cases = xquad
    documents = sorted({c.source for c in cases})
    sample = cases[:: max(1, len(cases) // 40)]
    kept = 0
    for case in sample:
        other = documents[(documents.index(case.source) + 1) % len(documents)]
        elsewhere = assistant.ask(case.question, scope=[other])
        assert {c.source for c in elsewhere.citations} <= {other}
        unscoped, own = assistant.ask(case.question), assistant.ask(case.question, scope=[case.source])
        assert {c.source for c in own.citations} <= {case.source}
        if unscoped.citations and unscoped.citations[0].source == case.source:
            # The sentence quoted first; the ones quoted after it may differ, since the reader reads
            # retrieval's best few sentences and the scope lets others of the article into them.
            first = unscoped.text.split(" [1]")[0]
            kept += own.citations[0].source == case.source and own.text.split(" [1]")[0] == first
        else:
            kept += 1
    # Limiting the search to the right article never loses the answer the whole corpus found.
    assert kept == len(sample)
