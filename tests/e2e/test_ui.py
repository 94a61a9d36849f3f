"""The web app in a real headless Chromium: ask, read, review sources.

Each test fails on any request to a host other than the server, and on any
console error or JavaScript dialog.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.support import DEFAULT_DOCS, PageWatch, Server, ask_widget

pytestmark = pytest.mark.slow

PAYLOADS = (
    "Security notes for the intranet.\n"
    "The old portal printed <script>alert(1)</script> in its footer, which was dangerous.\n"
    "Another page showed <img src=x onerror=alert(2)> as a broken image.\n"
    "A markdown file linked [x](javascript:alert(3)) to nowhere.\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_embedder):
    base = tmp_path_factory.mktemp("ui")
    docs = base / "docs"
    shutil.copytree(DEFAULT_DOCS, docs)
    (docs / "payloads.md").write_text(PAYLOADS, encoding="utf-8")
    from index.build import build_index

    build_index(docs, base / "index", real_embedder)
    running = Server(docs, base / "index").wait()
    yield running
    running.stop()


@pytest.fixture
def watch(browser, server):
    w = PageWatch(browser, server.url)
    yield w
    assert w.foreign == [], f"requests left the server: {w.foreign}"
    assert w.errors == [], f"console errors: {w.errors}"
    assert w.dialogs == [], f"a dialog fired: {w.dialogs}"
    w.close()


def ask(page, question: str) -> None:
    box = page.locator("#askdoc-question textarea")
    box.fill(question)
    box.press("Enter")


def last_answer(page):
    return page.locator("#askdoc-chat .message.bot, #askdoc-chat [data-testid='bot']").last


def test_ask_read_and_open_the_source(server, watch, tmp_path):
    page = watch.page
    page.goto(server.url + "/")
    header = page.locator("#askdoc-header").inner_text()
    assert "document(s)" in header and "chunks" in header and "all-MiniLM-L6-v2" in header
    ask(page, "What did Singh tell Dong Jun?")
    page.wait_for_selector(".askdoc-card", timeout=60_000)
    answer = last_answer(page)
    # One [n] per excerpt: every sentence quoted from the first excerpt links to it.
    markers = answer.locator("a", has_text="[1]")
    cards = page.locator(".askdoc-card")
    assert markers.count() >= 1 and cards.count() >= 1
    assert "emphasized" in answer.inner_text() or "stated" in answer.inner_text()
    card = cards.first
    highlighted = card.locator("mark").all_inner_texts()
    assert len(highlighted) == markers.count()  # a highlight for each sentence the answer quotes from it
    assert all(h and h in answer.inner_text() for h in highlighted)
    assert card.locator(".askdoc-doc").inner_text() == "admm-plus-2024-singh.txt"

    card.click()
    frame = page.frame(name="askdoc-source")
    frame.wait_for_selector("mark.sentence")
    assert frame.locator("mark.sentence").all_inner_texts() == highlighted
    assert frame.locator("mark#excerpt").is_visible()
    page.screenshot(path=str(tmp_path / "askdoc-ui.png"), full_page=True)
    assert (tmp_path / "askdoc-ui.png").stat().st_size > 10_000


def test_markers_open_their_source(server, watch):
    page = watch.page
    page.goto(server.url + "/")
    ask(page, "When did Singh meet the Chinese defence minister?")
    page.wait_for_selector(".askdoc-card", timeout=60_000)
    last_answer(page).locator("a", has_text="[1]").first.click()
    frame = page.frame(name="askdoc-source")
    frame.wait_for_selector("mark.sentence")
    # The excerpt may mark more than one quoted sentence (they share a citation): the first holds the date.
    assert "November 20, 2024" in frame.locator("mark.sentence").first.inner_text()
    assert page.url.rstrip("/") == server.url  # the chat page stayed


def test_the_viewer_never_shows_a_stale_source(server, watch):
    page = watch.page
    page.goto(server.url + "/")
    placeholder = "Click a [n] marker"

    def open_first_source() -> None:
        last_answer(page).locator("a", has_text="[1]").first.click()
        page.frame(name="askdoc-source").wait_for_selector("mark.sentence")

    def viewer_cleared() -> None:
        frame = page.frame(name="askdoc-source")
        frame.wait_for_selector(f"text={placeholder}", timeout=30_000)
        assert frame.locator("mark").count() == 0

    ask(page, "What did Singh tell Dong Jun?")
    page.wait_for_selector("#askdoc-sources [data-turn='1']", timeout=60_000)
    open_first_source()
    ask(page, "What is the capital of France?")  # abstains: no sources, so nothing in the viewer either
    page.wait_for_selector(".askdoc-sources-empty >> text=don't cover", timeout=60_000)
    viewer_cleared()

    ask(page, "Which Lao minister did Singh meet?")
    page.wait_for_selector("#askdoc-sources [data-turn='3']", timeout=60_000)
    open_first_source()
    ask(page, "When did Singh meet the Chinese defence minister?")  # a new answer with its own sources
    page.wait_for_selector("#askdoc-sources [data-turn='4']", timeout=60_000)
    viewer_cleared()

    open_first_source()
    page.locator("#askdoc-new").click()
    viewer_cleared()


def test_follow_up_and_new_conversation(server, watch):
    page = watch.page
    page.goto(server.url + "/")
    ask(page, "What did Singh tell Dong Jun?")
    page.wait_for_selector(".askdoc-card", timeout=60_000)
    ask(page, "When was that?")
    page.wait_for_selector("#askdoc-sources [data-turn='2']", timeout=60_000)  # the second answer is complete
    assert "November 20, 2024" in last_answer(page).inner_text()
    # A question typed before the click survives it: the chat and the
    # sources are emptied in the browser, the question box is the user's.
    page.locator("#askdoc-question textarea").fill("When was that?")
    page.locator("#askdoc-new").click()
    page.wait_for_function("!document.querySelector('#askdoc-chat').innerText.includes('November')", timeout=30_000)
    assert "appear here" in page.locator("#askdoc-sources").inner_text()
    assert page.locator("#askdoc-question textarea").input_value() == "When was that?"
    page.locator("#askdoc-question textarea").press("Enter")
    page.wait_for_selector(".askdoc-sources-empty >> text=don't cover", timeout=60_000)


def test_abstained_answer_says_so_and_shows_no_sources(server, watch):
    page = watch.page
    page.goto(server.url + "/")
    ask(page, "What is the recipe for chocolate cake?")
    page.wait_for_selector(".askdoc-sources-empty >> text=don't cover", timeout=60_000)
    assert "don't say" in last_answer(page).inner_text()
    assert page.locator(".askdoc-card").count() == 0


def test_examples_fill_the_question(server, watch):
    page = watch.page
    page.goto(server.url + "/")
    page.get_by_text("What did Singh tell Dong Jun?", exact=True).first.click()
    page.wait_for_function("document.querySelector('#askdoc-question textarea').value.includes('Dong Jun')", timeout=10_000)


def test_feedback_is_appended(server, watch):
    page = watch.page
    page.goto(server.url + "/")
    ask(page, "Which Lao minister did Singh meet?")
    page.wait_for_selector(".askdoc-card", timeout=60_000)
    feedback = server.log.parent / "index" / "feedback.jsonl"
    before = feedback.read_text().count("\n") if feedback.exists() else 0
    page.locator("#askdoc-chat button[aria-label='Like']").last.click()
    page.wait_for_timeout(1500)
    lines = feedback.read_text(encoding="utf-8").splitlines()
    assert len(lines) == before + 1
    entry = json.loads(lines[-1])
    assert entry["vote"] == "up" and entry["question"] == "Which Lao minister did Singh meet?"
    assert "Chansamone" in entry["answer"] and entry["citations"][0]["source"] == "admm-plus-2024-singh.txt"
    assert {"time", "question", "answer", "citations", "vote"} <= set(entry)


def test_a_refused_question_is_explained_and_votes_stay_aligned(server, watch):
    page = watch.page
    page.goto(server.url + "/")
    ask(page, "x " * 1100)  # over 2,000 characters once trimmed
    page.wait_for_function("document.querySelector('#askdoc-chat').innerText.includes('longer than 2000')", timeout=60_000)
    ask(page, "Who is Malaysia's defence minister?")
    page.wait_for_selector(".askdoc-card", timeout=60_000)
    feedback = server.log.parent / "index" / "feedback.jsonl"
    before = feedback.read_text().count("\n") if feedback.exists() else 0
    page.locator("#askdoc-chat button[aria-label='Dislike']").last.click()
    page.wait_for_timeout(1500)
    lines = feedback.read_text(encoding="utf-8").splitlines()
    assert len(lines) == before + 1
    entry = json.loads(lines[-1])
    assert entry["question"] == "Who is Malaysia's defence minister?" and entry["vote"] == "down"


def test_document_payloads_render_as_inert_text(server, watch):
    page = watch.page
    page.goto(server.url + "/")
    ask(page, "What did the old portal print in its footer?")
    page.wait_for_selector(".askdoc-card", timeout=60_000)
    chat_text = last_answer(page).inner_text()
    assert "<script>alert(1)</script>" in chat_text
    assert "<script>alert(1)</script>" in page.locator(".askdoc-card").first.inner_text()
    page.locator(".askdoc-card").first.click()
    frame = page.frame(name="askdoc-source")
    frame.wait_for_selector("mark.sentence")
    body = frame.locator("main").inner_text()
    for payload in ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "[x](javascript:alert(3))"):
        assert payload in body
    assert frame.locator("main script, main img").count() == 0
    ask(page, "What did the markdown file link to?")
    page.wait_for_function("document.querySelector('#askdoc-chat').innerText.includes('javascript:alert(3)')", timeout=60_000)
    assert last_answer(page).locator("a[href^='javascript']").count() == 0
    page.wait_for_timeout(500)  # give any injected handler the chance to fire a dialog


def test_everything_works_under_a_root_path(tmp_path, real_embedder, browser):
    """The app behind a proxy prefix: UI, its assets, the source view, the
    widget and the API all answer under /askdoc/."""
    from index.build import build_index

    build_index(DEFAULT_DOCS, tmp_path / "index", real_embedder)
    server = Server(DEFAULT_DOCS, tmp_path / "index", "--root-path", "/askdoc").wait("/askdoc/")
    try:
        # Chat page and widget page each get their own browser context: leaving
        # the chat page by navigation aborts Gradio's open event stream, and the
        # errors its client logs while unloading belong to no page a user sees.
        for check in (_chat_under_prefix, _widget_under_prefix):
            w = PageWatch(browser, server.url)
            failed: list[str] = []
            w.page.on("response", lambda r, failed=failed: failed.append(r.url) if r.status >= 400 else None)
            try:
                check(w.page, server.url)
                assert failed == [] and w.foreign == [] and w.errors == []
            finally:
                w.close()
    finally:
        server.stop()


def _chat_under_prefix(page, url: str) -> None:
    page.goto(url + "/askdoc/")
    ask(page, "Which Lao minister did Singh meet?")
    page.wait_for_selector(".askdoc-card", timeout=60_000)
    page.locator(".askdoc-card").first.click()
    frame = page.frame(name="askdoc-source")
    frame.wait_for_selector("mark.sentence")
    assert frame.url.startswith(url + "/askdoc/source?")


def _widget_under_prefix(page, url: str) -> None:
    page.goto(url + "/askdoc/embed-example")
    page.locator("#askdoc-widget .launcher").click()
    ask_widget(page, "When did Singh meet Dong Jun?")
    page.wait_for_selector("#askdoc-widget .bot details", timeout=60_000)
    assert "November 20, 2024" in page.locator("#askdoc-widget .bot").last.inner_text()
    assert page.locator("#askdoc-widget a.open-source").first.get_attribute("href").startswith(
        url + "/askdoc/source?")


def test_the_scope_picker_limits_the_sources(server, watch):
    page = watch.page
    page.goto(server.url + "/")

    def pick(label: str) -> None:
        page.locator("#askdoc-scope input").click()
        page.get_by_role("option", name=label, exact=True).click()
        assert page.locator("#askdoc-scope input").input_value() == label

    def answer_sources(question: str, turn: int) -> list[str]:
        ask(page, question)
        page.wait_for_selector(f"#askdoc-sources [data-turn='{turn}']", timeout=60_000)
        return page.locator("#askdoc-sources .askdoc-doc").all_inner_texts()

    pick("payloads.md")
    scoped = answer_sources("What did Singh tell Dong Jun?", 1)
    assert set(scoped) <= {"payloads.md"}  # the article is out of scope: quoted from payloads.md, or no answer
    assert set(answer_sources("What did the old portal print in its footer?", 2)) == {"payloads.md"}
    pick("All documents")
    assert "admm-plus-2024-singh.txt" in answer_sources("What did Singh tell Dong Jun?", 3)
