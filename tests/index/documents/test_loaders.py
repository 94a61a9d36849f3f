from __future__ import annotations

import logging

import pytest

from index.documents.loaders import load_document, load_folder
from index.documents.text import html_to_text, title_from_name
from index.errors import DocumentsError
from tests.support import make_pdf


def test_loads_text_markdown_html_and_pdf_recursively(write_docs):
    docs = write_docs({
        "a.txt": "Plain text.",
        "notes/b.md": "# Notes Title\n\nSome *markdown*.",
        "web/c.html": "<html><head><title>Page</title><style>p{}</style></head><body><p>Hello &amp; bye</p>"
                      "<script>alert(1)</script></body></html>",
        "d.pdf": make_pdf(["First page.", "Second page."]),
    })
    documents, skipped = load_folder(docs)
    by_id = {d.id: d for d in documents}
    assert sorted(by_id) == ["a.txt", "d.pdf", "notes/b.md", "web/c.html"]
    assert skipped == []
    assert by_id["notes/b.md"].title == "Notes Title"
    assert by_id["web/c.html"].text == "Hello & bye"
    assert by_id["web/c.html"].title == "Page"
    pdf = by_id["d.pdf"]
    assert pdf.text == "First page.\n\nSecond page."
    assert pdf.page_at(pdf.text.index("Second")) == 2 and pdf.page_at(0) == 1
    assert by_id["a.txt"].page_at(0) is None


def test_unreadable_files_are_skipped_with_one_warning(write_docs, caplog):
    docs = write_docs({
        "good.txt": "Fine.",
        "empty.txt": "   \n",
        "binary.txt": b"\x00\x01\x02binary",
        "image.png": b"\x89PNG",
        "broken.pdf": b"%PDF-1.4 not really",
    })
    with caplog.at_level(logging.WARNING, logger="index.documents.loaders"):
        documents, skipped = load_folder(docs)
    assert [d.id for d in documents] == ["good.txt"]
    assert {s.path for s in skipped} == {"empty.txt", "binary.txt", "image.png", "broken.pdf"}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "binary.txt" in warnings[0].getMessage()


def test_non_utf8_text_is_decoded(write_docs):
    docs = write_docs({"latin.txt": "Café au lait, déjà vu, naïve façade — Zürich.".encode("cp1252")})
    (doc,), _ = load_folder(docs)
    assert "Café" in doc.text and "Zürich" in doc.text


def test_hidden_files_are_ignored_and_crlf_normalized(write_docs):
    docs = write_docs({".hidden.txt": "secret", "win.txt": b"line one.\r\nline two.\r\n"})
    (doc,), skipped = load_folder(docs)
    assert doc.id == "win.txt" and doc.text == "line one.\nline two.\n" and not skipped


@pytest.mark.parametrize("files", [{}, {"only.png": b"\x89PNG"}])
def test_folder_with_nothing_readable_is_an_error(write_docs, files):
    docs = write_docs(files)
    with pytest.raises(DocumentsError, match="no readable documents"):
        load_folder(docs)


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(DocumentsError, match="not found"):
        load_folder(tmp_path / "nope")


@pytest.mark.parametrize("name, title", [("a/Super_Bowl_50.txt", "Super Bowl 50"), ("x-y.md", "x y")])
def test_title_from_name(name, title):
    assert title_from_name(name) == title


def test_html_keeps_blocks_on_separate_lines():
    text, _ = html_to_text("<h1>Head</h1><p>One</p><ul><li>a</li><li>b</li></ul>")
    assert text.split("\n") == ["Head", "One", "a", "b"]


def test_a_pdf_word_broken_at_a_line_end_is_whole_again(tmp_path):
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(make_pdf(["In the second trial the average tempera-\nture of the well-\nknown reactor rose\n"
                              "to forty degrees; the well-known reactor held."]))
    text = load_document(pdf, "paper.pdf").text
    assert "average temperature" in " ".join(text.split()) and "tempera-" not in text
    assert text.count("well-known") == 2  # a compound the text also writes whole keeps its hyphen


NEWS_PAGE = """<!doctype html><html><head><title>Harbour bridge reopens | City Times</title></head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a> <a href="/login">Sign in</a></nav></header>
<div id="cookie-banner">We use cookies to improve your experience. <button>Accept all cookies</button></div>
<main><article>
<h1>Harbour bridge reopens after two years of repairs</h1>
<p class="byline">By Ana Ruiz</p>
<p>The harbour bridge reopened to traffic on Tuesday after two years of repairs that cost 84 million euros, the city said.</p>
<figure><img src="bridge.jpg"><figcaption>Cyclists on the bridge on Tuesday. (Photo: City Times)</figcaption></figure>
<p>Engineers replaced all 212 cables and strengthened the deck so that trams can cross it again from March.</p>
<h2>What changes for commuters</h2>
<p>Buses return to their old routes next week, and the ferry shuttle that ran during the works will stop on Friday.</p>
</article></main>
<aside><h3>Related stories</h3><ul><li><a href="/a">Ten best bakeries in town</a></li><li><a href="/b">Tram fares rise in spring</a></li></ul></aside>
<div class="share">Share on Facebook Share on X Email this article</div>
<footer>Copyright 2026 City Times. All rights reserved. Privacy policy | Terms of use</footer>
</body></html>"""


def test_a_saved_web_page_is_read_into_its_main_text(write_docs):
    docs = write_docs({"bridge.html": NEWS_PAGE})
    (document,), _ = load_folder(docs)
    assert document.title == "Harbour bridge reopens | City Times"
    for kept in ("Harbour bridge reopens after two years of repairs", "cost 84 million euros", "all 212 cables",
                 "What changes for commuters", "ferry shuttle"):
        assert kept in document.text
    for dropped in ("Sign in", "cookies", "Related stories", "bakeries", "Share on Facebook", "Copyright",
                    "Privacy policy", "Photo: City Times"):
        assert dropped not in document.text, dropped
    # Headings are kept as headings: a citation names its section.
    assert document.section_at(document.text.index("ferry shuttle")).endswith("What changes for commuters")


def test_a_page_without_an_article_keeps_its_visible_text(write_docs):
    docs = write_docs({"list.html": "<html><body><ul><li>Alpha</li><li>Beta</li></ul></body></html>"})
    (document,), _ = load_folder(docs)
    assert "Alpha" in document.text and "Beta" in document.text
