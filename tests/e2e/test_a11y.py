"""Every page a person sees has no WCAG 2.1 A or AA violation that axe-core
(from npm, run in the page from this checkout, no CDN) finds: the sign-in
form, the chat before and after an answer, the Documents tab with its admin
form, a source view, and the widget open on its host page with an answer."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support import DEFAULT_DOCS, ROOT, PageWatch, Server, ask_widget, sign_in, ui_round_trip

pytestmark = pytest.mark.slow

AXE = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TOKEN = "a11y-token"
# WCAG 2.0 and 2.1, levels A and AA; and whether a control's name holds the words it shows.
RUN = ("{runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, "
       "rules: {'label-content-name-mismatch': {enabled: true}}}")


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{AXE} is missing: make test installs it (npm axe-core)")
        pytest.skip("axe-core not installed (make axe)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("a11y")
    shutil.copytree(DEFAULT_DOCS, base / "docs")
    server = Server(base / "docs", base / "index", "--api-token", TOKEN, "--admin-token", "a11y-admin").wait("/embed.js")
    yield server
    server.stop()


def violations(page, axe_source: str) -> list[str]:
    # At rest: Gradio draws a component it is updating at 0.2 opacity (".pending"), which axe rightly
    # reads as too little contrast; what a person reads is the page once it is drawn.
    page.wait_for_function("() => !document.querySelector('.pending')", timeout=30_000)
    page.add_script_tag(content=axe_source)
    found = page.evaluate(f"async () => (await axe.run(document, {RUN})).violations"
                          ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))")
    return found


def ui_insights(page) -> None:
    """Open the Insights tab, give the admin token, show the report."""
    page.get_by_role("tab", name="Insights").click()
    page.locator("#askdoc-insights-token").fill("a11y-admin")
    page.get_by_role("button", name="Show insights").click()
    page.get_by_text("Asked and not found").wait_for()


def test_the_insights_tab_shows_what_was_asked_and_not_found(browser, server):
    import httpx

    asked = "What colour is the moon's umbrella?"
    httpx.post(server.url + "/api/ask", json={"question": asked}, headers={"Authorization": f"Bearer {TOKEN}"},
               timeout=60).raise_for_status()
    watch = PageWatch(browser, server.url)
    page = watch.page
    try:
        sign_in(page, server.url, TOKEN)
        page.get_by_role("tab", name="Insights").click()
        page.locator("#askdoc-insights-token").fill("not the token")
        page.get_by_role("button", name="Show insights").click()
        page.get_by_text("a valid admin token is required").wait_for()
        ui_insights(page)
        report = page.locator("#askdoc-insights-report").inner_text()
        assert asked in report and "Never cited" in report
        with page.expect_download() as download:
            page.get_by_role("button", name="Download CSV").click()
        assert asked in open(download.value.path(), encoding="utf-8").read()
        # The sign-in page (401) and the wrong token (403) were asked for on purpose; nothing else failed.
        assert [e for e in watch.errors if not e.startswith("Failed to load resource")] == []
    finally:
        watch.context.close()


def test_every_page_has_no_wcag_a_or_aa_violation(browser, server, axe_source):
    # The pages' own Content-Security-Policy forbids inline scripts: the test's axe is let in, nothing else changes.
    watch = PageWatch(browser, server.url, bypass_csp=True)
    page = watch.page
    try:
        page.goto(server.url + "/")
        page.locator("#askdoc-token").wait_for()
        assert violations(page, axe_source) == [], "the sign-in form"
        sign_in(page, server.url, TOKEN)
        page.wait_for_timeout(500)
        assert violations(page, axe_source) == [], "the chat page"
        ui_round_trip(page, "What did Singh tell Dong Jun?")
        page.locator("#askdoc-sources .askdoc-card").first.wait_for()
        assert violations(page, axe_source) == [], "the chat page with an answer and its sources"
        page.get_by_role("tab", name="Documents").click()
        page.locator("#askdoc-add").wait_for()
        assert violations(page, axe_source) == [], "the Documents tab with the admin form"
        ui_insights(page)
        assert violations(page, axe_source) == [], "the Insights tab with its report"
        page.goto(server.url + "/source?doc=admm-plus-2024-singh.txt&start=0&end=200")
        assert violations(page, axe_source) == [], "a source view"
        page.goto(server.url + "/embed-example")
        page.locator("#askdoc-widget .launcher").click()
        ask_widget(page, "What did Singh tell Dong Jun?")
        page.wait_for_function(
            "() => document.querySelector('#askdoc-widget').shadowRoot.querySelectorAll('.bot .sources').length >= 1",
            timeout=60_000)
        assert violations(page, axe_source) == [], "the widget with an answer on its host page"
    finally:
        watch.context.close()
