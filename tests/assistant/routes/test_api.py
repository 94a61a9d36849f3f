"""The HTTP API and its guards, on a small index with the fake embedder
(the real-model API path runs in test_widget.py)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from assistant.app.server import ServerSettings, create_app
from assistant.core import Assistant
from index.build import build_index

# Integration tier (tests/README.md): the whole app in-process (FastAPI's TestClient).
pytestmark = pytest.mark.integration

DOC = (
    "The river Alder floods every spring. Farmers built levees in 1952. The levees failed in 1978.\n"
    "Engineers later proposed a canal. The canal opened in 1990 and ended the floods.\n"
)
QUESTION = {"question": "When did the levees fail?"}


@pytest.fixture
def make_client(write_docs, fake_embedder, tmp_path):
    docs = write_docs({"river.txt": DOC})
    build_index(docs, tmp_path / "index", fake_embedder)
    assistant = Assistant.load(tmp_path / "index", embedder=fake_embedder)
    clients = []

    def make(**settings) -> TestClient:
        app = create_app(assistant, ServerSettings(index_dir=tmp_path / "index", docs_dir=docs, **settings))
        client = TestClient(app, base_url="http://askdoc.test")
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_ask_returns_the_cli_json_contract(make_client):
    response = make_client().post("/api/ask", json=QUESTION)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"question", "answer", "abstained", "citations", "mode", "short_answer"}
    assert data["question"] == QUESTION["question"] and not data["abstained"]
    for c in data["citations"]:
        assert DOC[c["start"] : c["end"]] == c["text"]
        assert {"n", "source", "start", "end", "text", "score"} <= set(c)
    assert "The levees failed in 1978. [1]" in data["answer"]


def test_history_is_used(make_client):
    history = [{"role": "user", "content": "When did the canal open?"}, {"role": "assistant", "content": "1990"}]
    data = make_client().post("/api/ask", json={"question": "Why was that?", "history": history}).json()
    assert not data["abstained"]


def test_stream_sends_answer_then_citations_then_done(make_client):
    client = make_client()
    with client.stream("POST", "/api/ask/stream", json=QUESTION) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    events = [(e.split("\n")[0].removeprefix("event: "), json.loads(e.split("\n")[1].removeprefix("data: ")))
              for e in body.strip().split("\n\n")]
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "done"] and set(names[:-2]) == {"answer"} and len(names) >= 3
    streamed = "".join(data["text"] for name, data in events if name == "answer")
    plain = client.post("/api/ask", json=QUESTION).json()
    assert streamed == plain["answer"] == events[-1][1]["answer"]
    assert events[-2][1]["citations"] == plain["citations"]


def test_healthz_describes_the_index(make_client):
    data = make_client().get("/api/healthz").json()
    assert data["status"] == "ok" and data["documents"] == 1 and data["chunks"] >= 1
    assert data["model"] == "fake/hash-embedder" and data["built_at"].endswith("Z")
    assert data["chat_page"] in ("ready", "off")  # built with the app here; askdoc serve builds it later (test_later.py)


@pytest.mark.parametrize("body, fragment", [
    ({"question": ""}, "1 to 2,000 characters"),
    ({"question": "   \n\t "}, "1 to 2,000 characters"),
    ({"question": "x" * 2001}, "1 to 2,000 characters"),
    ({"question": "ok?", "history": [{"role": "user", "content": "q"}] * 21}, "at most 20 history turns"),
    ({"question": "ok?", "history": [{"role": "system", "content": "q"}]}, "history.0.role"),
    ({}, "question: Field required"),
])
def test_limits_give_clear_422(make_client, body, fragment):
    response = make_client().post("/api/ask", json=body)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_question_limit_counts_after_trimming(make_client):
    assert make_client().post("/api/ask", json={"question": "  " + "x" * 1999 + "   "}).status_code == 200


@pytest.mark.parametrize("chunked", [False, True])
def test_body_over_64kb_is_422(make_client, chunked):
    body = json.dumps({"question": "q?", "history": [{"role": "user", "content": "y" * 15_000}] * 5}).encode()
    assert len(body) > 64 * 1024
    client = make_client()
    if chunked:
        response = client.post("/api/ask", content=iter([body[:40_000], body[40_000:]]),
                               headers={"content-type": "application/json"})
    else:
        response = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and "64 KB" in response.json()["detail"]


def test_token_is_required_when_set(make_client):
    client = make_client(api_token="s3cret")
    assert client.post("/api/ask", json=QUESTION).status_code == 401
    wrong = client.post("/api/ask", json=QUESTION, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/healthz").status_code == 401
    assert client.post("/api/ask", json=QUESTION, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/api/docs").status_code == 200  # documentation stays readable


def test_rate_limit_answers_429_with_retry_after(make_client):
    client = make_client(rate_limit=3)
    codes = [client.post("/api/ask", json=QUESTION).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.post("/api/ask/stream", json=QUESTION)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert "at most 3 a minute" in refused.json()["detail"]
    assert client.get("/api/healthz").status_code == 200  # only questions count


def test_cors_allows_listed_and_own_origins_only(make_client):
    client = make_client(allowed_origins=("http://intranet.example",))
    ok = client.post("/api/ask", json=QUESTION, headers={"Origin": "http://intranet.example"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "http://intranet.example"
    own = client.post("/api/ask", json=QUESTION, headers={"Origin": "http://askdoc.test"})
    assert own.status_code == 200
    refused = client.post("/api/ask", json=QUESTION, headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403 and "not allowed" in refused.json()["detail"]
    assert "answer" not in refused.json()
    preflight = client.options("/api/ask", headers={"Origin": "http://intranet.example",
                                                     "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and "POST" in preflight.headers["access-control-allow-methods"]


def test_default_allows_only_the_own_origin(make_client):
    client = make_client()
    assert client.post("/api/ask", json=QUESTION, headers={"Origin": "http://other.example"}).status_code == 403
    assert client.post("/api/ask", json=QUESTION).status_code == 200  # no Origin: curl, scripts


def test_frame_ancestors_follow_the_allowed_origins(make_client):
    client = make_client(allowed_origins=("http://intranet.example",))
    for path in ("/", "/embed-example"):
        csp = client.get(path).headers["content-security-policy"]
        assert "frame-ancestors 'self' http://intranet.example" in csp
    source = client.get("/source", params={"doc": "river.txt", "start": 0, "end": 10})
    csp = source.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'self' http://intranet.example" in csp


def test_everything_works_under_a_root_path(make_client):
    client = make_client(root_path="/askdoc")
    assert client.post("/askdoc/api/ask", json=QUESTION).json()["citations"]
    assert client.get("/askdoc/api/healthz").status_code == 200
    assert "attachShadow" in client.get("/askdoc/embed.js").text
    assert "/askdoc/embed.js" in client.get("/askdoc/embed-example").text
    assert client.get("/askdoc/source", params={"doc": "river.txt", "start": 0, "end": 5}).status_code == 200
    docs = client.get("/askdoc/api/docs").text
    assert "/askdoc/api/openapi.json" in docs and "/askdoc/api/docs/static/swagger-ui-bundle.js" in docs
    assert client.get("/askdoc/api/docs/static/swagger-ui-bundle.js").status_code == 200
    ui = client.get("/askdoc/")
    assert ui.status_code == 200 and "<html" in ui.text.lower()
    config = client.get("/askdoc/config").json()
    assert config["root"].endswith("/askdoc")
    # A proxy that strips the prefix reaches the same routes.
    assert client.post("/api/ask", json=QUESTION).status_code == 200


def test_openapi_documents_the_api(make_client):
    spec = make_client().get("/api/openapi.json").json()
    assert {"/api/ask", "/api/ask/stream", "/api/healthz"} <= set(spec["paths"])
    assert "/source" not in spec["paths"]


def test_embed_js_is_javascript(make_client):
    response = make_client().get("/embed.js")
    assert response.headers["content-type"].startswith("application/javascript")
    assert "data-" in response.text and "http://" not in response.text.replace("http://HOST", "")


def test_scope_limits_the_citations_and_an_unknown_one_is_a_422(write_docs, fake_embedder, tmp_path):
    docs = write_docs({"river.txt": DOC, "hr/levees.txt": "The levees failed again in 2001, said the HR memo.\n"})
    build_index(docs, tmp_path / "index", fake_embedder)
    assistant = Assistant.load(tmp_path / "index", embedder=fake_embedder)
    with TestClient(create_app(assistant, ServerSettings(index_dir=tmp_path / "index", docs_dir=docs))) as client:
        for scope, allowed in (("hr/", {"hr/levees.txt"}), (["river.txt"], {"river.txt"})):
            data = client.post("/api/ask", json={**QUESTION, "scope": scope}).json()
            assert data["citations"] and {c["source"] for c in data["citations"]} == allowed
        unscoped = client.post("/api/ask", json=QUESTION).json()
        assert {c["source"] for c in unscoped["citations"]} <= {"river.txt", "hr/levees.txt"}
        wrong = client.post("/api/ask", json={**QUESTION, "scope": "finance/"})
        assert wrong.status_code == 422 and "no document or folder 'finance/'" in wrong.json()["detail"]
        assert client.post("/api/ask", json={**QUESTION, "scope": 7}).status_code == 422
