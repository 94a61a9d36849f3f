"""A PDF citation opens the PDF's own page, drawn by the vendored PDF.js in
a real Chromium, with the cited sentence marked on its text layer: the
marks cover the sentence's words where pdfium (another PDF engine) places
them, for sentences on several pages, some wrapped over two lines."""

from __future__ import annotations

import textwrap

import pytest

from assistant.answering.answer import Citation
from assistant.routes.render import source_url
from tests.support import PageWatch, Server, make_pdf

pytestmark = pytest.mark.slow

PAGES = [
    "Facilities handbook\n\nThe committee met in Geneva on a cold morning to review the budget. It agreed on three "
    "priorities for the water program and named a treasurer for the coming year.",
    "The bicycle shed behind building C closes at half past nine in the evening, and cyclists must leave before "
    "then. Guards lock the gate afterwards and open it again at six.",
    "Visitors register at the front desk in the main hall. A printed badge must be worn at all times inside the "
    "campus, and it is returned at the exit when the visit ends.",
]
QUESTIONS = {  # question -> the page its answer is on
    "When does the bicycle shed close?": 2,
    "Where do visitors register?": 3,
    "Where did the committee meet?": 1,
}


def wrapped(page: str) -> str:
    return "\n".join(line for block in page.split("\n\n") for line in textwrap.wrap(block, 64) or [""])


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_embedder):
    from index.build import build_index

    base = tmp_path_factory.mktemp("pdfview")
    docs = base / "docs"
    docs.mkdir()
    (docs / "handbook.pdf").write_bytes(make_pdf([wrapped(p) for p in PAGES]))
    (docs / "notes.txt").write_text("The parking lot closes at ten.\n", encoding="utf-8")
    build_index(docs, base / "index", real_embedder)
    running = Server(docs, base / "index").wait()
    yield running, docs / "handbook.pdf"
    running.stop()


def word_boxes(pdf_path, page_number: int, sentence: str) -> list[tuple[float, float, float, float]]:
    """Where pdfium puts each word of ``sentence`` on the page, in PDF points
    (left, top, right, bottom from the page's top left)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf_path))
    page = document[page_number - 1]
    height = page.get_height()
    text_page = page.get_textpage()
    text = text_page.get_text_range()
    boxes, at = [], 0
    for word in sentence.split():
        found = text.find(word, at)
        assert found >= 0, f"pdfium does not see {word!r}"
        at = found + len(word)
        chars = [text_page.get_charbox(i) for i in range(found, found + len(word))]
        boxes.append((min(c[0] for c in chars), height - max(c[3] for c in chars),
                      max(c[2] for c in chars), height - min(c[1] for c in chars)))
    document.close()
    return boxes


@pytest.mark.parametrize("question, page", list(QUESTIONS.items()))
def test_the_cited_sentence_is_marked_on_its_pdf_page(server, browser, question, page):
    import httpx

    running, pdf_path = server
    answer = httpx.post(running.url + "/api/ask", json={"question": question}, timeout=30).json()
    first = answer["citations"][0]
    assert first["source"] == "handbook.pdf" and first["page"] == page
    citation = Citation(**{k: (tuple(map(tuple, v)) if k == "highlights" else v) for k, v in first.items()})
    sentences = [first["text"][a - first["start"] : b - first["start"]] for a, b in first["highlights"]]

    w = PageWatch(browser, running.url)
    view = w.page
    view.goto(f"{running.url}/{source_url(citation)}")
    view.wait_for_selector("#askdoc-pdf[data-ready='1']", timeout=30_000)
    assert view.locator("#askdoc-pdf").get_attribute("data-found") == f"{len(sentences)}/{len(sentences)}"
    assert view.locator("#askdoc-pages").inner_text() == f"page {page} of 3"
    sheet = view.locator("#askdoc-page")
    origin, scale = sheet.bounding_box(), float(sheet.get_attribute("data-scale"))
    marks = [m.bounding_box() for m in view.locator("mark.askdoc-hit").all()]
    assert 1 <= len(marks) <= sum(s.count("\n") + 2 for s in sentences)

    def covered(x: float, y: float) -> bool:
        return any(m["x"] - 2 <= x <= m["x"] + m["width"] + 2 and m["y"] - 2 <= y <= m["y"] + m["height"] + 2
                   for m in marks)

    boxes = [box for sentence in sentences for box in word_boxes(pdf_path, page, " ".join(sentence.split()))]
    for left, top, right, bottom in boxes:
        x = origin["x"] + scale * (left + right) / 2
        y = origin["y"] + scale * (top + bottom) / 2
        assert covered(x, y), f"a word of {sentences!r} at ({x:.0f}, {y:.0f}) is not marked: {marks}"
    # The marks cover the sentences' lines and nothing far from them.
    tops = [origin["y"] + scale * top for _, top, _, _ in boxes]
    assert all(min(tops) - 20 <= m["y"] <= max(tops) + 20 for m in marks)
    # The text view is one click away, and leads back.
    view.locator("#askdoc-text-view").click()
    view.wait_for_selector("mark.sentence")
    assert " ".join(view.locator("mark.sentence").first.inner_text().split()) == " ".join(sentences[0].split())
    view.locator("#askdoc-original").click()
    view.wait_for_selector("#askdoc-pdf[data-ready='1']", timeout=30_000)
    assert w.errors == [] and w.foreign == [] and w.dialogs == []
    w.close()


def test_the_pdf_view_is_served_without_a_cdn_and_never_serves_other_files(server):
    import httpx

    running, _ = server
    assert httpx.get(running.url + "/pdf-assets/pdfjs/pdf.min.mjs").headers["content-type"].startswith("text/javascript")
    assert httpx.get(running.url + "/document", params={"doc": "handbook.pdf"}).content.startswith(b"%PDF-")
    for doc in ("notes.txt", "../index/manifest.json", "missing.pdf"):
        assert httpx.get(running.url + "/document", params={"doc": doc}).status_code == 404
    text_view = httpx.get(running.url + "/source", params={"doc": "notes.txt", "start": 0, "end": 10})
    assert "mark" in text_view.text and "pdfview" not in text_view.text


@pytest.mark.parametrize("width", [420, 700])
def test_the_page_fits_the_frame_so_no_marked_word_is_cut_off(server, browser, width):
    import httpx

    running, _ = server
    question = next(iter(QUESTIONS))
    first = httpx.post(running.url + "/api/ask", json={"question": question}, timeout=30).json()["citations"][0]
    citation = Citation(**{k: (tuple(map(tuple, v)) if k == "highlights" else v) for k, v in first.items()})
    w = PageWatch(browser, running.url)
    view = w.page
    view.set_viewport_size({"width": width, "height": 800})  # as narrow as the frame beside the chat, and wider
    view.goto(f"{running.url}/{source_url(citation)}")
    view.wait_for_selector("#askdoc-pdf[data-ready='1']", timeout=30_000)
    frame = view.evaluate("() => { const r = document.getElementById('askdoc-pdf'); "
                          "return [r.scrollWidth, r.clientWidth, document.documentElement.scrollWidth]; }")
    assert frame[0] <= frame[1] and frame[2] <= width, f"the page overflows the frame: {frame}"
    marks = [m.bounding_box() for m in view.locator("mark.askdoc-hit").all()]
    assert marks and all(m["x"] >= 0 and m["x"] + m["width"] <= width for m in marks)
    assert w.errors == []
    w.close()
