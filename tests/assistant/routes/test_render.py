from __future__ import annotations

import dataclasses

import pytest

from assistant.answering.answer import NOT_FOUND, Answer, Citation, Quote, ShortAnswer
from assistant.routes.render import (
    SOURCE_WINDOW,
    answer_markdown,
    answer_sentences,
    cards_html,
    escape_markdown,
    excerpt_html,
    source_page_html,
    source_url,
)

DOC = "Intro. <script>alert(1)</script> is bad. Outro."
CITATION = Citation(n=1, source="dir/a&b.txt", start=7, end=41, text=DOC[7:41], score=0.9,
                    highlight_start=7, highlight_end=41, page=3)
ANSWER = Answer("q?", f"{DOC[7:41]} [1]", False, (CITATION,))


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "**bold** _it_ `code`",
    "# heading", "$x^2$", "a & b < c > d",
])
def test_escaped_markdown_has_no_active_syntax(payload):
    escaped = escape_markdown(payload)
    assert "<" not in escaped and ">" not in escaped.replace("&gt;", "")
    assert "](" not in escaped  # no link can form
    unescaped = escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("\\", "")
    assert unescaped == payload.replace("\\", "")


def test_answer_markdown_links_each_marker_to_its_source():
    markdown = answer_markdown(ANSWER)
    assert "&lt;script&gt;" in markdown and "<script>" not in markdown
    assert "[\\[1\\]](source?doc=dir%2Fa%26b.txt&start=7&end=41&hs=7&he=41#excerpt" in markdown


def test_the_short_answer_is_bold_above_and_inside_its_sentence_and_escaped():
    text = "The <b>levees</b> failed in 1978."
    cited = Citation(1, "river.txt", 0, len(text), text, 1.0, 0, len(text))
    short = ShortAnswer("<b>levees</b>", "river.txt", 4, 17)
    answer = Answer("q?", f"{text} [1]", False, (cited,), quotes=(Quote(text, (1,)),), short_answer=short)
    markdown = answer_markdown(answer)
    bold = "**&lt;b&gt;levees&lt;/b&gt;**"
    assert markdown.startswith(bold + "\n\n") and markdown.count(bold) == 2 and "<b>" not in markdown
    assert answer_markdown(dataclasses.replace(answer, short_answer=None)).count("**") == 0
    assert "&a=4-17#excerpt" in markdown and "&amp;a=4-17#excerpt" in cards_html(answer)  # the source view marks them


def test_the_source_view_marks_the_words_that_answer_inside_their_sentence_and_escaped():
    page = source_page_html("a.txt", "A", DOC, 7, 41, [(7, 41)], answer=(7, 32))
    assert '<strong class="answer">&lt;script&gt;alert(1)&lt;/script&gt;</strong>' in page and "<script>" not in page
    outside = source_page_html("a.txt", "A", DOC, 7, 41, [(7, 20)], answer=(30, 45))  # not inside a sentence marked
    assert 'class="answer"' not in outside


def test_abstained_markdown_says_so():
    markdown = answer_markdown(Answer("q", NOT_FOUND, True))
    assert "don't say" in markdown and "source?" not in markdown


def test_answer_sentences_come_from_the_citations():
    assert answer_sentences(ANSWER) == [(DOC[7:41], [CITATION])]


def test_cards_escape_text_and_mark_the_sentence():
    html = cards_html(ANSWER)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "dir/a&amp;b.txt" in html and "page 3" in html and "[1]" in html and "score 0.90" in html
    assert 'target="askdoc-source"' in html and html.count("<mark>") == 1
    assert "appear here" in cards_html(None)
    assert "don't cover" in cards_html(Answer("q", NOT_FOUND, True))


def test_excerpt_highlight_is_the_sentence_only():
    c = Citation(1, "d", 10, 30, "Before. Target. After", 1.0, 18, 25)
    assert excerpt_html(c) == "Before. <mark>Target.</mark> After"


def test_source_page_marks_excerpt_and_sentence():
    page = source_page_html("a.txt", "A", DOC, 7, 41, [(7, 20)], page=2)
    assert '<mark class="excerpt" id="excerpt">' in page and '<mark class="sentence">' in page
    assert "&lt;script&gt;" in page and "<script>" not in page and "page 2" in page


def test_source_page_windows_huge_documents():
    text = "x" * (3 * SOURCE_WINDOW) + "needle" + "y" * (3 * SOURCE_WINDOW)
    start = 3 * SOURCE_WINDOW
    page = source_page_html("big.txt", "big", text, start, start + 6, [(start, start + 6)])
    assert len(page) < 2.5 * SOURCE_WINDOW and "characters before" in page and "more characters" in page
    full = source_page_html("big.txt", "big", text, start, start + 6, [(start, start + 6)], full=True)
    assert len(full) > len(text)


@pytest.mark.parametrize("start, end", [(-5, 3), (40, 10_000), (100, 200)])
def test_source_page_clamps_offsets(start, end):
    page = source_page_html("a.txt", "A", DOC, start, end, [(start, end)])
    assert 'id="excerpt"' in page


def test_source_url_is_relative_and_encoded():
    assert source_url(CITATION).startswith("source?doc=dir%2Fa%26b.txt&")
