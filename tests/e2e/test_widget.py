"""The embeddable widget in a real headless Chromium, on pages served from
other origins than the askdoc server."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest

from tests.e2e.test_ui import PAYLOADS
from tests.support import DEFAULT_DOCS, PageWatch, Server, ask_widget, free_port, showing_short_answers, sign_in

pytestmark = pytest.mark.slow

HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Intranet</title><link rel="icon" href="data:,">
<style>body {{ font-family: Georgia, serif; }} button {{ background: hotpink !important; }}</style></head>
<body><h1>Intranet page</h1><button id="host-button">host button</button>
<script src="{askdoc}/embed.js" data-title="Ask the docs" data-position="bottom-left" data-color="#0b5fff"
        data-greeting="Hello from askdoc" data-open="{open}" data-token="{token}" {extra}></script></body></html>"""
# The server asks for a token: the widget sends it from data-token, the chat page signs in.
TOKEN = "widget-token"


class StaticSite:
    """A page on its own origin (another port on 127.0.0.1)."""

    def __init__(self, folder, html: str) -> None:
        (folder / "index.html").write_text(html, encoding="utf-8")
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def sites(tmp_path_factory, real_embedder):
    from index.build import build_index

    base = tmp_path_factory.mktemp("widget")
    docs = base / "docs"
    shutil.copytree(DEFAULT_DOCS, docs)
    (docs / "payloads.md").write_text(PAYLOADS, encoding="utf-8")
    (docs / "hr").mkdir()
    (docs / "hr" / "leave.md").write_text("Staff carry over five days of leave into the next year.\n", encoding="utf-8")
    (docs / "reactor.md").write_text("The reactor design follows the standard model [2] described by Ortega in 1998.\n",
                                     encoding="utf-8")
    build_index(docs, base / "index", real_embedder)
    allowed_dir, refused_dir, open_dir, scoped_dir = base / "allowed", base / "refused", base / "open", base / "scoped"
    for d in (allowed_dir, refused_dir, open_dir, scoped_dir):
        d.mkdir()
    # The askdoc URL is needed in the pages, the pages' origins in askdoc's flags.
    askdoc_port = free_port()
    askdoc_url = f"http://127.0.0.1:{askdoc_port}"
    allowed = StaticSite(allowed_dir, HOST_PAGE.format(askdoc=askdoc_url, open="false", extra="", token=TOKEN))
    refused = StaticSite(refused_dir, HOST_PAGE.format(askdoc=askdoc_url, open="true", extra="", token=TOKEN))
    opened = StaticSite(open_dir, HOST_PAGE.format(askdoc=askdoc_url, open="true", extra="", token=TOKEN))
    scoped = StaticSite(scoped_dir, HOST_PAGE.format(askdoc=askdoc_url, open="true", extra='data-scope="hr/"', token=TOKEN))
    # Short answers shown from a lower probability than shipped, so the default article gives them.
    server = Server(docs, base / "index", "--allowed-origins", f"{allowed.url},{opened.url},{scoped.url}",
                    "--api-token", TOKEN, port=askdoc_port,
                    env={"ASKDOC_PARAMS": str(showing_short_answers(base))}).wait("/embed.js")
    yield {"askdoc": server, "allowed": allowed, "refused": refused, "open": opened, "scoped": scoped}
    server.stop()
    for site in (allowed, refused, opened, scoped):
        site.stop()


def visit(browser, sites, name: str, **context) -> PageWatch:
    """A watched page on the host site ``name``, loaded; the askdoc server
    is the one other host it may reach."""
    site = sites[name]
    w = PageWatch(browser, site.url, **context)
    w.allowed.add(sites["askdoc"].url.split("://", 1)[1])
    w.page.goto(site.url + "/")
    return w


def finish(w: PageWatch) -> None:
    assert w.foreign == [], f"requests to other hosts: {w.foreign}"
    assert w.dialogs == []
    w.close()


def answered(page, question: str):
    """The widget's bubble answering ``question``, once its sources have come."""
    ask_widget(page, question)
    page.wait_for_selector("#askdoc-widget .bot .sources", timeout=60_000)
    return page.locator("#askdoc-widget .bot").last


def test_widget_answers_with_expandable_sources(browser, sites, tmp_path):
    w = visit(browser, sites, "allowed")
    page = w.page
    launcher = page.locator("#askdoc-widget .launcher")
    assert launcher.inner_text() == "Ask the docs"
    # Styles do not cross the shadow boundary in either direction.
    assert launcher.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 95, 255)"
    assert "Georgia" not in launcher.evaluate("e => getComputedStyle(e).fontFamily")
    assert page.locator("#host-button").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 105, 180)"
    box = launcher.bounding_box()
    assert box["x"] < 100  # data-position="bottom-left"
    launcher.click()
    assert page.locator("#askdoc-widget .note").inner_text() == "Hello from askdoc"
    ask_widget(page, "What did Singh tell Dong Jun?")
    page.wait_for_selector("#askdoc-widget .bot details", timeout=60_000)
    bubble = page.locator("#askdoc-widget .bot").last
    assert "[1]" in bubble.inner_text()
    bubble.locator("button.marker").first.click()
    details = bubble.locator("details").first
    assert details.get_attribute("open") is not None
    marks = details.locator("mark").all_inner_texts()  # every sentence the answer quotes from this excerpt
    assert marks and all(m and m in bubble.inner_text() for m in marks)
    assert "admm-plus-2024-singh.txt" in details.locator("summary").inner_text()
    href = details.locator("a.open-source").get_attribute("href")
    assert href.startswith(sites["askdoc"].url + "/source?doc=admm-plus-2024-singh.txt")
    page.screenshot(path=str(tmp_path / "widget.png"))
    # The source link opens the main app's source view: this server asks a browser for its token first.
    view = page.context.new_page()
    view.goto(href)
    view.locator("#askdoc-token").fill(TOKEN)
    view.get_by_role("button", name="Sign in").click()
    view.locator("mark.sentence").first.wait_for()
    assert view.url.split("#")[0] == href.split("#")[0]
    assert view.locator("mark.sentence").all_inner_texts() == marks
    view.close()
    # A follow-up uses the conversation.
    ask_widget(page, "When was that?")
    page.wait_for_function(
        "document.querySelector('#askdoc-widget').shadowRoot.querySelectorAll('.bot .sources').length >= 2", timeout=60_000)
    assert "November 20, 2024" in page.locator("#askdoc-widget .bot").last.inner_text()
    assert w.errors == []
    finish(w)


def test_the_words_that_answer_stand_above_the_quotes_and_are_marked_in_them(browser, sites):
    w = visit(browser, sites, "open")
    bubble = answered(w.page, "When did Singh meet Dong Jun?")
    short = bubble.locator("strong.short-answer").inner_text()
    assert short and short == bubble.locator("mark.short").inner_text()
    assert bubble.inner_text().startswith(short)
    # The source view the first excerpt opens marks them too, inside their sentence.
    links = [a.get_attribute("href") for a in bubble.locator("a.open-source").all()]
    marking = [href for href in links if "&a=" in href]
    assert marking, links
    view = w.page.context.new_page()
    view.goto(marking[0])
    if view.locator("#askdoc-token").count():  # a server that asks a browser for its token first
        view.locator("#askdoc-token").fill(TOKEN)
        view.get_by_role("button", name="Sign in").click()
    view.locator("strong.answer").wait_for()
    assert view.locator("mark.sentence strong.answer").inner_text() == short
    view.close()
    assert w.errors == []
    finish(w)


def test_a_scoped_widget_cites_only_its_scope(browser, sites):
    w = visit(browser, sites, "scoped")
    page = w.page
    for n, question in enumerate(("How many days of leave carry over?", "What did Singh tell Dong Jun?"), 1):
        ask_widget(page, question)
        page.wait_for_function(
            """n => { const root = document.querySelector('#askdoc-widget').shadowRoot;
                      const bots = root.querySelectorAll('.msg.bot, .msg.error');
                      return bots.length >= n && !root.querySelector('button.send').disabled; }""",
            arg=n, timeout=60_000)
    bubbles = page.locator("#askdoc-widget .bot")
    assert "five days of leave" in bubbles.nth(0).inner_text()
    # Only hr/ is searched: the article about Singh is out of scope, whatever the question.
    sources = page.locator("#askdoc-widget .bot details summary").all_inner_texts()
    assert sources and all("hr/leave.md" in s for s in sources)
    assert w.errors == []
    finish(w)


def test_a_reference_mark_inside_a_quoted_sentence_stays_text(browser, sites):
    w = visit(browser, sites, "open")
    bubble = answered(w.page, "Whose standard model does the reactor design follow?")
    assert "standard model [2] described by Ortega" in bubble.inner_text()
    # Only the answer's own markers are buttons, one per citation it has.
    buttons = bubble.locator("button.marker").all_inner_texts()
    cited = len(bubble.locator("details").all())
    assert buttons and set(buttons) == {f"[{n}]" for n in range(1, cited + 1)}
    assert buttons.count("[2]") <= (1 if cited >= 2 else 0)
    finish(w)


def test_widget_on_a_refused_origin_says_why(browser, sites):
    w = visit(browser, sites, "refused")
    page = w.page
    assert page.locator("#askdoc-widget .panel").is_visible()  # data-open="true"
    ask_widget(page, "What did Singh tell Dong Jun?")
    error = page.locator("#askdoc-widget .error")
    error.wait_for(timeout=30_000)
    assert "not allowed" in error.inner_text() and sites["refused"].url in error.inner_text()
    assert page.locator("#askdoc-widget details").count() == 0
    finish(w)


def test_widget_fits_a_narrow_screen(browser, sites):
    w = visit(browser, sites, "open", viewport={"width": 360, "height": 640})
    page = w.page
    panel = page.locator("#askdoc-widget .panel")
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["y"] + box["height"] <= 640
    page.locator("#askdoc-widget .close").click()
    assert not panel.is_visible() and page.locator("#askdoc-widget .launcher").is_visible()
    assert w.errors == []
    finish(w)


def test_embed_example_page_works(browser, sites):
    askdoc = sites["askdoc"]
    # The example page's widget has no data-token: on askdoc's own origin it rides the signed-in session.
    # The session is taken to a fresh page: leaving the chat page mid-load would log Gradio's aborted
    # requests (and the sign-in prompt its 401) against the page under test.
    signing_in = PageWatch(browser, askdoc.url)
    sign_in(signing_in.page, askdoc.url, TOKEN)
    cookies = signing_in.context.cookies()
    signing_in.close()
    w = PageWatch(browser, askdoc.url)
    w.context.add_cookies(cookies)
    page = w.page
    page.goto(askdoc.url + "/embed-example")
    page.locator("#askdoc-widget .launcher").click()
    ask_widget(page, "Which Lao minister did Singh meet?")
    page.wait_for_selector("#askdoc-widget .bot details", timeout=60_000)
    assert "Chansamone Chanyalath" in page.locator("#askdoc-widget .bot").last.inner_text()
    assert w.errors == []
    finish(w)


def test_api_docs_render_offline(browser, sites, tmp_path):
    askdoc = sites["askdoc"]
    w = PageWatch(browser, askdoc.url)
    page = w.page
    page.goto(askdoc.url + "/api/docs")
    page.get_by_text("/api/ask/stream").first.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "api-docs.png"))
    finish(w)


def test_document_payloads_stay_inert_in_the_widget(browser, sites):
    w = visit(browser, sites, "allowed")
    page = w.page
    page.locator("#askdoc-widget .launcher").click()
    for question, payload in [("What did the old portal print in its footer?", "<script>alert(1)</script>"),
                              ("What did the markdown file link to?", "[x](javascript:alert(3))")]:
        ask_widget(page, question)
        page.wait_for_function(
            "t => document.querySelector('#askdoc-widget').shadowRoot.textContent.includes(t)", arg=payload, timeout=60_000)
        bubble = page.locator("#askdoc-widget .bot").last
        bubble.locator("button.marker").first.click()
        assert payload in bubble.locator("details").first.inner_text()
    shadow_elements = page.evaluate(
        "() => [...document.querySelector('#askdoc-widget').shadowRoot.querySelectorAll('script, img, iframe, a')]"
        ".map(e => e.tagName + ' ' + (e.getAttribute('href') || ''))")
    assert all(e.startswith("A " + sites["askdoc"].url + "/source?") for e in shadow_elements), shadow_elements
    page.wait_for_timeout(500)
    assert w.errors == []
    finish(w)
