"""Turn answers and documents into Markdown and HTML for browsers.

Document text is always escaped: a document holding ``<script>``,
``<img onerror=…>`` or ``[x](javascript:…)`` shows those characters and
nothing more. Links point to the source view relative to the page, so they
keep working under a reverse-proxy prefix.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

from assistant.answering.answer import Answer, Citation, ShortAnswer, one_line

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$<&])")

# Beyond this many characters on either side of an excerpt the source view
# shows a link instead of the text, so a huge document stays responsive.
SOURCE_WINDOW = 100_000


def escape_markdown(text: str) -> str:
    """Text that Markdown renders as itself, with no links, markup or HTML.

    >>> escape_markdown("[x](javascript:alert(1)) <b>")
    '\\\\[x\\\\]\\\\(javascript:alert\\\\(1\\\\)\\\\) &lt;b&gt;'
    """
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return escaped.replace("\\<", "&lt;").replace("\\>", "&gt;").replace("\\&", "&amp;")


def answer_span(citation: Citation, short: ShortAnswer | None) -> tuple[int, int] | None:
    """The short answer's document offsets when it stands in ``citation``'s excerpt.

    >>> c = Citation(1, "d.txt", 10, 40, "x", 1.0, 12, 18)
    >>> answer_span(c, ShortAnswer("Dong", "d.txt", 14, 18)), answer_span(c, ShortAnswer("Dong", "e.txt", 14, 18))
    ((14, 18), None)
    """
    if short is None or short.source != citation.source or not citation.start <= short.start < short.end <= citation.end:
        return None
    return short.start, short.end


def source_url(citation: Citation, base: str = "", short: ShortAnswer | None = None) -> str:
    """Relative link to the source view of a citation, scrolled to the excerpt,
    with every highlighted sentence (``h``, after the first as ``hs``/``he``)
    and the words that answer (``a``) when the short answer stands in it.

    >>> c = Citation(1, "a b.txt", 10, 40, "x", 1.0, 12, 18, highlights=((12, 18), (20, 30)))
    >>> source_url(c)
    'source?doc=a+b.txt&start=10&end=40&hs=12&he=18&h=20-30#excerpt'
    >>> source_url(c, short=ShortAnswer("ab", "a b.txt", 14, 16))
    'source?doc=a+b.txt&start=10&end=40&hs=12&he=18&h=20-30&a=14-16#excerpt'
    """
    span = answer_span(citation, short)
    query = urlencode([("doc", citation.source), ("start", citation.start), ("end", citation.end),
                       ("hs", citation.highlight_start), ("he", citation.highlight_end),
                       *(("h", f"{a}-{b}") for a, b in citation.highlights[1:]),
                       *([("a", f"{span[0]}-{span[1]}")] if span else [])])
    return f"{base}source?{query}#excerpt"


def highlight_spans(values: list[str]) -> list[tuple[int, int]]:
    """``h`` parameters of a source link as spans; malformed ones are left out.

    >>> highlight_spans(["20-30", "x", "5-2", "7-9"])
    [(20, 30), (7, 9)]
    """
    spans = []
    for value in values:
        a, _, b = value.partition("-")
        if a.isdigit() and b.isdigit() and int(a) < int(b):
            spans.append((int(a), int(b)))
    return spans


def answer_sentences(answer: Answer) -> list[tuple[str, list[Citation]]]:
    """The quoted sentences of an answer, each with the citations it rests on."""
    by_n = {c.n: c for c in answer.citations}
    return [(q.text, [by_n[n] for n in q.citations]) for q in answer.sentences()]


def answer_markdown_parts(answer: Answer, base: str = "") -> list[str]:
    """The answer for the chat, a piece per sentence: escaped, with its linked [n]."""
    if answer.abstained:
        return [escape_markdown(answer.text) + " Try rephrasing, or ask about something the documents cover."]
    parts: list[str] = []
    short = one_line(answer.short_answer.text) if answer.short_answer else ""
    for sentence, cited in answer_sentences(answer):
        links = " ".join(
            f'[\\[{c.n}\\]]({source_url(c, base, answer.short_answer)} "{escape_markdown(c.source).replace(chr(34), "&quot;")}")'
            for c in cited)
        text = escape_markdown(sentence)
        if short and short in sentence:  # the words that answer, in bold where they are quoted (once)
            text = text.replace(escape_markdown(short), f"**{escape_markdown(short)}**", 1)
            parts.insert(0, f"**{escape_markdown(short)}**\n\n")
            short = ""
        parts.append(f"{text} {links}")
    return parts


def answer_markdown(answer: Answer, base: str = "") -> str:
    """The answer for the chat: escaped sentences, each with a linked [n].

    >>> a = Answer("q", "It rained. [1]", False, (Citation(1, "d.txt", 0, 10, "It rained.", 1.0, 0, 10),))
    >>> answer_markdown(a)
    'It rained\\\\. [\\\\[1\\\\]](source?doc=d.txt&start=0&end=10&hs=0&he=10#excerpt "d\\\\.txt")'
    """
    return " ".join(answer_markdown_parts(answer, base))


def marked(text: str, offset: int, spans, css_class: str = "", answer: tuple[int, int] | None = None) -> str:
    """``text`` (which starts at document offset ``offset``) escaped, with each
    of ``spans`` (document offsets) in a ``<mark>``, and the words that
    answer (``answer``, document offsets) in a ``<strong class="answer">``
    inside theirs.

    >>> marked("A <b>. B c. D.", 10, [(22, 24), (10, 16)])
    '<mark>A &lt;b&gt;.</mark> B c. <mark>D.</mark>'
    >>> marked("Singh met Dong Jun.", 0, [(0, 19)], answer=(10, 18))
    '<mark>Singh met <strong class="answer">Dong Jun</strong>.</mark>'
    """
    out, at = [], 0
    inner = (answer[0] - offset, answer[1] - offset) if answer else None
    for a, b in sorted((max(0, a - offset), min(len(text), b - offset)) for a, b in spans):
        if a < at or a >= b:
            continue
        opening = f'<mark class="{css_class}">' if css_class else "<mark>"
        words = html.escape(text[a:b])
        if inner and a <= inner[0] < inner[1] <= b:
            words = (html.escape(text[a:inner[0]]) + '<strong class="answer">' + html.escape(text[inner[0]:inner[1]])
                     + "</strong>" + html.escape(text[inner[1]:b]))
        out += [html.escape(text[at:a]), opening, words, "</mark>"]
        at = b
    return "".join(out) + html.escape(text[at:])


def excerpt_html(citation: Citation) -> str:
    """The excerpt with its answering sentences in <mark>, all text escaped.

    >>> excerpt_html(Citation(1, "d", 0, 12, "A <b>. B c.", 1.0, 0, 6))
    '<mark>A &lt;b&gt;.</mark> B c.'
    """
    return marked(citation.text, citation.start, citation.highlights)


def cards_html(answer: Answer | None, base: str = "") -> str:
    """The sources panel: one card per citation, each linking to the source view."""
    if answer is None:
        return '<div class="askdoc-sources-empty">Sources of the latest answer appear here.</div>'
    if answer.abstained or not answer.citations:
        return '<div class="askdoc-sources-empty">No sources: the documents don\'t cover this question.</div>'
    cards = []
    for c in answer.citations:
        page = f" · {c.place}" if c.place else ""
        cards.append(
            f'<a class="askdoc-card" href="{html.escape(source_url(c, base, answer.short_answer))}" '
            f'target="askdoc-source" '
            f'data-n="{c.n}">'
            f'<div class="askdoc-card-head"><span class="askdoc-n">[{c.n}]</span> '
            f'<span class="askdoc-doc">{html.escape(c.source)}{page}</span>'
            f'<span class="askdoc-score">score {c.score:.2f}</span></div>'
            f'<div class="askdoc-excerpt">{excerpt_html(c)}</div></a>'
        )
    return '<div class="askdoc-cards">' + "".join(cards) + "</div>"


SOURCE_CSS = """
body { font: 16px/1.6 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #fff; }
header { position: sticky; top: 0; background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: .5rem 1rem; font-size: .9rem; }
main { padding: 1rem 1.25rem 40vh; white-space: pre-wrap; word-wrap: break-word; max-width: 60rem; }
mark.excerpt { background: #fff3bf; padding: .1em 0; }
mark.sentence { background: #ffd43b; font-weight: 600; }
strong.answer { font-weight: 800; text-decoration: underline 2px; }
.more { display: block; color: #57606a; font-style: italic; margin: .5rem 0; }
"""


def source_page_html(doc_id: str, title: str, text: str, start: int, end: int, highlights: list[tuple[int, int]],
                     page: int | None = None, full: bool = False, original_url: str = "",
                     answer: tuple[int, int] | None = None) -> str:
    """A standalone page with the whole document, the excerpt marked and
    scrolled to (``#excerpt``), the answering sentences marked inside it and
    the words that answer (``answer``) in bold inside theirs;
    ``original_url`` links to the PDF's own page view."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    begin = 0 if full else max(0, start - SOURCE_WINDOW)
    finish = len(text) if full else min(len(text), end + SOURCE_WINDOW)
    e = html.escape
    body = (
        (f'<span class="more">… {begin:,} characters before this point are not shown.</span>' if begin else "")
        + e(text[begin:start])
        + f'<mark class="excerpt" id="excerpt">{marked(text[start:end], start, highlights, "sentence", answer)}</mark>'
        + e(text[end:finish])
        + (f'<span class="more">… {len(text) - finish:,} more characters are not shown.</span>' if finish < len(text) else "")
    )
    where = f" · page {page}" if page else ""
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{e(title)} — askdoc</title><style>{SOURCE_CSS}</style></head>"
        f"<body><header><strong>{e(doc_id)}</strong>{where} · characters {start:,}–{end:,}"
        + (f' · <a id="askdoc-original" href="{e(original_url)}">original page</a>' if original_url else "")
        + "</header>"
        f"<main>{body}</main></body></html>"
    )


PDF_CSP = ("default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
           "font-src 'self' data: blob:; style-src 'self' 'unsafe-inline'")


def pdf_page_html(doc_id: str, title: str, page: int, sentences: list[str], text_url: str) -> str:
    """The cited page of a PDF, drawn by PDF.js with the cited sentences
    marked on its text layer (``static/pdf/pdfview.mjs``), and a link to the
    text view. Every value is escaped; the page runs no inline script."""
    import json

    e = html.escape
    config = json.dumps({"file": "document?" + urlencode([("doc", doc_id)]), "page": page, "sentences": sentences})
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{e(title)} — askdoc</title><link rel=\"stylesheet\" href=\"pdf-assets/pdfview.css\"></head>"
        f"<body><header><strong>{e(doc_id)}</strong> · <span id=\"askdoc-pages\">page {page}</span> · "
        f"<a id=\"askdoc-text-view\" href=\"{e(text_url)}\">text view</a> <span id=\"askdoc-status\"></span></header>"
        f"<div id=\"askdoc-pdf\" data-config=\"{e(config)}\"><div id=\"askdoc-page\"><canvas></canvas>"
        "<div class=\"textLayer\"></div></div></div>"
        "<script type=\"module\" src=\"pdf-assets/pdfview.mjs\"></script></body></html>"
    )
