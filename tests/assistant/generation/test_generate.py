"""Generated answers, through the whole app in-process: a server
that is down, slow or answers garbage gives the quotes, never a 500; a
scripted OpenAI-style server shows what reaches users and what does not;
and the official ``openai`` client talking to askdoc's /v1. A real LLM end
to end: tests/e2e/test_llm.py."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from assistant.answering.answer import Citation
from assistant.app.server import ServerSettings, create_app
from assistant.core import Assistant
from assistant.generation.generate import LLMSettings
from index.build import build_index
from tests.support import free_port
from tests.support.llm import ScriptedLLM

# Integration tier (tests/README.md): the whole app in-process, with a scripted LLM server in a thread.
pytestmark = pytest.mark.integration

DOC = ("The river Alder floods every spring. Farmers built levees in 1952. The levees failed in 1978.\n\n"
       "Engineers later proposed a canal. The canal opened in 1990 and ended the floods.\n")
EXCERPTS = {
    1: Citation(1, "river.txt", 0, 93, DOC[:93], 1.0, 37, 62),
    2: Citation(2, "river.txt", 95, 176, DOC[95:176], 1.0, 129, 176),
}


@pytest.fixture
def client_for(write_docs, fake_embedder, tmp_path):
    docs = write_docs({"river.txt": DOC})
    build_index(docs, tmp_path / "index", fake_embedder)
    made = []

    def make(llm: LLMSettings | None) -> TestClient:
        assistant = Assistant.load(tmp_path / "index", embedder=fake_embedder)
        client = TestClient(create_app(assistant, ServerSettings(index_dir=tmp_path / "index", docs_dir=docs, llm=llm)))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


QUESTION = {"question": "When did the levees fail?"}


def stream_of(client, body=QUESTION) -> tuple[str, dict]:
    text, final = "", {}
    with client.stream("POST", "/api/ask/stream", json=body) as response:
        assert response.status_code == 200
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                if event == "answer":
                    text += data["text"]
                elif event == "citations":
                    final = data
    return text, final


def test_only_checked_sentences_reach_the_user_in_the_answer_and_the_stream(client_for):
    llm = ScriptedLLM("The levees failed in 1978. [1] Governor Smith blamed the farmers. [1] They failed "
                      "again in 2001. [1] The canal opened in 1990 [1]. Nobody was hurt. It ended the floods [7].")
    try:
        client = client_for(LLMSettings(llm.url, "scripted", timeout=10))
        data = client.post("/api/ask", json=QUESTION).json()
        assert data["mode"] == "generated" and data["dropped"] == 4
        assert data["answer"] == "The levees failed in 1978. [1] The canal opened in 1990. [1]"
        for unsupported in ("Smith", "2001", "Nobody", "[7]"):
            assert unsupported not in data["answer"]
        # Citations are exact excerpts; each highlights the sentence supporting what cites it.
        for c in data["citations"]:
            assert DOC[c["start"] : c["end"]] == c["text"]
        first = data["citations"][0]
        assert [DOC[a:b] for a, b in first["highlights"]] == ["The levees failed in 1978.",
                                                              "The canal opened in 1990 and ended the floods."]
        # The model was given the question and numbered excerpts.
        prompt = llm.requests[0]["messages"][-1]["content"]
        assert "Question: When did the levees fail?" in prompt and "[1] " in prompt
        text, final = stream_of(client)
        assert text == data["answer"] and final["mode"] == "generated" and final["dropped"] == 4
        for unsupported in ("Smith", "2001", "Nobody"):
            assert unsupported not in text
    finally:
        llm.stop()


@pytest.mark.parametrize("setup, why", [
    ("down", "failed"),
    ("slow", "took longer than 1 s"),
    ("garbage", "failed"),
    ("error", "answered 500"),
    ("unsupported", "no sentence the language model wrote could be checked"),
])
def test_a_failing_llm_gives_the_quotes_with_a_note_never_a_500(client_for, setup, why):
    llm = None
    if setup == "down":
        url = f"http://127.0.0.1:{free_port()}/v1"
    else:
        llm = ScriptedLLM("Governor Smith built the levees in 2001. [1]" if setup == "unsupported" else "",
                          "ok" if setup == "unsupported" else setup)
        url = llm.url
    try:
        client = client_for(LLMSettings(url, timeout=1))
        quotes = client_for(None).post("/api/ask", json=QUESTION).json()
        response = client.post("/api/ask", json=QUESTION)
        assert response.status_code == 200
        data = response.json()
        assert data["mode"] == "extractive" and why in data["note"]
        assert data["answer"] == quotes["answer"] and data["citations"] == quotes["citations"]
        text, final = stream_of(client)
        assert text == quotes["answer"] and why in final["note"]
    finally:
        if llm:
            llm.stop()


@pytest.mark.parametrize("rewrite, searched", [
    ("What did the canal end?", "What did the canal end?"),  # words from the conversation: used
    ("What did the dam end?", "What did it end?"),  # "dam" is in no turn: refused, the rules apply
])
def test_a_follow_up_is_rewritten_by_the_llm_only_with_words_of_the_conversation(client_for, rewrite, searched):
    llm = ScriptedLLM("The canal ended the floods. [1]", rewrite=rewrite)
    try:
        client = client_for(LLMSettings(llm.url, timeout=10))
        history = [{"role": "user", "content": "When did the canal open?"}, {"role": "assistant", "content": "In 1990."}]
        data = client.post("/api/ask", json={"question": "What did it end?", "history": history}).json()
        assert data["question"] == "What did it end?" and data["mode"] == "generated"
        assert data["answer"] == "The canal ended the floods. [1]"
        assert llm.requests[0]["messages"][0]["content"].startswith("Rewrite")
        assert llm.requests[1]["messages"][-1]["content"].endswith(f"Question: {searched}")
    finally:
        llm.stop()


def test_without_an_llm_nothing_changes(client_for):
    data = client_for(None).post("/api/ask", json=QUESTION).json()
    assert data["mode"] == "extractive" and "note" not in data and "dropped" not in data
    assert "The levees failed in 1978. [1]" in data["answer"]


def test_the_openai_client_talks_to_askdoc_plain_and_streaming(client_for):
    import openai

    client = client_for(None)
    api = openai.OpenAI(base_url=str(client.base_url) + "/v1", api_key="unused", http_client=client)
    assert [m.id for m in api.models.list()] == ["askdoc"]
    reply = api.chat.completions.create(model="askdoc", messages=[
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "When did the levees fail?"}])
    content = reply.choices[0].message.content
    assert content.startswith("The levees failed in 1978. [1]") and "\n\nSources:\n[1] river.txt" in content
    assert reply.choices[0].finish_reason == "stop"
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in api.chat.completions.create(
        model="askdoc", messages=[{"role": "user", "content": "When did the levees fail?"}], stream=True))
    assert streamed == content
    # A follow-up uses the conversation, as the chat UI's history.
    follow = api.chat.completions.create(model="askdoc", messages=[
        {"role": "user", "content": "When did the canal open?"}, {"role": "assistant", "content": "1990 [1]"},
        {"role": "user", "content": "What did it end?"}])
    assert "floods" in follow.choices[0].message.content
    with pytest.raises(openai.BadRequestError):
        api.chat.completions.create(model="askdoc", messages=[{"role": "assistant", "content": "Hello"}])


def test_v1_has_the_same_guard_as_the_api(write_docs, fake_embedder, tmp_path):
    import openai

    docs = write_docs({"river.txt": DOC})
    build_index(docs, tmp_path / "index", fake_embedder)
    assistant = Assistant.load(tmp_path / "index", embedder=fake_embedder)
    app = create_app(assistant, ServerSettings(index_dir=tmp_path / "index", docs_dir=docs, api_token="tok", rate_limit=2,
                                         allowed_origins=("https://intranet.example",)))
    with TestClient(app) as client:
        assert client.get("/v1/models").status_code == 401
        assert client.get("/v1/models", headers={"Authorization": "Bearer tok",
                                                 "Origin": "https://evil.example"}).status_code == 403
        api = openai.OpenAI(base_url=str(client.base_url) + "/v1", api_key="tok", http_client=client)
        question = [{"role": "user", "content": "When did the levees fail?"}]
        for _ in range(2):
            assert "1978" in api.chat.completions.create(model="askdoc", messages=question).choices[0].message.content
        with pytest.raises(openai.RateLimitError):
            openai.OpenAI(base_url=str(client.base_url) + "/v1", api_key="tok", http_client=client,
                          max_retries=0).chat.completions.create(model="askdoc", messages=question)
